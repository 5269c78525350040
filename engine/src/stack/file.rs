//! `procdeck.toml`: a stack written by hand or saved from the app.
//!
//! ```toml
//! [processes.db]
//! command = "docker compose up postgres"
//! ready = { log_regex = "ready to accept connections", timeout_s = 60 }
//!
//! [processes.api]
//! command = "cargo run -p api"
//! env = { PORT = "8080" }
//! depends_on = ["db"]
//! ready = { port = 8080 }
//!
//! [processes.web]
//! command = "npm run dev"
//! cwd = "web"
//! depends_on = ["api"]
//! ready = { http = "http://127.0.0.1:5173/" }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};

use super::{check, invalid, line_of, ReadyProbe, Stack, StackEntry, DEFAULT_READY_TIMEOUT};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default)]
    processes: BTreeMap<Spanned<String>, Spanned<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    command: Spanned<String>,
    cwd: Option<Spanned<String>>,
    #[serde(default)]
    env: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    depends_on: Vec<Spanned<String>>,
    ready: Option<Spanned<Ready>>,
    #[serde(default = "yes")]
    autostart: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ready {
    log_regex: Option<Spanned<String>>,
    port: Option<Spanned<i64>>,
    http: Option<Spanned<String>>,
    timeout_s: Option<Spanned<f64>>,
}

/// The stack in `text`, read from `file`, checked whole.
pub fn parse(file: &Path, text: &str) -> Result<Stack> {
    let doc: Document = toml::from_str(text).map_err(|e| Error::Stack {
        file: file.to_owned(),
        line: e.span().map(|span| line_of(text, span.start)),
        message: first_line(e.message()),
    })?;
    let mut named: Vec<(Spanned<String>, Spanned<Entry>)> = doc.processes.into_iter().collect();
    named.sort_by_key(|(name, _)| name.span().start);
    let line = |span: std::ops::Range<usize>| line_of(text, span.start);
    let mut entries = Vec::with_capacity(named.len());
    for (name, entry) in named {
        let at = line(name.span());
        let name = name.into_inner();
        check::name(file, at, &name)?;
        let entry_span = entry.span();
        let entry = entry.into_inner();
        check::command(
            file,
            line(entry.command.span()),
            &name,
            entry.command.get_ref(),
        )?;
        let cwd = match &entry.cwd {
            Some(cwd) => Some(check::cwd(file, line(cwd.span()), &name, cwd.get_ref())?),
            None => None,
        };
        let mut env = BTreeMap::new();
        for (key, value) in entry.env {
            check::env(
                file,
                line(key.span()),
                &name,
                key.get_ref(),
                value.get_ref(),
            )?;
            env.insert(key.into_inner(), value.into_inner());
        }
        let ready = match entry.ready {
            Some(ready) => Some(probe(file, text, &name, ready)?),
            None => None,
        };
        let mut depends_on: Vec<String> = Vec::new();
        for dep in entry.depends_on {
            if depends_on.contains(dep.get_ref()) {
                return Err(invalid(
                    file,
                    line(dep.span()),
                    format!("{name} lists {:?} twice in depends_on", dep.get_ref()),
                ));
            }
            depends_on.push(dep.into_inner());
        }
        entries.push(StackEntry {
            name,
            command: entry.command.into_inner(),
            cwd,
            env,
            depends_on,
            ready,
            autostart: entry.autostart,
            line: at.min(line(entry_span)),
        });
    }
    Stack::checked(file, entries, text)
}

fn probe(file: &Path, text: &str, name: &str, ready: Spanned<Ready>) -> Result<ReadyProbe> {
    let line = |span: std::ops::Range<usize>| line_of(text, span.start);
    let at = line(ready.span());
    let ready = ready.into_inner();
    if let Some(pattern) = &ready.log_regex {
        check::log_regex(file, line(pattern.span()), name, pattern.get_ref())?;
    }
    let port = match &ready.port {
        Some(port) => Some(check::port(file, line(port.span()), name, *port.get_ref())?),
        None => None,
    };
    if let Some(url) = &ready.http {
        check::http(file, line(url.span()), name, url.get_ref())?;
    }
    let timeout = match &ready.timeout_s {
        Some(t) => check::timeout(file, line(t.span()), name, *t.get_ref())?,
        None => DEFAULT_READY_TIMEOUT,
    };
    if ready.log_regex.is_none() && port.is_none() && ready.http.is_none() {
        return Err(invalid(
            file,
            at,
            format!("{name}'s ready says nothing to wait for: give log_regex, port or http"),
        ));
    }
    Ok(ReadyProbe {
        log_regex: ready.log_regex.map(Spanned::into_inner),
        port,
        http: ready.http.map(Spanned::into_inner),
        timeout,
    })
}

/// TOML's messages can run over several lines; the first says what is wrong.
fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}
