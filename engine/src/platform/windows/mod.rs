//! Windows: processes through the process and job APIs (`OpenProcess`, `GetProcessTimes`,
//! `NtQueryInformationProcess`, Job Objects), the console's process groups for asking a tree to
//! stop, a named event for stop requests, `GetExtendedTcpTable` for listening sockets, and
//! `LockFileEx`/`MoveFileExW` for the store's files. Everything the Unix side does with signals
//! and `/proc` has its Windows counterpart here, behind the same face.

mod command_shell;
mod desktop;
mod files;
mod handles;
mod job;
mod pipe;
mod processes;
mod signals;
mod sockets;
mod supervisor;
mod termination;
mod usage;

pub(super) use command_shell::{
    command_shell, null_device, quote_word, run_login_shell, shell_command, user_shell,
};
pub(super) use desktop::{TRAY_TITLE_ON_HOVER, WEBVIEW_ENV_DEFAULTS};
pub(super) use files::{
    create_private_dir_all, file_kind, is_executable, is_private, is_symlink_refusal,
    lock_exclusive, new_file_permissions, no_follow, non_blocking, punch_hole, read_at,
    redirect_stdio, rename_replacing, sync_dir, write_at, FileLockGuard,
};
pub(super) use pipe::{output_pipe, PipeReader};
pub(super) use processes::{
    boot_id, clock_ticks_per_second, cmdline, page_size, pids, process_name, stat, wait_exit,
};
pub(super) use signals::{kill, kill_group, signal_name};
pub(super) use sockets::{listeners_of, port_owner};
pub(super) use supervisor::{
    become_supervisor, detached, in_new_group, is_detached_leader, release_detached, request_stop,
    Supervisor,
};
pub(super) use termination::TerminationRequests;
pub(super) use usage::{load_average, wait_peak_memory};
