use clap::Parser;
use gonogo::cli::Cli;

fn main() {
    // A panic inside a check becomes that check's `error` result (see runner.rs); keep the
    // message to one line on stderr so stdout stays a clean report.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        // The message may quote a connection string: masked like every other output.
        let message = gonogo::secrets::redact(&message);
        eprintln!("gonogo: internal panic{location}: {message}");
    }));
    // clap exits 2 on bad arguments and 0 for --help/--version, as DESIGN.md wants.
    let cli = Cli::parse();
    // Before anything is started: processes that escape their group stay in gonogo's tree.
    gonogo::shutdown::become_subreaper();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        gonogo::commands::run(cli.command)
    }));
    let code = match outcome {
        Ok(Ok(code)) => code,
        Ok(Err(gonogo::commands::UsageError(message))) => {
            eprintln!("error: {message}");
            2
        }
        // The hook above printed it; Rust's own exit status for a panic.
        Err(_) => 101,
    };
    // Every way out: nothing gonogo started outlives it.
    gonogo::shutdown::end_descendants();
    std::process::exit(code);
}
