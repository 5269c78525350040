//! `procdeck`: the command-line front over procdeck-engine.

mod args;
mod commands;
mod mcp;
mod print;
mod stack;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // This executable is also the shim that supervises each process it starts.
    procdeck_engine::shim::run_if_requested();
    init_tracing();
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{}", print::error_line(&one_line(&e.to_string())));
            return ExitCode::from(2);
        }
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", print::error_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// Clap's messages span several lines with usage; the first says what was wrong (and when it
/// ends with a colon, such as "required arguments were not provided:", the next one says which).
fn one_line(message: &str) -> String {
    let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let first = first.trim_start_matches("error: ");
    match lines.next() {
        Some(next) if first.ends_with(':') => format!("{first} {next} (see procdeck --help)"),
        _ => format!("{first} (see procdeck --help)"),
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PROCDECK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
