use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Run the long-lived commands of a project folder in the background, and read, follow and stop them.
#[derive(Debug, Parser)]
#[command(name = "procdeck", version, disable_help_subcommand = true)]
pub struct Cli {
    /// The workspace folder (default: the current folder).
    #[arg(short = 'w', long = "workspace", global = true, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Print records and results as JSON, in the index's shape.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start COMMAND in the background; returns at once with its record. One argument is run as a
    /// shell command line (`bash -c`); several are quoted and run as one command with arguments.
    Start(StartArgs),
    /// List the workspace's processes: the latest run of each (runs with the same title in the
    /// same folder are runs of one service).
    List {
        /// Every run, not only the latest of each service.
        #[arg(long)]
        all: bool,
    },
    /// Stop a process and its whole tree: SIGTERM, then SIGKILL after the grace period.
    Stop {
        /// The process: its id, a unique start of its id, or its exact title.
        id: String,
        /// Seconds between SIGTERM and SIGKILL for this stop (default: the process's own; at
        /// most a day).
        #[arg(long, value_name = "SECS", value_parser = grace)]
        grace: Option<Duration>,
    },
    /// Stop a process if it runs, then start it again with the same command, title, folder,
    /// environment, grace period and output cap. A record you did not start (it came with the
    /// folder) is printed and refused unless --yes.
    Restart {
        id: String,
        /// Run it even though you did not start it, after printing its command and environment.
        #[arg(long, short = 'y')]
        yes: bool,
        /// It failed because its port was taken: first stop the Procdeck process holding the port
        /// (in this workspace or another).
        #[arg(long)]
        take_port: bool,
    },
    /// Stop a process, then delete its record and output.
    #[command(alias = "remove")]
    Rm {
        /// The process: its id, a unique start of its id, or its exact title.
        id: String,
    },
    /// Print a process's output: all of it, its first or last lines, or the lines matching a regex.
    Output(OutputArgs),
    /// Wait until a process has ended, then print its record.
    Wait {
        /// The process: its id, a unique start of its id, or its exact title.
        id: String,
        /// Give up after SECS seconds, with an error (at most a year).
        #[arg(long, value_name = "SECS", value_parser = timeout)]
        timeout: Option<Duration>,
    },
    /// Stop every running process of the workspace (what closing it in the app does).
    Close,
    /// Start the workspace's stack (procdeck.toml, else its Procfile): the NAMES given, or every
    /// entry that starts by default, with what they depend on, each once what it depends on is
    /// ready. Entries already running are left alone. Fails if any entry fails.
    Up {
        /// Entries to start (with their dependencies); default: every autostart entry.
        names: Vec<String>,
    },
    /// Stop the stack: the NAMES given and every entry depending on them, or every entry;
    /// dependents are stopped before what they depend on.
    Down {
        /// Entries to stop (with what depends on them); default: every entry.
        names: Vec<String>,
    },
    /// Show the workspace's stack: each entry's command, dependencies, readiness and whether it
    /// runs.
    Stack,
    /// Serve the workspace to a coding agent over the Model Context Protocol (stdio). Without
    /// -w, the workspace is the client's first root, else the current folder.
    Mcp {
        /// Stop the processes this session started when the agent's session ends (by default
        /// they keep running).
        #[arg(long)]
        stop_on_exit: bool,
    },
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// A name to show instead of the command.
    #[arg(long)]
    pub title: Option<String>,
    /// An environment variable for the process (repeatable).
    #[arg(long = "env", short = 'e', value_name = "K=V")]
    pub env: Vec<String>,
    /// Seconds between SIGTERM and SIGKILL when the process is stopped (at most a day).
    #[arg(long, value_name = "SECS", value_parser = grace)]
    pub grace: Option<Duration>,
    /// Output kept for this process, in bytes; older output is dropped beyond it.
    #[arg(long, value_name = "BYTES")]
    pub output_cap: Option<u64>,
    /// The folder to run in, inside the workspace (relative to it, or absolute).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<std::path::PathBuf>,
    /// The command and its arguments (after `--`).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The process: its id, a unique start of its id, or its exact title.
    pub id: String,
    /// The first N lines.
    #[arg(long, value_name = "N", conflicts_with_all = ["tail", "grep"])]
    pub head: Option<u32>,
    /// The last N lines.
    #[arg(long, value_name = "N", conflicts_with = "grep")]
    pub tail: Option<u32>,
    /// The lines matching a regular expression (Rust regex syntax).
    #[arg(long, value_name = "PATTERN")]
    pub grep: Option<String>,
    /// Consider only the last N bytes of the output.
    #[arg(long, value_name = "N")]
    pub max_bytes: Option<u64>,
    /// Keep printing new output until the process ends.
    #[arg(long, short = 'f', conflicts_with = "head")]
    pub follow: bool,
}

/// The longest grace period between SIGTERM and SIGKILL.
const MAX_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest `wait --timeout`; waiting without one has no limit.
const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

fn grace(text: &str) -> Result<Duration, String> {
    seconds(text, MAX_GRACE)
}

fn timeout(text: &str) -> Result<Duration, String> {
    seconds(text, MAX_TIMEOUT)
}

/// A number of seconds from 0 to `max`: NaN, infinities, negative and larger values are
/// refused here, before any deadline is computed from them.
fn seconds(text: &str, max: Duration) -> Result<Duration, String> {
    let expected = || format!("expected a number of seconds from 0 to {}", max.as_secs());
    let value: f64 = text.trim().parse().map_err(|_| expected())?;
    if !(0.0..=max.as_secs_f64()).contains(&value) {
        return Err(expected());
    }
    Duration::try_from_secs_f64(value).map_err(|_| expected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_bounded() {
        assert_eq!(grace("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(grace("0"), Ok(Duration::ZERO));
        assert_eq!(grace("86400"), Ok(MAX_GRACE));
        assert_eq!(timeout("31536000"), Ok(MAX_TIMEOUT));
        for bad in [
            "86400.5", "1e19", "NaN", "nan", "inf", "-inf", "-1", "-0.5", "", "x", "1s",
        ] {
            assert!(grace(bad).is_err(), "{bad}");
        }
        for bad in ["31536001", "1e19", "NaN", "inf", "-1"] {
            assert!(timeout(bad).is_err(), "{bad}");
        }
    }
}
