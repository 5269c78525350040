//! What Linux and macOS share: POSIX signals, process groups, reaping, file flags and locks,
//! the shells (the one that runs a command line, the user's login shell).

mod command_shell;
mod files;
mod groups;
mod login_shell;
mod perms;
mod reaping;
mod signals;
mod supervisor;
mod termination;

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
pub(super) use signals::{clock_ticks_per_second, kill, kill_group, page_size, signal_name};
pub(super) use supervisor::{
    become_supervisor, detached, is_detached_leader, release_detached, request_stop, PipeReader,
    Supervisor,
};
pub(super) use termination::TerminationRequests;
