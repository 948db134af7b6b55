//! The subcommands: each takes parsed arguments and returns the process exit code. Errors that
//! mean "nothing was checked" are [`UsageError`]s, printed by `main` with exit code 2.

use crate::checks::{self, Check};
use crate::cli::{CheckArgs, Command};
use crate::config::{self, Config};
use crate::context::{self, Context};
use crate::plugins::PluginCheck;
use crate::report::{self, RenderOptions, Report, ReportMeta, RuleCatalog, RuleInfo};
use crate::runner::{self, Selection};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

/// Bad arguments or config: exit 2, nothing checked.
#[derive(Debug)]
pub struct UsageError(pub String);

impl From<config::ConfigError> for UsageError {
    fn from(err: config::ConfigError) -> Self {
        UsageError(err.to_string())
    }
}

pub fn run(command: Command) -> Result<i32, UsageError> {
    // An error message may quote a config value or a connection string: mask it like a report.
    run_command(command).map_err(|UsageError(message)| UsageError(crate::secrets::redact(&message)))
}

fn run_command(command: Command) -> Result<i32, UsageError> {
    match command {
        Command::Check(args) => check(args),
        Command::Explain { id, dir } => explain(&id, &dir),
        Command::List {
            dir,
            config,
            format,
        } => list(&dir, config.as_deref(), &format),
        Command::Init { dir, force, stdout } => crate::init::run(&dir, force, stdout),
        Command::Calibrate {
            dir,
            config,
            rows,
            write,
        } => calibrate(&dir, config.as_deref(), rows, write),
        Command::Completions { shell } => {
            let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "gonogo", &mut std::io::stdout());
            Ok(0)
        }
    }
}

/// The config for a project directory: explicit `--config`, or discovered.
pub struct LoadedConfig {
    pub root: PathBuf,
    pub config: Config,
    /// As shown in reports: relative to the root when inside it.
    pub shown_path: Option<String>,
}

pub fn load_config(dir: &Path, explicit: Option<&Path>) -> Result<LoadedConfig, UsageError> {
    let dir = dir.canonicalize().map_err(|e| {
        UsageError(format!(
            "{}: cannot use this project directory: {}",
            dir.display(),
            e.kind().to_string().replace('_', " ")
        ))
    })?;
    if !dir.is_dir() {
        return Err(UsageError(format!(
            "{}: is a file; expected the project directory (use --config for a config file)",
            dir.display()
        )));
    }
    let (root, path) = match explicit {
        Some(path) => (dir.clone(), Some(path.to_path_buf())),
        None => match config::discover(&dir) {
            Some(found) => (
                found.parent().map(Path::to_path_buf).unwrap_or(dir.clone()),
                Some(found),
            ),
            None => (dir.clone(), None),
        },
    };
    let Some(path) = path else {
        return Ok(LoadedConfig {
            root,
            config: Config::default(),
            shown_path: None,
        });
    };
    let absolute = if path.is_absolute() {
        path.clone()
    } else if explicit.is_some() {
        std::env::current_dir().unwrap_or_default().join(&path)
    } else {
        path.clone()
    };
    let shown = match absolute.canonicalize() {
        Ok(canonical) if canonical.starts_with(&root) => {
            context::relative_display(&root, &canonical)
        }
        _ => path.display().to_string(),
    };
    let config = config::load(&absolute, &shown)?;
    Ok(LoadedConfig {
        root,
        config,
        shown_path: Some(shown),
    })
}

/// Every check this config could run, in report order: built-ins, then plugins as declared.
fn all_checks(config: &Config) -> Vec<Box<dyn CheckRef>> {
    let mut list: Vec<Box<dyn CheckRef>> = checks::BUILT_IN
        .iter()
        .map(|c| Box::new(*c) as Box<dyn CheckRef>)
        .collect();
    for plugin in &config.checks.plugins {
        list.push(Box::new(PluginCheck::new(plugin.clone())));
    }
    list
}

/// Built-in checks are `&'static`, plugins are owned; both lend a `&dyn Check`.
trait CheckRef {
    fn get(&self) -> &dyn Check;
}
impl CheckRef for &'static dyn Check {
    fn get(&self) -> &dyn Check {
        *self
    }
}
impl CheckRef for PluginCheck {
    fn get(&self) -> &dyn Check {
        self
    }
}

fn validate_ids(ids: &[String], known: &[String], flag: &str) -> Result<(), UsageError> {
    for id in ids {
        if id == "plugin" || known.contains(id) {
            continue;
        }
        let candidates: Vec<&str> = known.iter().map(String::as_str).collect();
        let hint = config::nearest(id, &candidates)
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        let known_list = if known.is_empty() {
            "none are configured".to_string()
        } else {
            format!("known: {}", known.join(", "))
        };
        return Err(UsageError(format!(
            "{flag}: unknown check `{id}`{hint} ({known_list})"
        )));
    }
    Ok(())
}

fn check(args: CheckArgs) -> Result<i32, UsageError> {
    let started_wall = SystemTime::now();
    let started = Instant::now();
    let loaded = load_config(&args.dir, args.config.as_deref())?;

    let available = all_checks(&loaded.config);
    let known_ids: Vec<String> = available.iter().map(|c| c.get().id().to_string()).collect();
    validate_ids(&args.only, &known_ids, "--only")?;
    validate_ids(&args.skip, &known_ids, "--skip")?;
    for (format, file) in &args.output {
        let parent = file.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent.filter(|p| !p.is_dir()) {
            return Err(UsageError(format!(
                "--output {}={}: directory {} does not exist",
                format.name(),
                file.display(),
                parent.display()
            )));
        }
    }

    let repo = crate::git::Repo::discover(&loaded.root);
    let (base, base_from_tag) =
        context::resolve_base(args.base.as_deref(), &loaded.config, repo.as_ref());
    if let Some(base) = base.as_ref().filter(|_| !base_from_tag) {
        match &repo {
            Some(repo) if !repo.resolves(base) => {
                return Err(UsageError(format!(
                    "base `{base}` is not a commit in {}: {}",
                    repo.top.display(),
                    repo.missing_ref_hint()
                )));
            }
            None => {
                return Err(UsageError(format!(
                    "base `{base}` was given but {} is not inside a git repository",
                    loaded.root.display()
                )));
            }
            _ => {}
        }
    }
    let head = repo.as_ref().and_then(|r| r.head.clone());
    let deadline = args
        .deadline
        .or(loaded.config.deadline.map(|d| d.0))
        .unwrap_or(DEFAULT_DEADLINE);

    let selection = Selection {
        only: args.only.clone(),
        skip: args.skip.clone(),
    };
    let ctx = Arc::new(Context {
        root: loaded.root.clone(),
        config: loaded.config,
        config_path: loaded.shown_path.clone(),
        repo,
        base: base.clone(),
        head: head.clone(),
        offline: args.offline,
        checks: available
            .iter()
            .map(|c| c.get().id().to_string())
            .filter(|id| selection.includes(id))
            .collect(),
        today: crate::date::Date::today(),
        deadline,
        kubernetes: Default::default(),
        kubernetes_base: Default::default(),
        migrations: Default::default(),
    });
    let selected: Vec<&dyn Check> = available
        .iter()
        .map(|c| c.get())
        .filter(|c| selection.includes(c.id()))
        .collect();
    if selected.is_empty() {
        return Err(UsageError(format!(
            "nothing to check: --only {} --skip {} leaves no check to run",
            if args.only.is_empty() {
                "(all)".to_string()
            } else {
                args.only.join(",")
            },
            args.skip.join(",")
        )));
    }
    if loaded.shown_path.is_none() {
        eprintln!(
            "gonogo: no gonogo.yaml in {} or its parents up to the git root; running what needs no config (`gonogo init` writes one)",
            loaded.root.display()
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| UsageError(format!("cannot start the async runtime: {e}")))?;
    let progress = Arc::new(runner::Progress::default());
    let spinner = std::io::stderr()
        .is_terminal()
        .then(|| runtime.spawn(spin(Arc::clone(&progress))));
    let mut results = runtime.block_on(runner::run_checks(
        selected,
        Arc::clone(&ctx),
        Arc::clone(&progress),
    ));
    if let Some(spinner) = spinner {
        spinner.abort();
        // Erase the spinner's line.
        eprint!("\r\x1b[2K");
    }
    // A check stuck in blocking code must not hold the process past its deadline.
    runtime.shutdown_timeout(Duration::from_millis(200));

    // Before the waivers' own bookkeeping is added: that is not a check of the deploy.
    let nothing_checked = nothing_checked(&results, loaded.shown_path.is_some());
    if let Some(bookkeeping) = crate::waivers::apply(
        &mut results,
        &ctx.config.waivers,
        &ctx.root,
        ctx.config_path.as_deref(),
        ctx.today,
    ) {
        results.push(bookkeeping);
    }
    let mut report = Report::new(
        ReportMeta {
            strict: args.strict,
            base,
            head,
            config: loaded.shown_path,
            started_at: crate::date::rfc3339(started_wall),
        },
        results,
        started.elapsed().as_millis() as u64,
    );

    if nothing_checked.is_some() {
        report.verdict = report::Verdict::NothingChecked;
    }

    let stdout_is_terminal = std::io::stdout().is_terminal();
    let repo_prefix = ctx
        .repo
        .as_ref()
        .map(|repo| repo_prefix(&repo.top, &ctx.root))
        .unwrap_or_default();
    let docs_url = ctx.config.docs_url.as_ref().map(|u| u.value.clone());
    let terminal_options = RenderOptions {
        color: args.color.use_color(stdout_is_terminal),
        width: terminal_width(stdout_is_terminal),
        markdown_max_chars: args.markdown_max_chars,
        quiet: args.quiet,
        repo_prefix: repo_prefix.clone(),
        docs_url: docs_url.clone(),
    };
    let file_options = RenderOptions {
        color: false,
        width: report::DEFAULT_WIDTH,
        markdown_max_chars: args.markdown_max_chars,
        quiet: args.quiet,
        repo_prefix,
        docs_url,
    };
    let catalog = rule_catalog();
    let mut lost = Vec::new();
    for (format, file) in &args.output {
        let text = report::render(&report, *format, &file_options, &catalog);
        if let Err(e) = std::fs::write(file, text) {
            lost.push(format!("{}: {}", file.display(), io_reason(&e)));
        }
    }
    let text = report::render(&report, args.format, &terminal_options, &catalog);
    let mut stdout = std::io::stdout().lock();
    // A report that did not arrive (a full disk, `gonogo check | head` closing the pipe early)
    // cannot gate anything: exit 2 with the reason rather than a code that reads as a verdict.
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        lost.push(format!("stdout: {}", io_reason(&e)));
    }
    if !lost.is_empty() {
        return Err(UsageError(format!(
            "the report could not be written ({}); the verdict was {}",
            lost.join("; "),
            report.verdict.as_str()
        )));
    }
    // The report is out (every skip with its reason, for scripts); the exit code and stderr
    // say that it decided nothing.
    if let Some(reason) = nothing_checked {
        return Err(UsageError(reason));
    }
    Ok(report.verdict.exit_code())
}

/// Write a command's text to standard output. A reader that stopped reading (`gonogo list |
/// head`) is not an error: the command ends quietly, as Unix tools do. Any other failure to
/// write is the command's error, not a panic.
pub fn print_text(text: &str) -> Result<(), UsageError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(UsageError(format!(
            "could not write to standard output: {}",
            io_reason(&e)
        ))),
        _ => Ok(()),
    }
}

/// An I/O error as a sentence, naming the usual causes.
fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::BrokenPipe => {
            "the reader closed the pipe before the report was written".to_string()
        }
        std::io::ErrorKind::StorageFull => "no space left on the device".to_string(),
        _ => error.to_string(),
    }
}

/// The project root relative to the repository's top, with a trailing `/`; empty when they are
/// the same (or unrelated, e.g. through a symlink git resolved differently).
fn repo_prefix(top: &Path, root: &Path) -> String {
    let top = top.canonicalize().unwrap_or_else(|_| top.to_path_buf());
    match root.strip_prefix(&top) {
        Ok(relative) if !relative.as_os_str().is_empty() => {
            format!("{}/", relative.to_string_lossy().replace('\\', "/"))
        }
        _ => String::new(),
    }
}

/// Columns for the table: `COLUMNS` when set (the user's word, and how tests fix it), else the
/// terminal's real width when stdout is one (bash sets COLUMNS but does not export it), else
/// [`report::DEFAULT_WIDTH`].
fn terminal_width(stdout_is_terminal: bool) -> u16 {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|&c| c > 0)
    {
        return columns;
    }
    if stdout_is_terminal && let Some(columns) = stdout_columns() {
        return columns;
    }
    report::DEFAULT_WIDTH
}

/// The width of the terminal on stdout, from the TIOCGWINSZ ioctl (tty_ioctl(4)); `None` when
/// the terminal reports 0 columns (a serial console that was never told its size).
fn stdout_columns() -> Option<u16> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` through the pointer, which points at a live one.
    let result = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    (result == 0 && size.ws_col > 0).then_some(size.ws_col)
}

/// A run whose every check was skipped decided nothing: a gate that says GO on it would go green
/// on a misconfigured project (an empty checkout, a wrong `--only`, `--offline` on live-only
/// checks). The reason lists what each check needs.
fn nothing_checked(results: &[report::CheckResult], has_config: bool) -> Option<String> {
    if results.iter().any(|r| r.status != report::Status::Skip) {
        return None;
    }
    let mut reason = String::from("nothing was checked: every check was skipped");
    for result in results {
        reason.push_str(&format!("\n  {}: {}", result.id, result.summary));
    }
    reason.push_str(if has_config {
        "\nconfigure at least one check in gonogo.yaml (`gonogo explain CHECK` says how), or drop the --only/--skip/--offline that excluded them"
    } else {
        "\nno gonogo.yaml was found and nothing was discovered: `gonogo init` writes a commented one"
    });
    Some(reason)
}

/// The registry's rule metadata, for the renderers that print it (SARIF, JUnit): the report
/// layer sits below the checks and is handed what it shows.
fn rule_catalog() -> RuleCatalog {
    fn info(rule: &checks::Rule) -> RuleInfo {
        RuleInfo {
            id: rule.id.to_string(),
            default_severity: rule.default_severity,
            summary: rule.summary.to_string(),
            help: rule.help(),
        }
    }
    let mut catalog = RuleCatalog::default();
    for check in checks::BUILT_IN {
        catalog.add_check(check.id(), check.rules().iter().map(|rule| info(rule)));
    }
    for rule in checks::GONOGO_RULES {
        catalog.add_rule(info(rule));
    }
    catalog
}

/// On a terminal's stderr only: name the checks that have been running for over a second.
async fn spin(progress: Arc<runner::Progress>) {
    const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let mut frame = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(120)).await;
        let slow = progress.slow(Duration::from_secs(1));
        if slow.is_empty() {
            continue;
        }
        let names: Vec<String> = slow
            .iter()
            .map(|(id, elapsed)| format!("{id} {:.0}s", elapsed.as_secs_f64()))
            .collect();
        eprint!(
            "\r\x1b[2K{} waiting for {}",
            FRAMES[frame % FRAMES.len()],
            names.join(", ")
        );
        let _ = std::io::stderr().flush();
        frame += 1;
    }
}

fn explain(id: &str, dir: &Path) -> Result<i32, UsageError> {
    let text = if let Some(rule) = checks::find_rule(id) {
        format!(
            "# {}\n\nDefault severity: {}\n\n{}\n\n{}",
            rule.id,
            rule.default_severity,
            rule.summary,
            rule.help().trim_end()
        )
    } else if let Some(check) = checks::find_check(id) {
        explain_check(check)
    } else if id == crate::waivers::CHECK_ID {
        let mut text = String::from(
            "# waivers\n\nBookkeeping of the waivers in gonogo.yaml and inline `gonogo:ignore` comments.\n\nRules:\n",
        );
        for rule in checks::GONOGO_RULES {
            text.push_str(&format!(
                "  {:<28} {:<5} {}\n",
                rule.id, rule.default_severity, rule.summary
            ));
        }
        text
    } else if id.starts_with("plugin/") {
        let loaded = load_config(dir, None)?;
        let name = id.trim_start_matches("plugin/");
        let name = name.split('/').next().unwrap_or(name);
        match loaded.config.checks.plugins.iter().find(|p| p.name == name) {
            Some(plugin) => PluginCheck::new(plugin.clone()).docs().to_string(),
            None => {
                return Err(UsageError(format!(
                    "no plugin named `{name}` in the config of {}",
                    loaded.root.display()
                )));
            }
        }
    } else {
        let mut candidates: Vec<&str> = checks::all_rules().map(|r| r.id).collect();
        candidates.extend(checks::BUILT_IN.iter().map(|c| c.id()));
        let hint = config::nearest(id, &candidates)
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        return Err(UsageError(format!(
            "unknown check or rule `{id}`{hint} (`gonogo list` shows them all)"
        )));
    };
    // A plugin's docs show its command, whose arguments may hold a resolved `env:` secret.
    print_text(&format!("{}\n", crate::secrets::redact(text.trim_end())))?;
    Ok(0)
}

fn explain_check(check: &dyn Check) -> String {
    let mut text = format!(
        "# {} — {}\n\n{}\n",
        check.id(),
        check.title(),
        check.docs().trim_end()
    );
    if !check.rules().is_empty() {
        text.push_str("\nRules:\n");
        for rule in check.rules() {
            text.push_str(&format!(
                "  {:<44} {:<5} {}\n",
                rule.id, rule.default_severity, rule.summary
            ));
        }
    }
    text
}

/// `gonogo calibrate`: measure the cost model on scratch_url, print a `costs:` block, and with
/// `--write` put it in the config file. No config, no scratch_url, or no connection: exit 2.
/// A `--write` that cannot be done safely prints why and exits 1 (the block is on stdout).
fn calibrate(
    dir: &Path,
    config_path: Option<&Path>,
    rows: u64,
    write: bool,
) -> Result<i32, UsageError> {
    use crate::checks::migrations::live::calibrate as cal;
    let loaded = load_config(dir, config_path)?;
    let Some(shown_path) = loaded.shown_path.clone() else {
        return Err(UsageError(format!(
            "no gonogo.yaml in {} or its parents up to the git root; calibrate needs checks.migrations.database.scratch_url (`gonogo init` writes a config)",
            loaded.root.display()
        )));
    };
    let database = loaded
        .config
        .checks
        .migrations
        .as_ref()
        .and_then(|m| m.primary().database.as_ref());
    let url = |u: Option<&config::ConfigString>| {
        u.map(|s| s.value.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let Some(scratch_url) = url(database.and_then(|d| d.scratch_url.as_ref())) else {
        return Err(UsageError(format!(
            "{shown_path}: checks.migrations.database.scratch_url is not set; calibrate runs only on a disposable scratch database (never on stats_url), e.g. `scratch_url: env:GONOGO_SCRATCH_URL`"
        )));
    };
    let stats_url = url(database.and_then(|d| d.stats_url.as_ref()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| UsageError(format!("cannot start the async runtime: {e}")))?;
    eprintln!("gonogo: calibrating on scratch_url with a {rows}-row table (rolled back)...");
    let (measured, shown) = runtime
        .block_on(cal::calibrate(&scratch_url, stats_url.as_deref(), rows))
        .map_err(|e| UsageError(crate::secrets::redact(&e)))?;
    let model = cal::constants(&measured).map_err(UsageError)?;
    print_text(&format!(
        "{}# paste under `checks.migrations:` in {shown_path}\n{}",
        cal::describe_measured(&measured, &shown),
        cal::yaml_block(&model, 0, 2)
    ))?;
    if !write {
        return Ok(0);
    }
    // The file load_config read: explicit, or discovered from the directory.
    let path = match config_path {
        Some(path) => Some(path.to_path_buf()),
        None => dir.canonicalize().ok().and_then(|d| config::discover(&d)),
    };
    let written = path
        .ok_or_else(|| "the config file was not found again".to_string())
        .and_then(|path| write_costs(&path, &shown_path, &model));
    match written {
        Ok(()) => {
            eprintln!("gonogo: updated checks.migrations.costs in {shown_path}");
            Ok(0)
        }
        Err(reason) => {
            eprintln!(
                "gonogo: {shown_path} was not changed: {reason}; paste the block above under `checks.migrations:` yourself"
            );
            Ok(1)
        }
    }
}

/// Put `model` in the config file at `path`, only if the edited text parses and yields exactly
/// `model`; the file is replaced atomically (written beside it, then renamed), so a failure at
/// any point leaves the original as it was.
fn write_costs(
    path: &Path,
    shown_path: &str,
    model: &crate::checks::migrations::live::estimate::CostModel,
) -> Result<(), String> {
    use crate::checks::migrations::live::{calibrate as cal, cost_model};
    // Through a symlink to the real file, so the rename replaces the file and not the link.
    let path = path
        .canonicalize()
        .map_err(|e| format!("cannot read it: {e}"))?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read it: {e}"))?;
    let updated = cal::update_config(&text, model)?;
    let parsed = config::parse(&updated, shown_path)
        .map_err(|e| format!("the edited file would not be valid ({e})"))?;
    let reread = parsed
        .checks
        .migrations
        .as_ref()
        .map(|m| cost_model(m.primary()))
        .transpose()
        .map_err(|e| format!("the edited file would not be valid ({e})"))?;
    if reread.as_ref() != Some(model) {
        return Err("the edited file would not read back the measured values".to_string());
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "gonogo.yaml".to_string());
    let temp = path.with_file_name(format!(".{file_name}.gonogo-calibrate.tmp"));
    let result = std::fs::write(&temp, &updated)
        .and_then(|()| {
            let permissions = std::fs::metadata(&path)?.permissions();
            std::fs::set_permissions(&temp, permissions)
        })
        .and_then(|()| std::fs::rename(&temp, &path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(format!("cannot write it: {e}"));
    }
    Ok(())
}

fn list(dir: &Path, config_path: Option<&Path>, format: &str) -> Result<i32, UsageError> {
    let loaded = load_config(dir, config_path)?;
    let config = &loaded.config;
    struct Row {
        id: String,
        kind: &'static str,
        severity: String,
        enabled: String,
        summary: String,
    }
    let mut rows = Vec::new();
    for check in checks::BUILT_IN {
        let enabled = if check.enabled_by(config) {
            "yes"
        } else {
            "no"
        };
        rows.push(Row {
            id: check.id().to_string(),
            kind: "check",
            severity: "-".to_string(),
            enabled: enabled.to_string(),
            summary: check.title().to_string(),
        });
        for rule in check.rules() {
            rows.push(Row {
                id: rule.id.to_string(),
                kind: "rule",
                severity: rule.default_severity.to_string(),
                enabled: enabled.to_string(),
                summary: rule.summary.to_string(),
            });
        }
    }
    for plugin in &config.checks.plugins {
        rows.push(Row {
            id: format!("plugin/{}", plugin.name),
            kind: "plugin",
            severity: "-".to_string(),
            enabled: "yes".to_string(),
            // Masked before JSON escapes it: the command may hold a resolved `env:` secret.
            summary: crate::secrets::redact(&plugin.run.join(" ")),
        });
    }
    for rule in checks::GONOGO_RULES {
        rows.push(Row {
            id: rule.id.to_string(),
            kind: "rule",
            severity: rule.default_severity.to_string(),
            enabled: "always".to_string(),
            summary: rule.summary.to_string(),
        });
    }
    let text = if format == "json" {
        let json: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "kind": r.kind, "default_severity": r.severity,
                    "enabled": r.enabled, "summary": r.summary,
                })
            })
            .collect();
        serde_json::to_string_pretty(&json).unwrap_or_default()
    } else {
        let mut table = comfy_table::Table::new();
        table
            .load_style(comfy_table::presets::NOTHING)
            .set_header(vec!["ID", "KIND", "SEVERITY", "ENABLED", "SUMMARY"]);
        for r in &rows {
            table.add_row(vec![
                r.id.as_str(),
                r.kind,
                r.severity.as_str(),
                r.enabled.as_str(),
                r.summary.as_str(),
            ]);
        }
        let mut text = table.to_string();
        if checks::BUILT_IN.is_empty() {
            text.push_str("\n\n(no built-in checks are registered in this build yet)");
        }
        text
    };
    print_text(&format!("{}\n", crate::secrets::redact(&text)))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Format;

    #[test]
    fn unknown_ids_get_suggestions() {
        let known = vec!["plugin/feature-flags".to_string()];
        let err = validate_ids(&["plugin/feature-flag".to_string()], &known, "--only").unwrap_err();
        assert!(
            err.0.contains("did you mean `plugin/feature-flags`"),
            "{}",
            err.0
        );
        assert!(validate_ids(&["plugin".to_string()], &known, "--only").is_ok());
    }

    /// `explain` and SARIF's rule help pass through the secret masking: no documentation text
    /// may look like a credential to it (an example `password=` would print as `***`).
    #[test]
    fn rule_and_check_docs_survive_secret_masking() {
        for rule in checks::all_rules().chain(checks::GONOGO_RULES.iter().copied()) {
            for text in [rule.summary.to_string(), rule.help()] {
                assert_eq!(crate::secrets::redact(&text), text, "{}", rule.id);
            }
        }
        for check in checks::BUILT_IN {
            let text = explain_check(*check);
            assert_eq!(crate::secrets::redact(&text), text, "{}", check.id());
        }
    }

    #[test]
    fn repo_prefix_is_the_project_below_the_top() {
        let top = tempfile::tempdir().unwrap();
        let top_path = top.path().canonicalize().unwrap();
        let project = top_path.join("services/shop");
        assert_eq!(repo_prefix(&top_path, &project), "services/shop/");
        assert_eq!(repo_prefix(&top_path, &top_path), "");
    }

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(Format::parse(format.name()), Some(format));
        }
    }
}
