//! The platform layer: the one face through which the engine asks the operating system about
//! processes, signals and files. Everything the OS decides sits behind the functions and types
//! of this file; the rest of the engine holds the rules and calls them.
//!
//! Behind the face, one module per family: `unix/` for what Linux and macOS share (POSIX
//! signals, process groups, reaping, file flags, `flock`, the shells), `linux/` for what only
//! Linux has (`/proc` for processes and sockets, pidfd, waiting on a child without reaping it,
//! hole punching, and the supervisor's child subreaper, signalfd and pipe size), `macos/` for
//! what only macOS has (`libproc` and sysctl for processes and sockets, kqueue, `F_PUNCHHOLE`),
//! `posix/` for a supervisor without Linux's extras: macOS's, and Linux's with the
//! `portable-posix` feature. `windows/` holds all of Windows (process and job APIs, console
//! process groups, a named stop event, `GetExtendedTcpTable`, `LockFileEx`, `MoveFileExW`).

use std::ffi::OsString;
use std::fs::{File, FileType, Metadata, OpenOptions, Permissions};
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as os;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos as os;
#[cfg(any(target_os = "macos", feature = "portable-posix"))]
mod posix;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as family;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as os;
#[cfg(windows)]
use windows as family;

mod table;

pub use table::ProcessTable;

// ---------------------------------------------------------------------------------------------
// Processes

/// What the system says about one process at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessStat {
    /// The scheduler's one-letter state (`R`, `S`, `Z` for a zombie…).
    pub state: char,
    pub ppid: u32,
    pub pgrp: i32,
    pub session: i32,
    /// CPU time spent in user and kernel mode, in clock ticks ([`clock_ticks_per_second`]).
    pub cpu_ticks: u64,
    /// When the process started (in clock ticks after boot on Linux, in microseconds since the
    /// epoch on macOS; compare, never convert): with the pid and the boot id it names one
    /// process, so a reused pid is never trusted.
    pub start_time: u64,
    /// Resident set size, in pages ([`page_size`]).
    pub rss_pages: u64,
}

impl ProcessStat {
    /// True once the process has exited, even while it waits for its parent to reap it.
    pub fn has_exited(&self) -> bool {
        self.state == 'Z' || self.state == 'X'
    }

    /// True when the process sits in the session that `leader` leads (`leader` being its own
    /// pid: it leads its own session).
    pub fn in_session(&self, leader: u32) -> bool {
        i64::from(self.session) == i64::from(leader)
    }
}

/// The process `pid` as it is now; `None` when there is none.
pub fn stat(pid: u32) -> Option<ProcessStat> {
    os::stat(pid)
}

pub fn start_time(pid: u32) -> Option<u64> {
    stat(pid).map(|s| s.start_time)
}

/// Identifies this boot, so that start times from an earlier boot never match. `None` when it
/// cannot be read: an unknown boot matches no record, so nothing is trusted or signalled then.
pub fn boot_id() -> Option<String> {
    os::boot_id()
}

/// True when `recorded` names this boot (an empty record never does).
pub fn is_this_boot(recorded: &str) -> bool {
    !recorded.is_empty() && boot_id().is_some_and(|b| b == recorded)
}

/// The arguments `pid` was started with (empty for a zombie or a kernel thread).
pub fn cmdline(pid: u32) -> Option<Vec<OsString>> {
    os::cmdline(pid)
}

/// True when `pid` is the same process that had `start_time`, and it has not exited (a zombie
/// waiting for its parent counts as exited).
pub fn is_alive(pid: u32, start_time: u64) -> bool {
    matches!(stat(pid), Some(s) if s.start_time == start_time && !s.has_exited())
}

/// The process's name as the kernel keeps it (its executable's, cut short), for a process whose
/// arguments are empty.
pub fn process_name(pid: u32) -> Option<String> {
    os::process_name(pid)
}

/// Every process's pid, as the system lists them now (empty when it cannot be read).
pub fn pids() -> Vec<u32> {
    os::pids()
}

/// Every living process whose parent chain leads to `root`, excluding `root`.
pub fn descendants(root: u32) -> Vec<u32> {
    ProcessTable::read().descendants(root)
}

/// Clock ticks per second, the unit of [`ProcessStat::cpu_ticks`] and
/// [`ProcessStat::start_time`].
pub fn clock_ticks_per_second() -> Option<u64> {
    family::clock_ticks_per_second()
}

/// Bytes per page, the unit of [`ProcessStat::rss_pages`].
pub fn page_size() -> Option<u64> {
    family::page_size()
}

/// Waits until the process `pid` (verified by `start_time`) has exited, up to `timeout`, without
/// polling where the system can say when a process ends. Returns true when it has exited.
pub fn wait_exit(pid: u32, start_time: u64, timeout: Duration) -> bool {
    os::wait_exit(pid, start_time, timeout)
}

// ---------------------------------------------------------------------------------------------
// Process groups and signals

/// Makes `cmd` start its process as the leader of a new process group, so that the group can
/// be signalled as one ([`signal_group`]), for tests and benchmarks that stand in for a shim.
pub fn in_new_group(cmd: &mut Command) -> &mut Command {
    family::in_new_group(cmd)
}

/// The signals the engine sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Asks a process to end (SIGTERM).
    Terminate,
    /// Ends it without asking (SIGKILL).
    Kill,
    /// Stops it from running, and so from forking (SIGSTOP).
    Pause,
}

/// True when `pid` can name one process of ours: not 0 (our own group), not 1 (init), and not
/// beyond what the system's pid type holds, where it would name a group.
pub fn signallable(pid: u32) -> bool {
    pid > 1 && i32::try_from(pid).is_ok()
}

/// Sends `signal` to `pid` only if it is still the process that had `start_time`; true when it
/// was sent.
pub fn signal_verified(pid: u32, start_time: u64, signal: Signal) -> bool {
    signallable(pid) && is_alive(pid, start_time) && family::kill(pid, signal)
}

/// Sends `signal` to the process group `group` (never to our own group or to init's); true
/// when it was sent. The caller proves the group is one it started.
pub fn signal_group(group: u32, signal: Signal) -> bool {
    signallable(group) && family::kill_group(group, signal)
}

/// `SIGTERM` for 15; `signal N` for a number without a name.
pub fn signal_name(signal: i32) -> String {
    family::signal_name(signal)
}

/// Quotes `word` for [`command_shell`] unless it only holds characters the shell leaves alone:
/// for bash in single quotes, for cmd in double quotes.
pub fn quote_word(word: &str) -> String {
    family::quote_word(word)
}

// ---------------------------------------------------------------------------------------------
// The shim: supervising one command

/// The shell that runs every command line, by absolute path.
pub(crate) fn command_shell() -> &'static Path {
    family::command_shell()
}

/// A command that runs `command`, a command line, with [`command_shell`].
pub(crate) fn shell_command(command: &str) -> Command {
    family::shell_command(command)
}

/// Makes `cmd`, which runs a shim, start detached from its starter where a running process
/// cannot detach itself: on Windows with no console of the starter's and in a process group of
/// its own. On Unix nothing changes: the shim detaches itself ([`become_supervisor`]).
pub(crate) fn detached(cmd: &mut Command) -> &mut Command {
    family::detached(cmd)
}

/// Lets go of `child`, the shim started with [`detached`], once it has answered: on Unix the
/// process that was started has exited (the shim forked away from it) and is reaped; on Windows
/// it is the shim itself, which runs on.
pub(crate) fn release_detached(child: Child) {
    family::release_detached(child)
}

/// True when `stat`, of the process `pid`, shows it set up as [`become_supervisor`] sets up a
/// shim: on Unix it leads its own session. Windows lets no other process read that a process is
/// detached or leads a console process group, so there it holds for every process, and the
/// proof that a process is a given shim rests on its start time, this boot and its arguments.
pub fn is_detached_leader(pid: u32, stat: &ProcessStat) -> bool {
    family::is_detached_leader(pid, stat)
}

/// Makes this process a supervisor, on its own whatever becomes of the process that started it.
/// On Unix it leaves that process (which is free to exit and reap what it ran) by forking,
/// leads a new session and becomes the reaper of every orphaned descendant, so that even
/// double-forked processes stay in its tree; only while no other thread exists. On Windows it
/// was started detached already ([`detached`]): the handles it was given (the starter's pipe)
/// are kept from what it runs.
pub(crate) fn become_supervisor() -> io::Result<()> {
    family::become_supervisor()
}

/// Points stdout and stderr at `to`.
pub(crate) fn redirect_stdio(to: &File) -> io::Result<()> {
    family::redirect_stdio(to)
}

/// The file that discards what is written to it.
pub(crate) fn null_device() -> &'static Path {
    family::null_device()
}

/// What reaches a supervisor while it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SupervisorEvent {
    /// A process of the tree ended (several may have, told as one): see [`Supervisor::reap`].
    ChildEnded,
    /// Stop, with the grace the stop file says: a stop request ([`request_stop`]; on Unix also
    /// SIGINT and SIGHUP).
    Stop,
    /// Stop without grace (SIGUSR1 on Unix; Windows has no such request).
    #[cfg_attr(windows, allow(dead_code))]
    StopNow,
}

/// A supervisor and the tree of the one command it runs: how it learns of stop requests and of
/// ends, and how it asks the tree to stop and ends it. The rules (when to ask, how long to
/// wait, when to give up) are the caller's.
///
/// On Unix the command leads a process group of its own, the tree is every descendant of the
/// supervisor (its subreaper), and stop requests are signals received in the loop rather than
/// in handlers. On Windows the command leads a console process group of its own, without a
/// window, inside a Job Object that holds its whole tree (no breakaway) and ends it if the
/// supervisor dies; stop requests are a named event ([`request_stop`]).
pub(crate) struct Supervisor(family::Supervisor);

impl Supervisor {
    /// Sets up how stop requests reach this process: once, before any thread starts (on Unix
    /// threads inherit the signal mask set here, after resetting the handled signals to their
    /// defaults so that a starter that ignored SIGTERM does not pass that on).
    pub(crate) fn install() -> io::Result<Supervisor> {
        family::Supervisor::install().map(Supervisor)
    }

    /// Starts `cmd`, the command, in a tree of its own, and returns its pid.
    pub(crate) fn start(&mut self, cmd: &mut Command) -> io::Result<u32> {
        self.0.start(cmd)
    }

    /// Waits until an event may be waiting or `pipe` has bytes or is closed, for at most
    /// `timeout` (`None`: for as long as it takes). True when events may be waiting.
    pub(crate) fn wait(
        &mut self,
        pipe: Option<&PipeReader>,
        timeout: Option<Duration>,
    ) -> io::Result<bool> {
        self.0.wait(pipe.map(|p| &p.0), timeout)
    }

    /// The events received since the last call, without waiting.
    pub(crate) fn take(&mut self) -> Vec<SupervisorEvent> {
        self.0.take()
    }

    /// Collects the processes of the tree that ended; the command's own end, once, when it was
    /// among them.
    pub(crate) fn reap(&mut self) -> Option<ChildEnd> {
        self.0.reap()
    }

    /// Asks every process of the tree to stop (on Unix SIGTERM, once to each process; on
    /// Windows `CTRL_BREAK_EVENT` to the command's process group). Called again, it reaches
    /// processes started since.
    pub(crate) fn ask_tree_to_stop(&mut self) {
        self.0.ask_tree_to_stop()
    }

    /// Ends every process of the tree without asking (on Unix SIGKILL; on Windows the Job
    /// Object is terminated).
    pub(crate) fn end_tree(&mut self) {
        self.0.end_tree()
    }

    /// The processes of the tree still alive.
    pub(crate) fn tree(&mut self) -> Vec<u32> {
        self.0.tree()
    }
}

/// Asks the supervisor `pid` (verified by `start_time`) to stop its tree, with the grace its
/// stop file says: SIGTERM on Unix, its stop event on Windows. True when the request was made.
pub(crate) fn request_stop(pid: u32, start_time: u64) -> bool {
    signallable(pid) && is_alive(pid, start_time) && family::request_stop(pid, start_time)
}

/// The read end of a command's output pipe, which never blocks: a read with nothing there fails
/// with `WouldBlock`, a read once every writer is gone returns 0.
pub(crate) struct PipeReader(family::PipeReader);

impl PipeReader {
    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// The pipe a command's output comes through.
pub(crate) struct OutputPipe {
    pub reader: PipeReader,
    pub writer: File,
    /// Its capacity in bytes (0 when unknown).
    pub size: usize,
}

/// A pipe for a command's output, as big as the system allows up to 1 MiB, so that heavy output
/// wakes the supervisor less often.
pub(crate) fn output_pipe() -> io::Result<OutputPipe> {
    os::output_pipe()
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChildEnd {
    Exited(i32),
    /// Ended by the signal with this number ([`signal_name`]); Windows has no signals.
    #[cfg_attr(windows, allow(dead_code))]
    Signaled(i32),
}

/// Writes `buf` at `offset` without moving the file's cursor.
pub(crate) fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
    family::write_at(file, buf, offset)
}

// ---------------------------------------------------------------------------------------------
// Requests to end a program

/// The requests to end a long-running front (the MCP server) that the system delivers: SIGTERM
/// and SIGINT on Unix; Ctrl-C, Ctrl-Break and the console closing on Windows.
pub struct TerminationRequests(family::TerminationRequests);

impl TerminationRequests {
    /// Listens from now on (inside a Tokio runtime).
    pub fn listen() -> io::Result<TerminationRequests> {
        family::TerminationRequests::listen().map(TerminationRequests)
    }

    /// Waits for the next request; says which it was ("terminated", "interrupted").
    pub async fn recv(&mut self) -> &'static str {
        self.0.recv().await
    }
}

// ---------------------------------------------------------------------------------------------
// The login shell

/// What a login shell printed, and how it ended.
pub(crate) struct ShellCapture {
    /// `None` when it was still running at the deadline (it has been killed since).
    pub exit: Option<ExitStatus>,
    /// The start of its stdout (an environment is a few KiB; 16 MiB at most are kept).
    pub stdout: Vec<u8>,
    /// The end of its stderr.
    pub stderr: Vec<u8>,
}

/// The user's login shell: `$SHELL` when it is an absolute path to an executable file, else
/// the first of /bin/bash and /bin/sh that exists.
pub(crate) fn user_shell() -> PathBuf {
    family::user_shell()
}

/// Runs `shell` as an interactive login shell on `script`, with `env` set, in `home` (or `/`
/// without a usable one), in a session of its own without a terminal. Reads what it prints
/// until it has exited and its pipes close, or until `deadline`; once `printed` has appeared
/// on stdout, logout files get one second more. Whatever the startup files left running in its
/// session is killed before this returns, and the shell is reaped. An error means it could not
/// be started.
pub(crate) fn run_login_shell(
    shell: &Path,
    script: &str,
    env: (&str, &str),
    home: Option<&Path>,
    deadline: std::time::Instant,
    printed: &[u8],
) -> io::Result<ShellCapture> {
    family::run_login_shell(shell, script, env, home, deadline, printed)
}

// ---------------------------------------------------------------------------------------------
// Listening sockets

/// A TCP socket in the listening state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listener {
    pub address: IpAddr,
    pub port: u16,
    /// The owning user, as the system's socket table says (readable even when the process is
    /// not).
    pub uid: u32,
    /// The process holding the socket; `None` when it is not ours to inspect.
    pub pid: Option<u32>,
}

/// The listening TCP sockets that the processes `holders` hold, each attributed to the first of
/// `holders` that holds it (list parents before children, so that a socket shared after fork
/// goes to the process that opened it). In whatever network namespaces the holders are.
pub(crate) fn listeners_of(holders: &[u32]) -> Vec<Listener> {
    os::listeners_of(holders)
}

/// Who listens on `port` (any address) in this network namespace: the process that opened the
/// socket when it is ours to see; `None` when nothing listens there.
pub(crate) fn port_owner(port: u16) -> Option<Listener> {
    os::port_owner(port)
}

// ---------------------------------------------------------------------------------------------
// What processes cost (for the benchmark)

/// The system's 1, 5 and 15 minute load averages; `None` where it keeps none.
pub fn load_average() -> Option<[f64; 3]> {
    family::load_average()
}

/// Waits for `child` to end and returns the most memory it held at once, in bytes.
pub fn wait_peak_memory(child: Child) -> io::Result<u64> {
    family::wait_peak_memory(child)
}

// ---------------------------------------------------------------------------------------------
// The desktop app

/// Environment variables the desktop app sets for its web view before it starts, unless the
/// user has set them: workarounds for the system's web view.
pub fn webview_env_defaults() -> &'static [(&'static str, &'static str)] {
    os::WEBVIEW_ENV_DEFAULTS
}

/// True where the system shows a tray item's title on hover (instead of its tooltip); where it
/// does not, a title would be drawn beside the icon.
pub fn tray_title_on_hover() -> bool {
    os::TRAY_TITLE_ON_HOVER
}

// ---------------------------------------------------------------------------------------------
// Files

/// Makes `options` open the last path component itself, never a symbolic link in its place
/// (the open then fails, see [`is_symlink_refusal`]), and return at once on a FIFO instead of
/// waiting for a writer. On a regular file this changes nothing else.
pub(crate) fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    family::no_follow(options)
}

/// Makes `options` return at once when the path is a FIFO, instead of waiting for a writer.
pub(crate) fn non_blocking(options: &mut OpenOptions) -> &mut OpenOptions {
    family::non_blocking(options)
}

/// True when an open with [`no_follow`] failed because the path is a symbolic link.
pub(crate) fn is_symlink_refusal(e: &io::Error) -> bool {
    family::is_symlink_refusal(e)
}

/// What a file that is not a regular file is, in words: "a folder", "a FIFO"…
pub(crate) fn file_kind(kind: FileType) -> &'static str {
    family::file_kind(kind)
}

/// Reads into `buf` from `offset` without moving the file's cursor, so that several readers
/// can share one open file.
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    family::read_at(file, buf, offset)
}

/// Frees `[0, end)` of `file` while keeping its size, so later offsets never move (reading there
/// gives zeros). With `end == 0` it only asks whether the file system supports it.
pub(crate) fn punch_hole(file: &File, end: u64) -> io::Result<()> {
    os::punch_hole(file, end)
}

/// Makes a rename or a new name in `dir` durable. A failure loses nothing the rename did not
/// already make visible.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    family::sync_dir(dir)
}

/// Replaces `to` with `from`, a file in the same folder, in one step: a reader finds the old
/// file or the new one, never a mix (`rename` on Unix; on Windows `MoveFileExW`, replacing and
/// written through).
pub(crate) fn rename_replacing(from: &Path, to: &Path) -> io::Result<()> {
    family::rename_replacing(from, to)
}

/// The permissions a file this process creates gets by default (the umask applies); `None`
/// where files have no permission bits (Windows: the folder's access list applies).
pub(crate) fn new_file_permissions() -> Option<Permissions> {
    family::new_file_permissions()
}

/// True when only the file's owner may read or write it.
pub(crate) fn is_private(meta: &Metadata) -> bool {
    family::is_private(meta)
}

/// True when the file may be run as a program.
pub(crate) fn is_executable(meta: &Metadata) -> bool {
    family::is_executable(meta)
}

/// Creates `dir` and its missing parents, the new ones open to their owner only.
pub(crate) fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    family::create_private_dir_all(dir)
}

/// An exclusive advisory lock across processes, held until it is dropped (closing the file
/// releases it).
pub(crate) struct ExclusiveLock {
    _guard: family::FileLockGuard,
}

/// Waits for the exclusive lock on `file`.
pub(crate) fn lock_exclusive(file: File) -> io::Result<ExclusiveLock> {
    family::lock_exclusive(file).map(|guard| ExclusiveLock { _guard: guard })
}

/// Creates `link` pointing at `target`, for tests that plant links where the store expects
/// files.
#[cfg(all(test, unix))]
pub(crate) fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

/// Creates `link` pointing at `target`, for tests that plant links where the store expects
/// files.
#[cfg(all(test, windows))]
pub(crate) fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::windows::fs::symlink_file(target, link)
}

/// The permission bits of `path`, for tests of what the engine creates and refuses.
#[cfg(all(test, unix))]
pub(crate) fn mode(path: &Path) -> io::Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o7777)
}

/// Sets the permission bits of `path`, for the same tests.
#[cfg(all(test, unix))]
pub(crate) fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_with_an_unaddable_timeout_does_not_panic() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        let start = start_time(pid).unwrap_or(0);
        child.wait().expect("reap true");
        assert!(wait_exit(pid, start, Duration::MAX));
    }

    #[test]
    fn pids_that_name_a_group_or_init_are_never_signalled() {
        for pid in [0, 1, u32::MAX, i32::MAX as u32 + 1] {
            assert!(!signallable(pid), "{pid}");
        }
        assert!(signallable(2));
        assert!(!signal_verified(
            1,
            start_time(1).unwrap_or(0),
            Signal::Terminate
        ));
    }

    #[test]
    fn an_empty_recorded_boot_is_never_this_boot() {
        assert!(!is_this_boot(""));
        if let Some(boot) = boot_id() {
            assert!(is_this_boot(&boot));
        }
    }

    #[test]
    fn own_process_is_alive_and_a_wrong_start_time_is_not() {
        let me = std::process::id();
        let st = start_time(me).expect("own stat");
        assert!(is_alive(me, st));
        assert!(!is_alive(me, st + 1));
    }
}
