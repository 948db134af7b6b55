#!/bin/sh
# deploy-freeze.sh — gonogo plugin (Nagios-style): is today inside a deploy freeze?
#
# Why it matters for a deploy: teams freeze deploys around the moments when an incident would cost the
# most or when nobody is around to handle one: holidays, Black Friday, a quarter's ledger close, a
# migration weekend. The freeze only works if the pipeline knows about it; this check makes the
# calendar a hard "no-go" inside a window and a warning in the days just before one (ship now and you
# may be rolling back during the freeze).
#
# Usage (as a gonogo plugin; the working directory is the project root):
#   plugins:
#     - {name: deploy-freeze, run: ["checks/deploy-freeze.sh", "deploy/freeze.txt"], timeout: 5s}
# Standalone, like any Nagios plugin:  checks/deploy-freeze.sh deploy/freeze.txt; echo "exit $?"
#
# Calendar file: one window per line, both days inclusive; "#" comment lines and blank lines ignored.
#   # start    end        reason
#   2026-12-21 2027-01-04 holiday freeze
# Today is $GONOGO_TODAY (YYYY-MM-DD, set by gonogo) when set, else `date +%F`.
#
# Output and exit status (the Nagios plugin convention, which gonogo maps to pass/warn/fail/error):
#   0 OK        no window today           "OK - no deploy freeze today; next: START reason"
#   1 WARNING   a window starts within 3 days   "WARNING - freeze starts START (in N days): reason"
#   2 CRITICAL  today is inside a window  "CRITICAL - deploy freeze until END: reason"
#   3 UNKNOWN   the calendar is missing or has a malformed line (the line number is named)
# The first line ends with Nagios performance data after "|" (days_to_next_freeze, upcoming_freezes,
# freeze_days_left); the following lines list the active and upcoming windows.
#
# POSIX sh and awk only (tested with dash and mawk; dates are computed in awk, no `date -d` needed).

set -u
LC_ALL=C
export LC_ALL

WARN_DAYS=3

# The run's context arrives as JSON on stdin; this plugin does not need it.
if [ ! -t 0 ]; then
    cat >/dev/null
fi

unknown() {
    printf 'UNKNOWN - %s\n' "$1"
    exit 3
}

if [ $# -lt 1 ]; then
    unknown "usage: deploy-freeze.sh CALENDAR_FILE"
fi
FILE=$1

if [ ! -e "$FILE" ]; then
    unknown "cannot read $FILE: no such file"
elif [ -d "$FILE" ]; then
    unknown "cannot read $FILE: is a directory"
elif [ ! -r "$FILE" ]; then
    unknown "cannot read $FILE: permission denied"
fi

TODAY=${GONOGO_TODAY:-}
if [ -z "$TODAY" ]; then
    TODAY=$(date +%F) || unknown "cannot determine today's date"
fi

FREEZE_FILE=$FILE FREEZE_TODAY=$TODAY FREEZE_WARN_DAYS=$WARN_DAYS awk '
# Days since a fixed epoch (proleptic Gregorian calendar), so differences are day counts.
function daynum(y, m, d) {
    if (m <= 2) { y--; m += 12 }
    return 365 * y + int(y / 4) - int(y / 100) + int(y / 400) + int((153 * (m - 3) + 2) / 5) + d
}

# Sets DAY to the day number of a YYYY-MM-DD string; returns 0 when it is not a real date.
function parse_date(s,   y, m, d, dim) {
    if (s !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/) return 0
    y = substr(s, 1, 4) + 0; m = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0
    if (m < 1 || m > 12 || d < 1) return 0
    dim = substr("312831303130313130313031", 2 * m - 1, 2) + 0
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) dim = 29
    if (d > dim) return 0
    DAY = daynum(y, m, d)
    return 1
}

function unknown(msg) {
    print "UNKNOWN - " msg
    STATUS = 3
    exit 3
}

# Parses one of the two dates of calendar line n (text ln) into DAY, or stops with UNKNOWN.
function check_date(s, ln, n) {
    if (s !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/)
        unknown("cannot read " FILE ": line " n ": expected \"YYYY-MM-DD YYYY-MM-DD reason\", got \"" ln "\"")
    if (!parse_date(s))
        unknown("cannot read " FILE ": line " n ": " s " is not a calendar date")
}

function days(n) {
    return n " day" (n == 1 ? "" : "s")
}

BEGIN {
    FILE = file = ENVIRON["FREEZE_FILE"]
    today_s = ENVIRON["FREEZE_TODAY"]
    warn_days = ENVIRON["FREEZE_WARN_DAYS"] + 0
    STATUS = 0
    if (!parse_date(today_s)) unknown("invalid date for today: \"" today_s "\" (expected YYYY-MM-DD)")
    today = DAY

    n = 0; count = 0
    while ((rc = getline ln < file) > 0) {
        n++
        sub(/\r$/, "", ln)
        if (ln ~ /^[ \t]*(#|$)/) continue
        split(ln, f, /[ \t]+/)
        if (ln ~ /^[ \t]/) { f[1] = f[2]; f[2] = f[3] }
        check_date(f[1], ln, n)
        start = DAY
        check_date(f[2], ln, n)
        end = DAY
        if (end < start) unknown("cannot read " file ": line " n ": the freeze ends (" f[2] ") before it starts (" f[1] ")")
        reason = ln
        sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]*/, "", reason)
        sub(/[ \t]+$/, "", reason)
        gsub(/\|/, "/", reason)     # "|" starts performance data in Nagios output
        if (reason == "") reason = "(no reason given)"
        count++
        S[count] = start; E[count] = end; SS[count] = f[1]; ES[count] = f[2]; R[count] = reason
    }
    if (rc < 0) unknown("cannot read " file)
    close(file)

    # windows in start order (file order for equal starts), insertion sort: calendars are short
    for (i = 1; i <= count; i++) O[i] = i
    for (i = 2; i <= count; i++) {
        t = O[i]
        for (j = i; j > 1 && S[O[j - 1]] > S[t]; j--) O[j] = O[j - 1]
        O[j] = t
    }

    active = 0; next_ = 0; upcoming = 0
    for (k = 1; k <= count; k++) {
        i = O[k]
        if (S[i] <= today && today <= E[i]) {
            if (!active || E[i] > E[active]) active = i
        } else if (S[i] > today) {
            upcoming++
            if (!next_) next_ = i
        }
    }

    if (active) {
        left = E[active] - today + 1
        printf "CRITICAL - deploy freeze until %s: %s | days_to_next_freeze=0 freeze_days_left=%d upcoming_freezes=%d\n", \
            ES[active], R[active], left, upcoming
        STATUS = 2
    } else if (next_ && S[next_] - today <= warn_days) {
        printf "WARNING - freeze starts %s (in %s): %s | days_to_next_freeze=%d upcoming_freezes=%d\n", \
            SS[next_], days(S[next_] - today), R[next_], S[next_] - today, upcoming
        STATUS = 1
    } else if (next_) {
        printf "OK - no deploy freeze today; next: %s %s | days_to_next_freeze=%d upcoming_freezes=%d\n", \
            SS[next_], R[next_], S[next_] - today, upcoming
    } else {
        printf "OK - no freeze scheduled | upcoming_freezes=0\n"
    }

    # long output: the windows that matter from today on
    shown = 0
    for (k = 1; k <= count; k++) {
        i = O[k]
        if (S[i] <= today && today <= E[i])
            printf "active: %s to %s (%s left, today included): %s\n", SS[i], ES[i], days(E[i] - today + 1), R[i]
    }
    for (k = 1; k <= count && shown < 5; k++) {
        i = O[k]
        if (S[i] > today) {
            printf "upcoming: %s to %s (in %s): %s\n", SS[i], ES[i], days(S[i] - today), R[i]
            shown++
        }
    }
    if (upcoming > shown) printf "... and %d more upcoming\n", upcoming - shown
    exit STATUS
}
'
