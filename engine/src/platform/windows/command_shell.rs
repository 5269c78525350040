//! The shell that runs a command line (`cmd.exe`), quoting for it, and what stands for the
//! login shell.

use std::ffi::OsString;
use std::io;
use std::os::windows::ffi::OsStringExt;
use std::os::windows::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use windows_sys::Win32::System::SystemInformation::GetSystemDirectoryW;

use crate::platform::ShellCapture;

/// `cmd.exe` in the system folder, by absolute path: looking it up in `PATH` (or `ComSpec`)
/// would run whatever the command's environment or the repository puts there.
pub(in crate::platform) fn command_shell() -> &'static Path {
    static SHELL: OnceLock<PathBuf> = OnceLock::new();
    SHELL.get_or_init(|| system_dir().join("cmd.exe"))
}

fn system_dir() -> PathBuf {
    let mut buf = vec![0u16; 1024];
    // SAFETY: `buf` holds as many u16s as passed.
    let n = unsafe { GetSystemDirectoryW(buf.as_mut_ptr(), buf.len() as u32) } as usize;
    if n == 0 || n >= buf.len() {
        return PathBuf::from(r"C:\Windows\System32");
    }
    PathBuf::from(OsString::from_wide(&buf[..n]))
}

/// `cmd.exe /d /s /c "COMMAND"`: no AutoRun commands from the registry (`/d`), and with `/s`
/// cmd takes what is between the outer quotes as the command line, unchanged. The line is
/// passed as it is, since cmd does not parse arguments the way programs do.
pub(in crate::platform) fn shell_command(command: &str) -> Command {
    let mut cmd = Command::new(command_shell());
    cmd.raw_arg(format!("/d /s /c \"{command}\""));
    cmd
}

/// Quotes `word` for a cmd command line unless it only holds characters cmd and programs'
/// argument parsing leave alone: in double quotes, where cmd's operators (`&|<>^`) are plain,
/// with quotes and the backslashes before them escaped for the program's parsing. `%` cannot be
/// escaped inside quotes on a cmd command line: `%NAME%` in a word is still expanded.
pub(in crate::platform) fn quote_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/\\@+=,".contains(c));
    if plain {
        return word.to_owned();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in word.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.extend(std::iter::repeat_n('\\', backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            _ => {
                out.extend(std::iter::repeat_n('\\', backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.extend(std::iter::repeat_n('\\', backslashes * 2));
    out.push('"');
    out
}

pub(in crate::platform) fn null_device() -> &'static Path {
    Path::new("NUL")
}

/// A Windows session has no login shell: a process started from the desktop already has the
/// user's environment.
pub(in crate::platform) fn user_shell() -> PathBuf {
    command_shell().to_owned()
}

pub(in crate::platform) fn run_login_shell(
    shell: &Path,
    _script: &str,
    _env: (&str, &str),
    _home: Option<&Path>,
    _deadline: std::time::Instant,
    _printed: &[u8],
) -> io::Result<ShellCapture> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "{} is not a login shell: on Windows a process started from the desktop has the user's environment already",
            shell.display()
        ),
    ))
}
