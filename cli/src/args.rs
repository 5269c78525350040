use std::path::PathBuf;

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
    /// List the workspace's processes.
    List,
    /// Stop a process and its whole tree: SIGTERM, then SIGKILL after the grace period.
    Stop {
        id: String,
        /// Seconds between SIGTERM and SIGKILL for this stop (default: the process's own).
        #[arg(long, value_name = "SECS")]
        grace: Option<f64>,
    },
    /// Stop a process if it runs, then start it again with the same command, title, environment,
    /// grace period and output cap. A record you did not start (it came with the folder) is
    /// printed and refused unless --yes.
    Restart {
        id: String,
        /// Run it even though you did not start it, after printing its command and environment.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Stop a process, then delete its record and output.
    #[command(alias = "remove")]
    Rm { id: String },
    /// Print a process's output: all of it, its first or last lines, or the lines matching a regex.
    Output(OutputArgs),
    /// Wait until a process has ended, then print its record.
    Wait {
        id: String,
        /// Give up after SECS seconds, with an error.
        #[arg(long, value_name = "SECS")]
        timeout: Option<f64>,
    },
    /// Stop every running process of the workspace (what closing it in the app does).
    Close,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// A name to show instead of the command.
    #[arg(long)]
    pub title: Option<String>,
    /// An environment variable for the process (repeatable).
    #[arg(long = "env", short = 'e', value_name = "K=V")]
    pub env: Vec<String>,
    /// Seconds between SIGTERM and SIGKILL when the process is stopped.
    #[arg(long, value_name = "SECS")]
    pub grace: Option<f64>,
    /// Output kept for this process, in bytes; older output is dropped beyond it.
    #[arg(long, value_name = "BYTES")]
    pub output_cap: Option<u64>,
    /// The command and its arguments (after `--`).
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
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
