//! Runs of one service. Running a command again (a restart, "Run again", a stack) makes a new
//! record each time; the runs with the same title in the same folder are one service, which the
//! fronts show as one row: its latest run, with the earlier ones a click away.

use std::collections::HashMap;

use crate::record::ProcessRecord;

/// The key that runs of one service share. Opaque to the fronts: they group records by it.
pub fn service_key(title: &str, cwd: &str) -> String {
    // NUL is in neither a path nor a title that reached a record, so the key is unambiguous.
    format!("{cwd}\u{0}{title}")
}

/// The latest run of each service, in the order of `records`, which must be sorted by start (the
/// index's order).
pub fn latest_runs(records: &[ProcessRecord]) -> Vec<&ProcessRecord> {
    let last: HashMap<&str, usize> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.service.as_str(), i))
        .collect();
    records
        .iter()
        .enumerate()
        .filter(|(i, r)| last.get(r.service.as_str()) == Some(i))
        .map(|(_, r)| r)
        .collect()
}

/// How many services have a run that is running, and how many services there are.
pub fn service_counts(records: &[ProcessRecord]) -> (usize, usize) {
    let mut running = std::collections::HashSet::new();
    let mut all = std::collections::HashSet::new();
    for r in records {
        all.insert(r.service.as_str());
        if r.status.is_running() {
            running.insert(r.service.as_str());
        }
    }
    (running.len(), all.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, title: &str, cwd: &str, started_at: &str) -> ProcessRecord {
        let mut record: ProcessRecord = serde_json::from_value(serde_json::json!({
            "id": id, "workspaceId": "/p", "title": title, "command": title, "cwd": cwd,
            "status": "stopped", "pid": null, "startedAt": started_at, "stoppedAt": null,
            "exitCode": null,
        }))
        .expect("a record");
        record.service = service_key(title, cwd);
        record
    }

    #[test]
    fn one_row_per_title_and_folder_showing_the_latest_run() {
        let records = [
            run("a", "web", "/p", "2026-11-30T10:00:00.000Z"),
            run("b", "worker", "/p", "2026-11-30T10:01:00.000Z"),
            run("c", "web", "/p", "2026-11-30T10:02:00.000Z"),
            run("d", "web", "/p/api", "2026-11-30T10:03:00.000Z"),
            run("e", "web", "/p", "2026-11-30T10:04:00.000Z"),
        ];
        let latest: Vec<&str> = latest_runs(&records)
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(latest, ["b", "d", "e"]);
    }

    #[test]
    fn services_are_counted_once_however_many_runs_they_have() {
        let mut records = [
            run("a", "web", "/p", "2026-11-30T10:00:00.000Z"),
            run("b", "worker", "/p", "2026-11-30T10:01:00.000Z"),
            run("c", "web", "/p", "2026-11-30T10:02:00.000Z"),
            run("d", "web", "/p/api", "2026-11-30T10:03:00.000Z"),
        ];
        assert_eq!(service_counts(&records), (0, 3));
        // An earlier run still running makes its service count as running, once.
        records[0].status = crate::record::Status::Running;
        records[2].status = crate::record::Status::Running;
        assert_eq!(service_counts(&records), (1, 3));
        assert_eq!(service_counts(&[]), (0, 0));
    }

    #[test]
    fn keys_do_not_collide_across_title_and_folder() {
        assert_ne!(service_key("b", "/a"), service_key("", "/a\u{0}b"));
        assert_ne!(service_key("x y", "/p"), service_key("y", "/p x"));
    }
}
