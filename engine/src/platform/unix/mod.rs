//! What Linux and macOS share: POSIX signals, process groups, reaping, a session of our own,
//! file flags and locks, the shells (the one that runs a command line, the user's login shell).

mod command_shell;
mod files;
mod groups;
mod login_shell;
mod perms;
mod reaping;
mod session;
mod signals;
mod supervisor;
mod supervisor_signals;
mod termination;
mod tree;
mod usage;

pub(super) use command_shell::{command_shell, null_device, quote_word, shell_command};
pub(super) use files::{
    file_kind, is_symlink_refusal, lock_exclusive, no_follow, non_blocking, read_at,
    redirect_stdio, rename_replacing, write_at, FileLockGuard,
};
pub(super) use groups::in_new_group;
pub(super) use login_shell::{run_login_shell, user_shell};
pub(super) use perms::{
    create_private_dir_all, is_executable, is_private, new_file_permissions, sync_dir,
};
pub(super) use reaping::reap_child;
pub(super) use session::detach_into_new_session;
pub(super) use signals::{clock_ticks_per_second, kill, kill_group, page_size, signal_name};
pub(super) use supervisor::{
    become_supervisor, detached, is_detached_leader, release_detached, request_stop, PipeReader,
    Supervisor,
};
pub(super) use supervisor_signals::{
    clear_signal_mask_in, meaning, wait_for_signals, SUPERVISOR_SIGNALS,
};
pub(super) use termination::TerminationRequests;
pub(super) use usage::{load_average, wait_peak_memory};
