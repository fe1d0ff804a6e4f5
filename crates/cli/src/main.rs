//! `policy-match`: the command line over the core library and the batch crate.
//!
//! [`run`] parses the arguments ([`args`]), loads the catalog ([`catalog`]) and hands it
//! to the command ([`cmd`]), which writes through [`out`]; [`exit`] turns what came back
//! into the exit code.

mod args;
mod catalog;
mod clock;
mod cmd;
mod exit;
mod out;
mod table;

use std::process::ExitCode;

use clap::Parser as _;

// The library leaves the allocator to whoever embeds it; the command line picks one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ExitCode::from(run())
}

/// Parses the arguments, runs the command and returns the exit code.
fn run() -> u8 {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` and `--version` go to stdout and succeed; bad arguments are fatal.
            let _ = e.print();
            return if e.use_stderr() {
                exit::EXIT_FATAL
            } else {
                exit::EXIT_OK
            };
        }
    };
    if let args::Command::Serve(serve) = &cli.command {
        // A service logs a line per request; a command stays silent unless asked.
        init_logging("info", serve.log_format);
        return cmd::serve::run(cli.rules.as_deref(), serve, cli.error_format);
    }
    init_logging("warn", args::LogFormat::Text);
    let catalog = match catalog::load(cli.rules.as_deref(), cli.error_format) {
        Ok(catalog) => catalog,
        Err(code) => return code,
    };
    let mut out = out::Out::stdout();
    cmd::run(&cli.command, &catalog, cli.error_format, &mut out)
        .and_then(|code| {
            out.flush()?;
            Ok(code)
        })
        .unwrap_or_else(|failure| exit::report(failure, cli.error_format))
}

/// Structured logs on stderr at `default` level unless RUST_LOG says otherwise (e.g.
/// RUST_LOG=policy_match=info): text, or one JSON object a line for a log collector.
fn init_logging(default: &str, format: args::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        // Colours only for a terminal: a log file or a journal gets plain text.
        args::LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        args::LogFormat::Json => logs.json().try_init(),
    };
}
