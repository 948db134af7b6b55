#!/bin/sh
# feature-flags.sh — gonogo plugin (JSON result): are the feature flags this deploy's code uses defined?
#
# Why it matters for a deploy: during a rolling update the new code runs next to the old code and
# starts evaluating its feature flags the moment its first pod is ready. A flag that the code asks for
# but that nobody defined in the flags file is "off" (or whatever the code's default is) everywhere, and
# no one can switch it: the feature's behaviour in production is decided by a default in the code, not
# by a decision. The reverse, a flag defined but read by no code, is a dead switch: harmless today,
# confusing during an incident ("I turned it off, why did nothing change?").
#
# Usage (as a gonogo plugin; relative paths are relative to the project root, the working directory):
#   plugins:
#     - {name: feature-flags, run: ["checks/feature-flags.sh", "config/flags.yaml", "src"], timeout: 10s}
# Arguments: FLAGS_FILE CODE_DIR... (no CODE_DIR: the whole project, ".")
#
# FLAGS_FILE is YAML with a top-level `flags:` map, one flag per key at the first indentation level:
#   flags:
#     new-checkout-flow:
#       enabled: true
#     "pricing.v2": {enabled: false}
# Code references found in CODE_DIRs (every text file; .git, node_modules and .venv are skipped):
#   flag("name")   flag('name')   is_enabled("name")   is_enabled('name')
# also as methods (flags.flag("x"), client.is_enabled('x')) and with extra arguments (flag("x", False)).
# Names built at run time (flag(prefix + "x")) cannot be checked and are ignored.
#
# Result: a JSON CheckResult on stdout (see checks/PROTOCOL.md), exit status 0.
#   rule undefined-flag (warn)  one finding per reference to a flag that FLAGS_FILE does not define
#   rule unused-flag   (info)   one finding per flag in FLAGS_FILE that no code references
# Status: warn when any flag is undefined, else pass; error when FLAGS_FILE or a CODE_DIR is unreadable.
# Try it by hand:  echo '{}' | checks/feature-flags.sh config/flags.yaml src
#
# POSIX sh and awk only (tested with dash and mawk); uses find, grep, awk, cat.

set -u
LC_ALL=C
export LC_ALL

# The run's context arrives as JSON on stdin. This plugin takes its settings from its arguments, so
# the context is read and discarded (unless stdin is a terminal, when run by hand).
if [ ! -t 0 ]; then
    cat >/dev/null
fi

# error SUMMARY: print an `error` CheckResult and stop.
error() {
    FF_MSG=$1 awk '
        function jesc(s,   out, i, c, o) {
            out = ""
            for (i = 1; i <= length(s); i++) {
                c = substr(s, i, 1)
                if (c == "\\") out = out "\\\\"
                else if (c == "\"") out = out "\\\""
                else if (c == "\n") out = out "\\n"
                else if (c == "\t") out = out "\\t"
                else if (c < " ") out = out "?"
                else out = out c
            }
            return out
        }
        BEGIN {
            printf "{\"status\": \"error\", \"summary\": \"%s\", \"findings\": []}\n", jesc(ENVIRON["FF_MSG"])
        }'
    exit 0
}

if [ $# -lt 1 ]; then
    error "usage: feature-flags.sh FLAGS_FILE [CODE_DIR...] (set the arguments in the plugin's run: array)"
fi

FF_FILE=$1
shift
if [ $# -eq 0 ]; then
    set -- .
fi

if [ ! -e "$FF_FILE" ]; then
    error "cannot read flags file $FF_FILE: no such file"
elif [ -d "$FF_FILE" ]; then
    error "cannot read flags file $FF_FILE: is a directory"
elif [ ! -r "$FF_FILE" ]; then
    error "cannot read flags file $FF_FILE: permission denied"
fi

FF_DIRS=""
for d in "$@"; do
    if [ ! -e "$d" ]; then
        error "cannot read code directory $d: no such file or directory"
    elif [ ! -r "$d" ]; then
        error "cannot read code directory $d: permission denied"
    fi
    FF_DIRS="${FF_DIRS:+$FF_DIRS, }$d"
done

FF_ROOT=$(pwd)
export FF_FILE FF_DIRS FF_ROOT

# Candidate files: text files (-I) with at least one call that looks like a flag reference. The awk
# program below re-scans them line by line; the names are passed one per line on its stdin.
FF_PATTERN="(^|[^A-Za-z0-9_])(flag|is_enabled)[[:space:]]*\\([[:space:]]*[\"']"

FF_PROGRAM=$(cat <<'EOF'
# ---- helpers --------------------------------------------------------------------------------------
function init_ord(   i) {
    for (i = 1; i < 256; i++) ORD[sprintf("%c", i)] = i
}

# JSON string body: escapes " and \, control characters; invalid UTF-8 becomes U+FFFD so the output
# is always valid UTF-8 whatever the encoding of the scanned files.
function jesc(s,   out, i, n, c, o, need, ok, k, b, b2) {
    out = ""
    n = length(s)
    i = 1
    while (i <= n) {
        c = substr(s, i, 1)
        o = ORD[c] + 0
        if (c == "\"") out = out "\\\""
        else if (c == "\\") out = out "\\\\"
        else if (o < 32 || o == 127) {
            if (o == 8) out = out "\\b"
            else if (o == 9) out = out "\\t"
            else if (o == 10) out = out "\\n"
            else if (o == 12) out = out "\\f"
            else if (o == 13) out = out "\\r"
            else out = out sprintf("\\u%04x", o)
        } else if (o < 128) out = out c
        else {
            need = -1
            if (o >= 194 && o <= 223) need = 1
            else if (o >= 224 && o <= 239) need = 2
            else if (o >= 240 && o <= 244) need = 3
            ok = (need > 0 && i + need <= n)
            for (k = 1; ok && k <= need; k++) {
                b = ORD[substr(s, i + k, 1)] + 0
                if (b < 128 || b > 191) ok = 0
            }
            if (ok) {
                b2 = ORD[substr(s, i + 1, 1)] + 0
                if ((o == 224 && b2 < 160) || (o == 237 && b2 >= 160) || \
                    (o == 240 && b2 < 144) || (o == 244 && b2 >= 144)) ok = 0
            }
            if (ok) {
                out = out substr(s, i, need + 1)
                i += need + 1
                continue
            }
            out = out "\\ufffd"
        }
        i++
    }
    return out
}

# 1-based column in characters (not bytes) of byte offset pos in s.
function charcol(s, pos,   i, col, o) {
    col = 1
    for (i = 1; i < pos; i++) {
        o = ORD[substr(s, i, 1)] + 0
        if (o < 128 || o > 191) col++
    }
    return col
}

function trim(s) {
    sub(/^[ \t]+/, "", s)
    sub(/[ \t\r]+$/, "", s)
    return s
}

# Evidence: the trimmed line, at most 200 bytes, never cut inside a UTF-8 sequence.
function evidence(s,   cut, o) {
    s = trim(s)
    if (length(s) <= 200) return s
    cut = 200
    while (cut > 1) {
        o = ORD[substr(s, cut + 1, 1)] + 0
        if (o < 128 || o > 191) break
        cut--
    }
    return substr(s, 1, cut) "..."
}

# Paths in findings are relative to the project root (the working directory).
function rel(p,   r) {
    while (substr(p, 1, 2) == "./") p = substr(p, 3)
    gsub(/\/\/+/, "/", p)
    r = ENVIRON["FF_ROOT"]
    if (r != "" && r != "/" && substr(p, 1, length(r) + 1) == r "/") p = substr(p, length(r) + 2)
    r = ENVIRON["GONOGO_ROOT"]
    if (r != "" && r != "/" && substr(p, 1, length(r) + 1) == r "/") p = substr(p, length(r) + 2)
    return p
}

function plural(n, word) {
    return n " " word (n == 1 ? "" : "s")
}

function fatal(msg) {
    if (FATAL == "") FATAL = msg
}

# ---- the flags file ---------------------------------------------------------------------------------
# Reads NAME from the text of a key line (indentation removed); sets KEY_NAME, returns 1 on success.
function parse_key(t,   q, i, c, name) {
    q = substr(t, 1, 1)
    if (q == "\"") {
        name = ""
        for (i = 2; i <= length(t); i++) {
            c = substr(t, i, 1)
            if (c == "\\") { i++; name = name substr(t, i, 1); continue }
            if (c == "\"") break
            name = name c
        }
        if (i > length(t)) return 0
        t = substr(t, i + 1)
    } else if (q == "'") {
        name = ""
        for (i = 2; i <= length(t); i++) {
            c = substr(t, i, 1)
            if (c == "'") {
                if (substr(t, i + 1, 1) == "'") { name = name "'"; i++; continue }
                break
            }
            name = name c
        }
        if (i > length(t)) return 0
        t = substr(t, i + 1)
    } else {
        if (!match(t, /:([ \t]|$)/)) return 0
        name = trim(substr(t, 1, RSTART - 1))
        t = substr(t, RSTART)
    }
    if (t !~ /^[ \t]*:([ \t]|$)/ || name == "") return 0
    KEY_NAME = name
    return 1
}

function read_flags(file,   ln, n, state, content, indent, ind, t, rest) {
    state = 0    # 0: before flags:, 1: inside it, 2: after it
    content = 0
    indent = -1
    n = 0
    while ((getline ln < file) > 0) {
        n++
        sub(/\r$/, "", ln)
        if (ln ~ /^[ \t]*(#|$)/ || ln ~ /^(---|\.\.\.)[ \t]*$/) continue
        content = 1
        if (ln ~ /^[^ \t]/) {
            if (state == 1) state = 2
            if (state == 0 && ln ~ /^flags[ \t]*:([ \t]|$)/) {
                rest = ln
                sub(/^flags[ \t]*:[ \t]*/, "", rest)
                sub(/[ \t]+#.*$/, "", rest)
                sub(/^#.*$/, "", rest)
                if (rest == "{}" || rest == "~" || rest == "null") state = 2
                else if (rest != "") {
                    fatal(FLAGS_REL ":" n ": flags must be a block map with one flag per line (flow style is not supported)")
                    return
                } else state = 1
            }
            continue
        }
        if (state != 1) continue
        match(ln, /^[ \t]*/)
        ind = RLENGTH
        if (indent < 0) indent = ind
        if (ind > indent) continue          # a flag's own settings
        if (ind < indent) {
            fatal(FLAGS_REL ":" n ": inconsistent indentation under flags:")
            return
        }
        t = substr(ln, ind + 1)
        if (substr(t, 1, 1) == "-") {
            fatal(FLAGS_REL ":" n ": flags must be a map (name: settings), not a list")
            return
        }
        if (!parse_key(t)) {
            fatal(FLAGS_REL ":" n ": expected a flag name followed by a colon, got: " evidence(ln))
            return
        }
        if (!(KEY_NAME in DEF_LINE)) {
            NDEF++
            DEF_NAME[NDEF] = KEY_NAME
            DEF_LINE[KEY_NAME] = n
            DEF_COL[KEY_NAME] = ind + 1
            DEF_TEXT[KEY_NAME] = ln
        }
    }
    close(file)
    if (content && state == 0)
        fatal(FLAGS_REL ": no top-level flags: key (expected flags: followed by one name: line per flag)")
}

# ---- code references --------------------------------------------------------------------------------
function scan_file(file,   path, ln, n, rest, off, s, l, tok, call, q, name, after, key, i) {
    path = rel(file)
    n = 0
    while ((getline ln < file) > 0) {
        n++
        rest = ln
        off = 0
        while (match(rest, /(^|[^A-Za-z0-9_])(flag|is_enabled)[ \t]*\([ \t]*["']/)) {
            s = RSTART
            l = RLENGTH
            tok = substr(rest, s, l)
            call = (substr(tok, 1, 1) ~ /[fi]/) ? s : s + 1
            q = substr(tok, l, 1)
            after = substr(rest, s + l)
            if (!(i = index(after, q))) {
                off += s + l - 1
                rest = after
                continue
            }
            name = substr(after, 1, i - 1)
            # only a literal name counts: the closing quote is followed by ")" or ","
            if (name != "" && substr(after, i + 1) ~ /^[ \t]*[),]/) {
                key = path SUBSEP n SUBSEP (off + call)
                if (!(key in SEEN)) {
                    SEEN[key] = 1
                    NREF++
                    REF_NAME[NREF] = name
                    REF_PATH[NREF] = path
                    REF_LINE[NREF] = n
                    REF_COL[NREF] = charcol(ln, off + call)
                    REF_TEXT[NREF] = ln
                    if (!(name in USED)) { USED[name] = 1; NUSED++ }
                }
            }
            off += s + l + i - 1
            rest = substr(after, i + 1)
        }
    }
    close(file)
}

# ---- findings ---------------------------------------------------------------------------------------
function add_finding(path, line, col, rule, json) {
    NFIND++
    FKEY[NFIND] = path "\001" sprintf("%012d%012d", line, col) "\001" rule "\001" sprintf("%012d", NFIND)
    FJSON[NFIND] = json
}

function sort_findings(   gap, i, j, t) {
    for (i = 1; i <= NFIND; i++) ORDER[i] = i
    for (gap = int(NFIND / 2); gap > 0; gap = int(gap / 2))
        for (i = gap + 1; i <= NFIND; i++) {
            t = ORDER[i]
            for (j = i; j > gap && FKEY[ORDER[j - gap]] > FKEY[t]; j -= gap) ORDER[j] = ORDER[j - gap]
            ORDER[j] = t
        }
}

function location(path, line, col) {
    return "{\"path\": \"" jesc(path) "\", \"line\": " line ", \"column\": " col "}"
}

BEGIN {
    init_ord()
    FATAL = ""
    NDEF = 0; NREF = 0; NUSED = 0; NFIND = 0
    FLAGS_FILE = ENVIRON["FF_FILE"]
    FLAGS_REL = rel(FLAGS_FILE)
    DIRS = ENVIRON["FF_DIRS"]
    read_flags(FLAGS_FILE)
}

FATAL == "" && $0 != "" { scan_file($0) }

END {
    if (FATAL != "") {
        printf "{\"status\": \"error\", \"summary\": \"%s\", \"findings\": []}\n", jesc(FATAL)
        exit 0
    }
    undefined = 0
    for (r = 1; r <= NREF; r++) {
        name = REF_NAME[r]
        if (name in DEF_LINE) continue
        if (!(name in UNDEF)) { UNDEF[name] = 1; undefined++ }
        json = "{\"rule\": \"undefined-flag\", \"severity\": \"warn\", " \
            "\"message\": \"" jesc("flag \"" name "\" is used here but not defined in " FLAGS_REL \
                ": while this version rolls out, the new code evaluates a flag nobody has configured " \
                "and silently takes its default branch, so the feature's behaviour in production is " \
                "decided by a default in the code instead of by a switch you control") "\", " \
            "\"location\": " location(REF_PATH[r], REF_LINE[r], REF_COL[r]) ", " \
            "\"evidence\": \"" jesc(evidence(REF_TEXT[r])) "\", " \
            "\"fix\": \"" jesc("add \"" name "\" to " FLAGS_REL " (enabled: false until it is meant " \
                "to be on) and ship the flag definition before or with this code") "\"}"
        add_finding(REF_PATH[r], REF_LINE[r], REF_COL[r], "undefined-flag", json)
    }
    unused = 0
    for (d = 1; d <= NDEF; d++) {
        name = DEF_NAME[d]
        if (name in USED) continue
        unused++
        json = "{\"rule\": \"unused-flag\", \"severity\": \"info\", " \
            "\"message\": \"" jesc("flag \"" name "\" is defined in " FLAGS_REL " but no code in " DIRS \
                " references it: a switch that changes nothing is misleading during an incident") "\", " \
            "\"location\": " location(FLAGS_REL, DEF_LINE[name], DEF_COL[name]) ", " \
            "\"evidence\": \"" jesc(evidence(DEF_TEXT[name])) "\", " \
            "\"fix\": \"" jesc("remove \"" name "\" from " FLAGS_REL " once no running version " \
                "(including the one in production now) reads it, or waive this finding while it is " \
                "kept on purpose") "\"}"
        add_finding(FLAGS_REL, DEF_LINE[name], DEF_COL[name], "unused-flag", json)
    }
    sort_findings()

    status = undefined > 0 ? "warn" : "pass"
    summary = plural(NUSED, "flag") " referenced in code, " undefined " undefined in " FLAGS_REL \
        "; " plural(NDEF, "flag") " defined, " unused " unused"
    printf "{\"status\": \"%s\", \"title\": \"Feature flags\", \"summary\": \"%s\", \"findings\": [", \
        status, jesc(summary)
    for (i = 1; i <= NFIND; i++)
        printf "%s\n  %s", (i > 1 ? "," : ""), FJSON[ORDER[i]]
    printf "%s]}\n", (NFIND > 0 ? "\n" : "")
}
EOF
)

find "$@" \( -name .git -o -name node_modules -o -name .venv \) -prune -o -type f \
    -exec grep -lIE "$FF_PATTERN" {} + 2>/dev/null |
    awk "$FF_PROGRAM"
