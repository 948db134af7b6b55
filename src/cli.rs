//! Command-line definitions (clap derive). Parsing only; `commands.rs` does the work.

use crate::report::{ColorChoice, Format};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  gonogo check                                  run the checklist for the project here
  gonogo check --base v1.4.2                    compare against the version in production
  gonogo check --format json | jq .verdict      machine-readable report on stdout
  gonogo check --output sarif=gonogo.sarif --output junit=gonogo.xml
                                                table in the log, SARIF and JUnit files for CI
  gonogo check --format markdown --deadline 60s for a chat bot: short, bounded in time
  gonogo check --format concise -q              one line per blocking finding, like a compiler
  gonogo check --only migrations --strict       one check; warnings block too
  gonogo explain migrations/pg-add-index-not-concurrent
  gonogo list
  gonogo init

Exit codes: 0 go, 1 no-go (a check failed or errored; warnings too with --strict),
2 nothing was checked (bad arguments or config).";

#[derive(Debug, Parser)]
#[command(
    name = "gonogo",
    version,
    about = "Go or no-go? A pre-deploy checklist: migration lock risk, read/write compatibility, \
             readiness, DNS TTLs, grace periods, rollback.",
    after_help = EXAMPLES,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the checklist and print a report.
    #[command(after_help = EXAMPLES)]
    Check(CheckArgs),
    /// What a check or rule catches, why it matters, how to fix it, an example.
    Explain {
        /// A check id (`migrations`), a rule id (`migrations/pg-add-index-not-concurrent`) or a
        /// plugin (`plugin/feature-flags`).
        id: String,
        /// Project directory whose gonogo.yaml declares plugins.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
    /// Every check and rule, its default severity, and whether the config enables it.
    List {
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
        /// `table` or `json`.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
    /// Write a commented gonogo.yaml from what is found in the repository.
    Init {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Overwrite an existing gonogo.yaml.
        #[arg(long)]
        force: bool,
        /// Print the config instead of writing it.
        #[arg(long)]
        stdout: bool,
    },
    /// Measure the lock-time cost model on the scratch database (scratch_url), in one
    /// transaction that is rolled back, and print a `costs:` block for the config.
    Calibrate {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Config file (default: gonogo.yaml in DIR, else in the nearest parent up to the git root).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Rows in the generated table.
        #[arg(long, default_value_t = crate::checks::migrations::live::calibrate::DEFAULT_ROWS)]
        rows: u64,
        /// Also update `checks.migrations.costs` in the config file (comments are kept).
        #[arg(long)]
        write: bool,
    },
    /// Print shell completions: `gonogo completions bash > /etc/bash_completion.d/gonogo`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Config file (default: gonogo.yaml in DIR, else in the nearest parent up to the git root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The version running in production now (a git ref). Default: `base:` in the config, else
    /// $GONOGO_BASE, else the newest tag reachable from HEAD.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// What goes to stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Also write a format to a file; repeatable (`--output sarif=gonogo.sarif`).
    #[arg(long, value_name = "FORMAT=FILE", value_parser = parse_output)]
    pub output: Vec<(Format, PathBuf)>,
    /// Run only these checks (comma-separated ids; `plugin` means every plugin).
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Skip these checks (comma-separated ids).
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Warnings make the verdict no-go.
    #[arg(long)]
    pub strict: bool,
    /// Skip every check that needs the network or a database (reported as skip).
    #[arg(long)]
    pub offline: bool,
    /// The whole run ends by then; unfinished checks report error (default: `deadline:` in the
    /// config, else 120s).
    #[arg(long, value_name = "DURATION", value_parser = parse_deadline)]
    pub deadline: Option<std::time::Duration>,
    /// Colour the table: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Only the verdict and what blocks it (table and concise formats).
    #[arg(short, long)]
    pub quiet: bool,
    /// Longest markdown output in characters; longer reports are cut worst-first.
    #[arg(long, value_name = "CHARS", default_value_t = crate::report::RenderOptions::default().markdown_max_chars)]
    pub markdown_max_chars: usize,
}

fn parse_output(value: &str) -> Result<(Format, PathBuf), String> {
    let (format, file) = value
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=FILE, e.g. sarif=gonogo.sarif; found `{value}`"))?;
    let format = Format::parse(format).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!(
            "unknown format `{format}`; expected one of {}",
            names.join(", ")
        )
    })?;
    if file.is_empty() {
        return Err(format!("`{value}` names no file"));
    }
    Ok((format, PathBuf::from(file)))
}

fn parse_deadline(value: &str) -> Result<std::time::Duration, String> {
    crate::config::parse_duration(value).and_then(crate::config::check_timeout)
}
