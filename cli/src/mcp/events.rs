//! Which processes ended since a client's previous call: every result carries them, so an agent
//! hears of a failure at its next call whatever it was doing, with nothing pushed and nothing
//! to poll.

use std::collections::{HashMap, HashSet};

use procdeck_engine::{ProcessRecord, Status};

/// What the client's previous call saw: each record's status.
#[derive(Debug, Default)]
pub struct Seen {
    status: HashMap<String, Status>,
}

impl Seen {
    pub fn new(records: &[ProcessRecord]) -> Seen {
        Seen {
            status: records.iter().map(|r| (r.id.clone(), r.status)).collect(),
        }
    }

    /// The records of `now` that ended since this was seen (running then, or not there then and
    /// already ended now), leaving out `subjects` (the call's own processes, whose result says
    /// how they are); then remembers `now`.
    pub fn ended_since<'a>(
        &mut self,
        now: &'a [ProcessRecord],
        subjects: &HashSet<String>,
    ) -> Vec<&'a ProcessRecord> {
        let ended = now
            .iter()
            .filter(|r| !r.status.is_running() && !subjects.contains(&r.id))
            .filter(|r| match self.status.get(&r.id) {
                Some(before) => before.is_running(),
                None => true,
            })
            .collect();
        *self = Seen::new(now);
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, status: Status) -> ProcessRecord {
        let mut r: ProcessRecord = serde_json::from_value(serde_json::json!({
            "id": id,
            "workspaceId": "ws_1",
            "title": id,
            "command": "true",
            "cwd": "/tmp",
            "status": "running",
            "startedAt": "2026-11-30T12:00:00Z",
        }))
        .expect("a record");
        r.status = status;
        r
    }

    fn ids(records: Vec<&ProcessRecord>) -> Vec<&str> {
        records.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn ends_are_reported_once() {
        let none = HashSet::new();
        let mut seen = Seen::new(&[
            record("a", Status::Running),
            record("b", Status::Running),
            record("old", Status::Error),
        ]);
        let now = [
            record("a", Status::Error),
            record("b", Status::Running),
            record("old", Status::Error),
            // Started and ended between two calls.
            record("c", Status::Stopped),
            record("d", Status::Running),
        ];
        assert_eq!(ids(seen.ended_since(&now, &none)), ["a", "c"]);
        assert!(seen.ended_since(&now, &none).is_empty());
        let later = [record("b", Status::Lost), record("d", Status::Stopped)];
        let subjects = HashSet::from(["d".to_owned()]);
        assert_eq!(ids(seen.ended_since(&later, &subjects)), ["b"]);
    }
}
