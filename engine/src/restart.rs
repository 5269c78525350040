//! Running a process again, exactly as its spec says.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::procdir::{self, Spec};
use crate::record::{Origin, ProcessRecord};
use crate::workspace::{StartRequest, StopRequest, Workspace};

/// What the user was shown, and agreed to run, of a record they did not start. A restart runs
/// such a record only while its spec still says exactly this, so that a spec changed after it
/// was shown is refused instead of run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "camelCase")]
pub struct ForeignConsent {
    pub command: String,
    #[cfg_attr(feature = "ts", ts(type = "Record<string, string>"))]
    pub env: BTreeMap<String, String>,
}

impl ForeignConsent {
    /// Consent to what `record` shows (its fields come from its spec on every read).
    pub fn to(record: &ProcessRecord) -> ForeignConsent {
        ForeignConsent {
            command: record.command.clone(),
            env: record.env.clone(),
        }
    }
}

impl Workspace {
    /// Stops process `id` if it runs, then starts a new one from its `spec.json` (the record of
    /// what was run): the same command, title, folder, environment, grace period, output cap and
    /// starter. A
    /// record this user's Procdeck did not make runs only with `consent` to its command and
    /// environment as they are now; otherwise nothing is stopped or run and the error says what
    /// would have run. The new record is this user's own.
    pub fn restart(&self, id: &str, consent: Option<&ForeignConsent>) -> Result<ProcessRecord> {
        self.get(id)?;
        let path = self.process_dir(id)?.join(procdir::SPEC);
        let spec = procdir::read_json::<Spec>(&path)?.ok_or_else(|| Error::Corrupt {
            path: path.clone(),
            reason: "it is missing, so there is nothing to run again".into(),
        })?;
        if spec.id != id {
            return Err(Error::Corrupt {
                path,
                reason: format!("it describes {:?}, not {id}", spec.id),
            });
        }
        let origin = self.store.trust().origin(&spec, self.folder());
        let consented = consent.is_some_and(|c| c.command == spec.command && c.env == spec.env);
        if origin == Origin::Foreign && !consented {
            return Err(Error::ForeignRecord {
                id: id.to_owned(),
                command: spec.command,
                cwd: spec.cwd,
                env: spec.env,
            });
        }
        self.stop(id, StopRequest::default())?;
        let record = self.start(StartRequest {
            command: spec.command,
            title: Some(spec.title),
            env: spec.env,
            stop_grace: Some(Duration::from_millis(spec.stop_grace_ms)),
            output_cap_bytes: Some(spec.output_cap_bytes),
            cwd: Some(spec.cwd),
            started_by: spec.started_by,
        })?;
        tracing::info!(old = id, new = %record.id, ?origin, "restarted");
        Ok(record)
    }
}
