//! Commands a workspace folder offers, read from the files that name them: `package.json`
//! scripts, a `Procfile`, `Makefile` targets and `Cargo.toml`.
//!
//! These files come from whatever folder the user opened, so each one is read defensively:
//! only regular files, at most [`MAX_FILE_BYTES`], and a file that does not parse contributes
//! nothing rather than failing the whole list.

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::Path;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// Larger files are not manifests anyone wrote by hand; they are skipped.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A command the workspace offers to start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    /// The file it came from: `package.json`, `Procfile`, `Makefile` or `Cargo.toml`.
    pub source: String,
    /// A short label: the script, process type or target name.
    pub name: String,
    /// The shell command to run in the workspace folder.
    pub command: String,
}

/// Every suggestion for `folder`, grouped by source in the order package.json, Procfile,
/// Makefile, Cargo.toml, each in the order its file lists them.
pub fn suggestions(folder: &Path) -> Vec<Suggestion> {
    let mut out = Vec::new();
    out.extend(package_json(folder));
    out.extend(procfile(folder));
    out.extend(makefile(folder));
    out.extend(cargo(folder));
    out
}

/// The file's text, or None when it is missing, not a regular file, too large or not UTF-8.
fn read_capped(path: &Path) -> Option<String> {
    // Non-blocking so that a FIFO planted under a manifest's name cannot block the open; it has
    // no effect on reading a regular file.
    let file = crate::platform::non_blocking(fs::OpenOptions::new().read(true))
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        tracing::debug!(path = %path.display(), "not a regular file; skipped");
        return None;
    }
    let mut bytes = Vec::new();
    if let Err(e) = file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes) {
        tracing::debug!(path = %path.display(), error = %e, "unreadable; skipped");
        return None;
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        tracing::debug!(path = %path.display(), "larger than {MAX_FILE_BYTES} bytes; skipped");
        return None;
    }
    match String::from_utf8(bytes) {
        // Editors on Windows may save with a byte order mark, which npm accepts.
        Ok(text) => Some(match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_owned(),
            None => text,
        }),
        Err(_) => {
            tracing::debug!(path = %path.display(), "not UTF-8; skipped");
            None
        }
    }
}

fn suggestion(source: &str, name: impl Into<String>, command: impl Into<String>) -> Suggestion {
    Suggestion {
        source: source.to_owned(),
        name: name.into(),
        command: command.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// package.json

#[derive(Deserialize)]
struct PackageJson {
    #[serde(default)]
    scripts: Option<OrderedMap>,
    #[serde(default, rename = "packageManager")]
    package_manager: Option<serde_json::Value>,
}

/// A JSON object's entries in file order: people list `dev` before `build` for a reason, and
/// serde_json's own map sorts by key.
struct OrderedMap(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for OrderedMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedMap, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }
        d.deserialize_map(V)
    }
}

/// npm runs these itself around install, publish and version; they are not commands to start.
const LIFECYCLE_SCRIPTS: &[&str] = &[
    "install",
    "preinstall",
    "postinstall",
    "uninstall",
    "preuninstall",
    "postuninstall",
    "prepare",
    "preprepare",
    "postprepare",
    "prepublish",
    "prepublishOnly",
    "publish",
    "postpublish",
    "prepack",
    "postpack",
    "preversion",
    "version",
    "postversion",
    "dependencies",
];

fn package_json(folder: &Path) -> Vec<Suggestion> {
    let path = folder.join("package.json");
    let Some(text) = read_capped(&path) else {
        return Vec::new();
    };
    let pkg: PackageJson = match serde_json::from_str(&text) {
        Ok(pkg) => pkg,
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "malformed package.json");
            return Vec::new();
        }
    };
    let scripts: Vec<(String, String)> = pkg
        .scripts
        .map(|m| m.0)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, body)| Some((name, body.as_str()?.to_owned())))
        .collect();
    let names: HashSet<&str> = scripts.iter().map(|(n, _)| n.as_str()).collect();
    let runner = package_runner(folder, pkg.package_manager.as_ref());
    scripts
        .iter()
        .filter(|(name, _)| !name.trim().is_empty() && !is_hook(name, &names))
        .map(|(name, _)| {
            suggestion(
                "package.json",
                name.as_str(),
                format!("{runner} run {}", crate::shell::quote(name)),
            )
        })
        .collect()
}

/// Lifecycle scripts, and `preX`/`postX` which npm runs around `X` by itself.
fn is_hook(name: &str, names: &HashSet<&str>) -> bool {
    LIFECYCLE_SCRIPTS.contains(&name)
        || ["pre", "post"].iter().any(|prefix| {
            name.strip_prefix(prefix)
                .is_some_and(|rest| names.contains(rest))
        })
}

/// The `packageManager` field (Corepack) says which tool the project uses; without it, the
/// lock file does.
fn package_runner(folder: &Path, declared: Option<&serde_json::Value>) -> &'static str {
    let declared = declared
        .and_then(|v| v.as_str())
        .and_then(|s| s.split('@').next())
        .unwrap_or("");
    match declared {
        "pnpm" => return "pnpm",
        "yarn" => return "yarn",
        "bun" => return "bun",
        "npm" => return "npm",
        _ => {}
    }
    let has = |name: &str| folder.join(name).is_file();
    if has("bun.lockb") || has("bun.lock") {
        "bun"
    } else if has("pnpm-lock.yaml") {
        "pnpm"
    } else if has("yarn.lock") {
        "yarn"
    } else {
        "npm"
    }
}

// ---------------------------------------------------------------------------------------------
// Procfile

fn procfile(folder: &Path) -> Vec<Suggestion> {
    let Some(text) = read_capped(&folder.join(crate::stack::procfile::PROCFILE)) else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    crate::stack::procfile::lines(&text)
        .into_iter()
        .flatten()
        .filter(|line| {
            let valid_name = !line.name.is_empty()
                && line
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            valid_name && !line.command.is_empty() && seen.insert(line.name.clone())
        })
        .map(|line| suggestion("Procfile", &line.name, &line.command))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Makefile

/// The names GNU make looks for, in its order.
const MAKEFILES: &[&str] = &["GNUmakefile", "makefile", "Makefile"];

fn makefile(folder: &Path) -> Vec<Suggestion> {
    let Some(text) = MAKEFILES
        .iter()
        .map(|name| folder.join(name))
        .find(|p| p.is_file())
        .and_then(|p| read_capped(&p))
    else {
        return Vec::new();
    };
    make_targets(&text)
        .into_iter()
        .map(|t| {
            let command = format!("make {}", crate::shell::quote(&t));
            suggestion("Makefile", t, command)
        })
        .collect()
}

/// Explicit targets in file order. Recipe lines (indented), continuation lines, `define`
/// bodies, variable assignments, special targets (`.PHONY`), pattern rules (`%`) and targets
/// named by variables (`$(BIN)`) are left out.
fn make_targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut continued = false;
    let mut in_define = false;
    for line in text.lines() {
        let was_continued = continued;
        continued = line.ends_with('\\');
        let first_word = line.split_whitespace().next().unwrap_or("");
        if in_define {
            if first_word == "endef" {
                in_define = false;
            }
            continue;
        }
        if first_word == "define"
            || (matches!(first_word, "export" | "override" | "private")
                && line.split_whitespace().nth(1) == Some("define"))
        {
            in_define = true;
            continue;
        }
        if was_continued || line.starts_with([' ', '\t', '#']) {
            continue;
        }
        let Some(colon) = line.find(':') else {
            continue;
        };
        let (before, after) = (&line[..colon], &line[colon..]);
        // `A = b:c`, `A := b`, `A ::= b`, `A :::= b`.
        if before.contains('=') || after.trim_start_matches(':').starts_with('=') {
            continue;
        }
        for target in before.split_whitespace() {
            if target.starts_with('.')
                || target.contains(['%', '$', '(', ')'])
                || !seen.insert(target.to_owned())
            {
                continue;
            }
            out.push(target.to_owned());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Cargo.toml

fn cargo(folder: &Path) -> Vec<Suggestion> {
    let path = folder.join("Cargo.toml");
    let Some(text) = read_capped(&path) else {
        return Vec::new();
    };
    let manifest: toml::Table = match toml::from_str(&text) {
        Ok(table) => table,
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "malformed Cargo.toml");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    let package = manifest.get("package").and_then(|p| p.as_table());
    // A virtual manifest (workspace root without [package]) builds and tests its members but has
    // no binary of its own.
    if let Some(package) = package {
        let bins = binaries(folder, &manifest, package);
        let default_run = package.get("default-run").and_then(|v| v.as_str());
        // With several binaries and no default-run, a bare `cargo run` refuses to guess.
        if bins.len() == 1 || (!bins.is_empty() && default_run.is_some()) {
            out.push(suggestion("Cargo.toml", "run", "cargo run"));
        }
        if bins.len() > 1 {
            for bin in &bins {
                out.push(suggestion(
                    "Cargo.toml",
                    format!("run --bin {bin}"),
                    format!("cargo run --bin {}", crate::shell::quote(bin)),
                ));
            }
        }
    }
    if package.is_some() || manifest.contains_key("workspace") {
        out.push(suggestion("Cargo.toml", "test", "cargo test"));
        out.push(suggestion("Cargo.toml", "build", "cargo build"));
    }
    out
}

/// The package's binary targets: `[[bin]]` entries, `src/main.rs` (named after the package) and
/// `src/bin/*`, the last two unless `autobins = false`.
fn binaries(folder: &Path, manifest: &toml::Table, package: &toml::Table) -> Vec<String> {
    let mut bins: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !name.is_empty() && !bins.iter().any(|b| b == name) {
            bins.push(name.to_owned());
        }
    };
    if let Some(list) = manifest.get("bin").and_then(|b| b.as_array()) {
        for bin in list {
            if let Some(name) = bin.get("name").and_then(|n| n.as_str()) {
                add(name);
            }
        }
    }
    let autobins = package
        .get("autobins")
        .and_then(|v| v.as_bool())
        .unwrap_or(true);
    if !autobins {
        return bins;
    }
    if folder.join("src/main.rs").is_file() {
        if let Some(name) = package.get("name").and_then(|n| n.as_str()) {
            add(name);
        }
    }
    if let Ok(entries) = fs::read_dir(folder.join("src/bin")) {
        let mut found: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let path = e.path();
                let name = path.file_name()?.to_str()?;
                if path.is_file() {
                    name.strip_suffix(".rs").map(str::to_owned)
                } else if path.join("main.rs").is_file() {
                    Some(name.to_owned())
                } else {
                    None
                }
            })
            .collect();
        found.sort();
        for name in &found {
            add(name);
        }
    }
    bins
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_targets_skip_assignments_special_and_pattern_rules() {
        let text = "\
.PHONY: dev test
VERSION := 1.0
CC = gcc:weird
FLAGS ::= -O2
OTHER ?= x
dev: deps
\tnpm run dev
test:: build
build lint: ; echo both
%.o: %.c
\t$(CC) -c $<
$(BIN): main.o
.DEFAULT_GOAL := dev
# comment: not a target
SRCS = a.c \\
b.c:thing
define RECIPE
inside: nope
endef
dev: more
serve-api:
";
        assert_eq!(
            make_targets(text),
            vec!["dev", "test", "build", "lint", "serve-api"]
        );
    }
}
