//! Why a start failed with "address already in use", said the way a person needs it: which port,
//! who holds it (a process of this workspace, of another workspace, or something outside
//! Procdeck), and, when Procdeck started the holder, a way to stop it and run this again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::output::{ReadMethod, ReadRequest};
use crate::ports::{self, PortOwner};
use crate::record::Status;
use crate::restart::ForeignConsent;
use crate::shim::SHIM_ARG;
use crate::store::STORE_DIR;
use crate::workspace::Workspace;
use crate::{platform, ProcessRecord};

/// How much of a failed process's output is searched for "address already in use".
const PORT_HINT_BYTES: u64 = 16 * 1024;
/// How far up the parent chain a socket's holder may sit below its shim.
const MAX_TREE_DEPTH: usize = 64;

/// Where the port of a conflict was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub enum PortSource {
    /// The "address already in use" message named it.
    Output,
    /// The message named none; the command line or environment did (`--port 8765`, `PORT=8765`).
    Command,
}

/// A process Procdeck started that holds the port, proven so through its shim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct ManagedHolder {
    /// The workspace folder it belongs to.
    pub folder: String,
    pub id: String,
    pub title: String,
    /// Whether it is a process of the same workspace as the one that failed.
    pub same_workspace: bool,
}

/// Why a failed process may have failed: its output says an address was already in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct PortConflict {
    /// The port, when the output or the command names one.
    pub port: Option<u16>,
    pub port_source: Option<PortSource>,
    /// Who holds that port now, when that can be seen.
    pub holder: Option<PortOwner>,
    /// The Procdeck process the holder belongs to, when it is one.
    pub process: Option<ManagedHolder>,
    /// One sentence for people: the port, and who holds it.
    pub message: String,
}

impl Workspace {
    /// For a process that failed: whether its output says a port was taken, and by whom.
    pub fn port_conflict(&self, id: &str) -> Result<Option<PortConflict>> {
        let record = self.get(id)?;
        if record.status != Status::Error {
            return Ok(None);
        }
        let tail = self.read(
            id,
            &ReadRequest {
                max_bytes: Some(PORT_HINT_BYTES),
                ..ReadRequest::new(ReadMethod::Full)
            },
        )?;
        let Some((port, port_source)) = conflict_port(&tail.content, &record) else {
            return Ok(None);
        };
        let holder = port.and_then(ports::who_listens_on);
        let process = holder
            .as_ref()
            .and_then(|h| h.pid)
            .and_then(|pid| self.managed_holder(pid));
        let message = message(port, port_source, holder.as_ref(), process.as_ref());
        Ok(Some(PortConflict {
            port,
            port_source,
            holder,
            process,
            message,
        }))
    }

    /// Stops the Procdeck process that holds the port `id` failed on — in this workspace or
    /// another — then runs `id` again (a record the user did not start needs `consent`, as for
    /// any restart). Refused when the holder is not a process Procdeck started: nothing else is
    /// provably ours to stop.
    pub fn take_port(&self, id: &str, consent: Option<&ForeignConsent>) -> Result<ProcessRecord> {
        let conflict = self.port_conflict(id)?;
        let Some(holder) = conflict.as_ref().and_then(|c| c.process.clone()) else {
            return Err(Error::NoPortHolder {
                id: id.to_owned(),
                reason: conflict.map_or_else(
                    || "its output does not say that an address was in use".to_owned(),
                    |c| c.message,
                ),
            });
        };
        if holder.same_workspace {
            self.stop(&holder.id, Default::default())?;
        } else {
            let (other, _) = Workspace::open(Path::new(&holder.folder), self.settings().clone())?;
            other.stop(&holder.id, Default::default())?;
        }
        tracing::info!(id, holder = %holder.id, folder = %holder.folder, "stopped the port's holder");
        self.restart(id, consent)
    }

    /// The Procdeck process `pid` belongs to: the nearest ancestor that is a shim, whose record
    /// in its own workspace proves it (same shim, alive, leading its session, given that folder).
    fn managed_holder(&self, pid: u32) -> Option<ManagedHolder> {
        let (shim, dir) = shim_above(pid)?;
        let id = dir.file_name()?.to_str()?.to_owned();
        let store = dir.parent()?.parent()?;
        if store.file_name()? != STORE_DIR {
            return None;
        }
        let folder = store.parent()?;
        let same_workspace = folder == self.folder();
        let record = if same_workspace {
            self.get(&id).ok()?
        } else {
            let (other, _) = Workspace::open(folder, self.settings().clone()).ok()?;
            let record = other.get(&id).ok()?;
            other.store.shim_is_ours(&record).then_some(record)?
        };
        let proven = record
            .supervisor
            .as_ref()
            .is_some_and(|s| s.shim_pid == shim)
            && (!same_workspace || self.store.shim_is_ours(&record));
        proven.then(|| ManagedHolder {
            folder: folder.to_string_lossy().into_owned(),
            id,
            title: record.title,
            same_workspace,
        })
    }
}

/// The nearest ancestor of `pid` (or `pid` itself) run as `<exe> __procdeck-shim <dir>`, and
/// that `dir`.
fn shim_above(pid: u32) -> Option<(u32, PathBuf)> {
    let mut current = pid;
    for _ in 0..MAX_TREE_DEPTH {
        if current <= 1 {
            return None;
        }
        let args = platform::cmdline(current)?;
        if args.get(1).is_some_and(|a| a == SHIM_ARG) {
            return Some((current, PathBuf::from(args.get(2)?)));
        }
        current = platform::stat(current)?.ppid;
    }
    None
}

/// The port of an "address already in use" failure and where it was read: the output first,
/// else the command line and environment. None when the output says nothing of the kind.
fn conflict_port(tail: &str, record: &ProcessRecord) -> Option<(Option<u16>, Option<PortSource>)> {
    if let Some(port) = ports::port_in_use_hint(tail) {
        return Some((Some(port), Some(PortSource::Output)));
    }
    if !ports::says_address_in_use(tail) {
        return None;
    }
    Some(match port_in_command(&record.command, &record.env) {
        Some(port) => (Some(port), Some(PortSource::Command)),
        None => (None, None),
    })
}

/// The port a command line asks to listen on: `--port N`, `--port=N`, `-p N`, `PORT=N` (on the
/// line or in `env`), an address such as `0.0.0.0:8000` or `:8080`, or the port argument of
/// `http.server N` and `runserver N`. Flags win over addresses, which win over the rest.
pub fn port_in_command(command: &str, env: &BTreeMap<String, String>) -> Option<u16> {
    let tokens: Vec<&str> = command
        .split(|c: char| c.is_ascii_whitespace() || c == ';' || c == '&' || c == '|')
        .map(|t| t.trim_matches(['"', '\'']))
        .filter(|t| !t.is_empty())
        .collect();
    let flagged = tokens.windows(2).find_map(|pair| match pair {
        [flag, value] if matches!(*flag, "--port" | "-p" | "--listen-port" | "--http-port") => {
            ports::valid_port(value)
        }
        _ => None,
    });
    let assigned = || {
        tokens.iter().find_map(|t| {
            let value = t
                .strip_prefix("--port=")
                .or_else(|| t.strip_prefix("PORT="))?;
            ports::valid_port(value)
        })
    };
    let from_env = || env.get("PORT").and_then(|v| ports::valid_port(v.trim()));
    let address = || {
        tokens.iter().find_map(|t| {
            let value = t.rsplit_once('=').map_or(*t, |(_, v)| v);
            ports::port_in_token(value)
        })
    };
    let positional = || {
        tokens.windows(2).find_map(|pair| match pair {
            [word, value] if positional_port_word().is_match(word) => ports::valid_port(value),
            _ => None,
        })
    };
    flagged
        .or_else(assigned)
        .or_else(from_env)
        .or_else(address)
        .or_else(positional)
}

/// Commands whose next argument is the port: `python3 -m http.server 8000`, Python 2's
/// `SimpleHTTPServer`, Django's `runserver`.
fn positional_port_word() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?:http\.server|SimpleHTTPServer|runserver)$").expect("static regex")
    })
}

/// Longest command of an outside holder quoted in a message.
const MESSAGE_COMMAND_CHARS: usize = 120;

fn message(
    port: Option<u16>,
    source: Option<PortSource>,
    holder: Option<&PortOwner>,
    process: Option<&ManagedHolder>,
) -> String {
    let Some(port) = port else {
        return "The address is already in use, and neither the output nor the command names the port"
            .to_owned();
    };
    let named = match source {
        Some(PortSource::Command) => " (from the command line)",
        _ => "",
    };
    let Some(holder) = holder else {
        return format!("Port {port}{named} was in use; nothing listens on it now");
    };
    let Some(pid) = holder.pid else {
        return format!(
            "Port {port}{named} is held by a process Procdeck cannot inspect (uid {})",
            holder.uid
        );
    };
    match process {
        Some(p) if p.same_workspace => format!(
            "Port {port}{named} is held by {} (pid {pid}) in this workspace",
            p.title
        ),
        Some(p) => format!(
            "Port {port}{named} is held by {} (pid {pid}) in the workspace {}",
            p.title, p.folder
        ),
        None => match holder.command.as_deref().map(str::trim) {
            Some(cmd) if !cmd.is_empty() => {
                let mut shown: String = cmd.chars().take(MESSAGE_COMMAND_CHARS).collect();
                if shown.len() < cmd.len() {
                    shown.push('…');
                }
                format!("Port {port}{named} is held by pid {pid} ({shown}), outside Procdeck")
            }
            _ => format!("Port {port}{named} is held by pid {pid}, outside Procdeck"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(command: &str) -> Option<u16> {
        port_in_command(command, &BTreeMap::new())
    }

    #[test]
    fn the_port_a_command_line_asks_for() {
        assert_eq!(port("python3 -m http.server 8765"), Some(8765));
        assert_eq!(port("python -m SimpleHTTPServer 8000"), Some(8000));
        assert_eq!(port("vite --port 5174"), Some(5174));
        assert_eq!(port("vite --port=5175 --host"), Some(5175));
        assert_eq!(port("rails server -p 3001"), Some(3001));
        assert_eq!(port("PORT=4000 npm start"), Some(4000));
        assert_eq!(port("env PORT=4001 node server.js"), Some(4001));
        assert_eq!(port("gunicorn --bind 0.0.0.0:8001 app:app"), Some(8001));
        assert_eq!(port("uvicorn main:app --host=127.0.0.1:8002"), Some(8002));
        assert_eq!(port("caddy file-server --listen :8080"), Some(8080));
        assert_eq!(port("python manage.py runserver 8003"), Some(8003));
        assert_eq!(port("python manage.py runserver 0.0.0.0:8004"), Some(8004));
        assert_eq!(port("cd web && npm run dev -- --port 3002"), Some(3002));
        // Flags win over an address elsewhere on the line.
        assert_eq!(
            port("proxy --upstream localhost:9000 --port 9001"),
            Some(9001)
        );
    }

    #[test]
    fn lines_that_ask_for_no_port() {
        for command in [
            "npm run dev",
            "mkdir -p build && make",
            "node src/main.js:12",
            "sleep 30",
            "echo 12:30:45",
            "python3 -m http.server",
            "vite --port 0",
            "vite --port 70000",
            "tar -p x.tar",
        ] {
            assert_eq!(port(command), None, "{command}");
        }
    }

    #[test]
    fn the_environment_names_the_port_when_the_line_does_not() {
        let env = BTreeMap::from([("PORT".to_owned(), "3005".to_owned())]);
        assert_eq!(port_in_command("npm start", &env), Some(3005));
        assert_eq!(
            port_in_command("npm start -- --port 3006", &env),
            Some(3006)
        );
    }

    #[test]
    fn messages_name_the_holder() {
        let owner = |pid, command: Option<&str>| PortOwner {
            port: 8765,
            address: "0.0.0.0".into(),
            uid: 1000,
            pid,
            command: command.map(str::to_owned),
        };
        let web = ManagedHolder {
            folder: "/code/shop".into(),
            id: "proc_x".into(),
            title: "web".into(),
            same_workspace: true,
        };
        let cmd = Some(PortSource::Command);
        assert_eq!(
            message(Some(8765), cmd, Some(&owner(Some(18296), None)), Some(&web)),
            "Port 8765 (from the command line) is held by web (pid 18296) in this workspace"
        );
        let elsewhere = ManagedHolder {
            same_workspace: false,
            ..web.clone()
        };
        assert_eq!(
            message(
                Some(8765),
                Some(PortSource::Output),
                Some(&owner(Some(18296), None)),
                Some(&elsewhere)
            ),
            "Port 8765 is held by web (pid 18296) in the workspace /code/shop"
        );
        assert_eq!(
            message(
                Some(8765),
                None,
                Some(&owner(Some(7), Some("node server.js"))),
                None
            ),
            "Port 8765 is held by pid 7 (node server.js), outside Procdeck"
        );
        assert_eq!(
            message(Some(8765), None, Some(&owner(None, None)), None),
            "Port 8765 is held by a process Procdeck cannot inspect (uid 1000)"
        );
        assert_eq!(
            message(Some(8765), cmd, None, None),
            "Port 8765 (from the command line) was in use; nothing listens on it now"
        );
        assert!(message(None, None, None, None).starts_with("The address is already in use"));
    }
}
