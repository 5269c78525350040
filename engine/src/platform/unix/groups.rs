//! Process groups.

use std::os::unix::process::CommandExt;
use std::process::Command;

pub(in crate::platform) fn in_new_group(cmd: &mut Command) -> &mut Command {
    cmd.process_group(0)
}
