//! A `Procfile` (`name: command` per line, `#` comments), the one parser for it: the
//! suggestions list its lines, and a workspace without `procdeck.toml` gets it as its stack,
//! every line an entry with no dependencies, started together.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Result;

use super::{check, invalid, Stack, StackEntry};

pub const PROCFILE: &str = "Procfile";

/// A Procfile line that names a process: its name, command and 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcfileLine {
    pub name: String,
    pub command: String,
    pub line: usize,
}

/// Every line of `text` that names a process; blank lines and comments are skipped, and so is a
/// line that is not `name: command` (reported by [`parse`]).
pub fn lines(text: &str) -> Vec<Result<ProcfileLine, (usize, String)>> {
    text.lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let number = i + 1;
            let Some((name, command)) = line.split_once(':') else {
                return Some(Err((number, format!("{line:?} is not `name: command`"))));
            };
            Some(Ok(ProcfileLine {
                name: name.trim().to_owned(),
                command: command.trim().to_owned(),
                line: number,
            }))
        })
        .collect()
}

/// The Procfile in `text`, read from `file`, as a stack.
pub fn parse(file: &Path, text: &str) -> Result<Stack> {
    let mut entries: Vec<StackEntry> = Vec::new();
    for line in lines(text) {
        let line = line.map_err(|(number, message)| invalid(file, number, message))?;
        check::name(file, line.line, &line.name)?;
        check::command(file, line.line, &line.name, &line.command)?;
        if let Some(first) = entries.iter().find(|e| e.name == line.name) {
            return Err(invalid(
                file,
                line.line,
                format!(
                    "{} is named twice (first on line {})",
                    line.name, first.line
                ),
            ));
        }
        entries.push(StackEntry {
            name: line.name,
            command: line.command,
            cwd: None,
            env: BTreeMap::new(),
            depends_on: Vec::new(),
            ready: None,
            autostart: true,
            line: line.line,
        });
    }
    Stack::checked(file, entries, text)
}
