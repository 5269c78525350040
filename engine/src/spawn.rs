//! Starting a shim and waiting for its handshake.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::platform;
use crate::procdir::{self, ShimInfo};
use crate::shim::SHIM_ARG;

/// Runs `<exe> __procdeck-shim <dir>` and returns once the command is running (or failed to
/// start). The shim is detached from us (on Unix it detaches itself, so the process we spawn
/// exits at once and is reaped here); its one-line answer arrives on the pipe, which closes when
/// it is done talking.
pub fn start_shim(exe: &Path, dir: &Path, base_env: &BTreeMap<String, String>) -> Result<ShimInfo> {
    let mut cmd = Command::new(exe);
    cmd.arg(SHIM_ARG)
        .arg(dir)
        .envs(base_env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = platform::detached(&mut cmd)
        .spawn()
        .map_err(|e| Error::Spawn(format!("cannot run the shim {}: {e}", exe.display())))?;
    let mut answer = String::new();
    let read = match child.stdout.take() {
        Some(mut out) => out.read_to_string(&mut answer),
        None => Ok(0),
    };
    platform::release_detached(child);
    if let Err(e) = read {
        return Err(Error::Spawn(format!("no answer from the shim: {e}")));
    }
    let answer = answer.trim();
    if let Some(message) = answer.strip_prefix("error ") {
        return Err(Error::Spawn(message.to_owned()));
    }
    if answer != "ok" {
        return Err(Error::Spawn(format!(
            "the shim {} gave no answer (is it a Procdeck executable that calls shim::run_if_requested?)",
            exe.display()
        )));
    }
    procdir::read_json::<ShimInfo>(&dir.join(procdir::SHIM))?
        .ok_or_else(|| Error::Spawn("the shim started but did not record its pids".into()))
}

/// The executable to re-run as the shim: the configured one, which must exist, else the
/// running executable.
pub fn shim_exe(configured: Option<&PathBuf>) -> Result<PathBuf> {
    match configured {
        Some(p) if p.is_file() => Ok(p.clone()),
        Some(p) => Err(Error::Spawn(format!(
            "the supervisor {} is missing: processes run under the procdeck CLI, which must be installed there",
            p.display()
        ))),
        None => std::env::current_exe()
            .map_err(|e| Error::Spawn(format!("cannot find the running executable: {e}"))),
    }
}
