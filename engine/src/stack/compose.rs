//! A `process-compose.yaml` imported as a stack, for a folder that has one and no
//! `procdeck.toml`. Its `processes:` become entries: `command`, `working_dir`, `environment`
//! (`KEY=VALUE` lines), `depends_on` (every condition is taken as "once the dependency is ready"),
//! `readiness_probe.http_get` (an HTTP probe, its timeout from the probe's delay, period and
//! failure threshold) and `disabled` (not started by default). Other keys are left alone; an
//! `exec` readiness probe cannot be imported and is said to be.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};

use super::{check, invalid, ReadyProbe, Stack, StackEntry};

/// The names process-compose looks for, in its order.
pub const COMPOSE_FILES: &[&str] = &["process-compose.yaml", "process-compose.yml"];

#[derive(Deserialize)]
struct Document {
    /// Kept as a mapping, which keeps the file's order, and read entry by entry.
    #[serde(default)]
    processes: yaml_serde::Mapping,
}

#[derive(Deserialize)]
struct Process {
    command: String,
    working_dir: Option<String>,
    #[serde(default)]
    environment: Vec<String>,
    #[serde(default)]
    depends_on: BTreeMap<String, serde::de::IgnoredAny>,
    readiness_probe: Option<Probe>,
    #[serde(default)]
    disabled: bool,
}

#[derive(Deserialize)]
struct Probe {
    http_get: Option<HttpGet>,
    exec: Option<serde::de::IgnoredAny>,
    initial_delay_seconds: Option<u64>,
    period_seconds: Option<u64>,
    failure_threshold: Option<u64>,
}

#[derive(Deserialize)]
struct HttpGet {
    host: Option<String>,
    port: u16,
    path: Option<String>,
    scheme: Option<String>,
}

/// process-compose's probe defaults: checked every 10 s, given up after 3 failures.
const PERIOD_S: u64 = 10;
const FAILURES: u64 = 3;

/// The process-compose file in `text`, read from `file`, as a stack.
pub fn parse(file: &Path, text: &str) -> Result<Stack> {
    let doc: Document = yaml_serde::from_str(text).map_err(|e| Error::Stack {
        file: file.to_owned(),
        line: e.location().map(|l| l.line()),
        message: e.to_string().lines().next().unwrap_or_default().to_owned(),
    })?;
    let mut entries = Vec::with_capacity(doc.processes.len());
    for (key, value) in doc.processes {
        let Some(name) = key.as_str().map(str::to_owned) else {
            return Err(invalid(
                file,
                1,
                "a process under processes: is not named by a string",
            ));
        };
        let line = line_of_key(text, &name);
        check::name(file, line, &name)?;
        let p: Process = yaml_serde::from_value(value)
            .map_err(|e| invalid(file, line, format!("{name}: {e}")))?;
        check::command(file, line, &name, &p.command)?;
        let cwd = match &p.working_dir {
            Some(dir) => Some(check::cwd(file, line, &name, dir)?),
            None => None,
        };
        let mut env = BTreeMap::new();
        for pair in &p.environment {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(invalid(
                    file,
                    line,
                    format!("{name}'s environment entry {pair:?} is not KEY=VALUE"),
                ));
            };
            check::env(file, line, &name, key, value)?;
            env.insert(key.to_owned(), value.to_owned());
        }
        let ready = match p.readiness_probe {
            Some(probe) => probe_of(file, line, &name, probe)?,
            None => None,
        };
        entries.push(StackEntry {
            name,
            command: p.command,
            cwd,
            env,
            depends_on: p.depends_on.into_keys().collect(),
            ready,
            autostart: !p.disabled,
            line,
        });
    }
    Stack::checked(file, entries, text)
}

fn probe_of(file: &Path, line: usize, name: &str, probe: Probe) -> Result<Option<ReadyProbe>> {
    if probe.exec.is_some() {
        return Err(invalid(
            file,
            line,
            format!("{name}'s readiness_probe.exec cannot be imported: use http_get, or write a procdeck.toml with a log_regex or port"),
        ));
    }
    let Some(get) = probe.http_get else {
        return Ok(None);
    };
    let scheme = get.scheme.as_deref().unwrap_or("http");
    let host = get.host.as_deref().unwrap_or("127.0.0.1");
    let path = get.path.as_deref().unwrap_or("/");
    let slash = if path.starts_with('/') { "" } else { "/" };
    let url = format!("{scheme}://{host}:{}{slash}{path}", get.port);
    check::http(file, line, name, &url)?;
    let seconds = probe.initial_delay_seconds.unwrap_or(0)
        + probe.period_seconds.unwrap_or(PERIOD_S) * probe.failure_threshold.unwrap_or(FAILURES);
    let timeout = check::timeout(file, line, name, seconds.max(1) as f64)?;
    Ok(Some(ReadyProbe {
        log_regex: None,
        port: None,
        http: Some(url),
        timeout: timeout.max(Duration::from_secs(1)),
    }))
}

/// The line where `name:` is first written as a key (YAML gives no positions for keys), else 1.
fn line_of_key(text: &str, name: &str) -> usize {
    let plain = format!("{name}:");
    let quoted = [format!("\"{name}\":"), format!("'{name}':")];
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with(&plain) || quoted.iter().any(|q| l.starts_with(q.as_str()))
        })
        .map_or(1, |i| i + 1)
}
