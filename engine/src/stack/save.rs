//! "Save running as stack": a `procdeck.toml` written from what runs now, the latest run of each
//! service, so that the morning's set can be started again in one go. An existing file is never
//! replaced: it may hold dependencies and probes written by hand.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::record::ProcessRecord;
use crate::runs;
use crate::workspace::Workspace;

use super::{check, file, Stack, STACK_FILE};

#[derive(Serialize)]
struct Document {
    processes: BTreeMap<String, Entry>,
}

#[derive(Serialize)]
struct Entry {
    command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwd: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    env: BTreeMap<String, String>,
}

impl Workspace {
    /// Writes the running processes as the workspace's `procdeck.toml` and returns it as read
    /// back. Fails when the file exists or nothing runs.
    pub fn save_running_as_stack(&self) -> Result<Stack> {
        let path = self.folder().join(STACK_FILE);
        let records = self.list()?;
        let running: Vec<&ProcessRecord> = runs::latest_runs(&records)
            .into_iter()
            .filter(|r| r.status.is_running())
            .collect();
        if running.is_empty() {
            return Err(Error::Stack {
                file: path,
                line: None,
                message: "nothing runs in this workspace to save as its stack".into(),
            });
        }
        let text = render(self.folder(), &running)?;
        crate::atomic::write_new(&path, text.as_bytes()).map_err(|e| match e {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
                Error::Stack {
                    file: path.clone(),
                    line: None,
                    message: "the workspace has a stack file already; edit it instead".into(),
                }
            }
            other => other,
        })?;
        let stack = file::parse(&path, &text)?;
        // The user made it from what they started: it runs nothing they have not seen.
        self.confirm_stack(&stack)?;
        Ok(stack)
    }
}

/// The TOML of a stack with one entry per process, named by its title (made unique and valid).
fn render(folder: &Path, running: &[&ProcessRecord]) -> Result<String> {
    let mut processes = BTreeMap::new();
    for r in running {
        let base = name_for(&r.title);
        let mut name = base.clone();
        let mut n = 2;
        while processes.contains_key(&name) {
            name = format!("{base} ({n})");
            n += 1;
        }
        let cwd = Path::new(&r.cwd)
            .strip_prefix(folder)
            .ok()
            .filter(|rel| !rel.as_os_str().is_empty())
            .map(|rel| rel.to_string_lossy().into_owned());
        processes.insert(
            name,
            Entry {
                command: r.command.clone(),
                cwd,
                env: r.env.clone(),
            },
        );
    }
    let body = toml::to_string(&Document { processes }).map_err(|e| Error::Stack {
        file: folder.join(STACK_FILE),
        line: None,
        message: format!("the stack could not be written as TOML: {e}"),
    })?;
    Ok(format!(
        "# The processes of this folder, started together by `procdeck up` or the app's Start stack.\n\
         # Each may add depends_on = [\"name\", ...] and ready = {{ log_regex = \"...\" }},\n\
         # {{ port = N }} or {{ http = \"http://127.0.0.1:N/\" }}.\n\n{body}"
    ))
}

/// A valid entry name for a title: control characters become spaces, the ends are trimmed, and
/// it is cut to the longest name.
fn name_for(title: &str) -> String {
    let clean: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut name: String = clean.trim().chars().take(100).collect();
    name = name.trim().to_owned();
    if check::is_name(&name) {
        name
    } else {
        "process".to_owned()
    }
}
