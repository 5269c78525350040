//! The shell that runs a command line.

use std::path::Path;
use std::process::Command;

/// By absolute path: looking `bash` up in `PATH` would run whatever the command's environment
/// or the repository puts first there.
const COMMAND_SHELL: &str = "/bin/bash";

pub(in crate::platform) fn command_shell() -> &'static Path {
    Path::new(COMMAND_SHELL)
}

pub(in crate::platform) fn shell_command(command: &str) -> Command {
    let mut cmd = Command::new(COMMAND_SHELL);
    cmd.arg("-c").arg(command);
    cmd
}

/// In single quotes, where bash takes every character as it is.
pub(in crate::platform) fn quote_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/@+=,%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

pub(in crate::platform) fn null_device() -> &'static Path {
    Path::new("/dev/null")
}
