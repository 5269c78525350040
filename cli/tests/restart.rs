//! `procdeck restart`: the whole spec runs again, and a record this user's Procdeck did not make
//! (shipped in a `.procdeck` folder, or edited) is shown and runs only once confirmed.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::*;
use procdeck_engine::{Error, ForeignConsent, Origin, ProcessRecord, Settings, Status, Workspace};
use serde_json::json;

const SHIPPED_ID: &str = "proc_2026-11-01T0900_c0ffee";

/// A test workspace whose CLI runs and engine handles use a key of their own (under a private
/// `XDG_DATA_HOME`), never the user's.
struct Keyed {
    ws: TestWs,
    data: tempfile::TempDir,
}

impl Keyed {
    fn new() -> Keyed {
        Keyed {
            ws: TestWs::new(),
            data: tempfile::tempdir().expect("data dir"),
        }
    }

    fn key_file(&self) -> PathBuf {
        self.data.path().join("procdeck").join("record-key")
    }

    fn cli<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&self, args: I) -> Output {
        self.ws
            .command(args)
            .env("XDG_DATA_HOME", self.data.path())
            .stdin(Stdio::null())
            .output()
            .expect("run procdeck")
    }

    fn ok<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(&self, args: I) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "procdeck failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn record_json(&self, args: &[&str]) -> ProcessRecord {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let text = self.ok(all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not a record ({e}): {text}"))
    }

    fn list(&self) -> Vec<ProcessRecord> {
        serde_json::from_str(&self.ok(["--json", "list", "--all"])).expect("list json")
    }

    fn record(&self, id: &str) -> ProcessRecord {
        self.list()
            .into_iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("{id} not listed"))
    }

    fn engine(&self) -> Workspace {
        let settings = Settings {
            key_file: Some(self.key_file()),
            ..settings()
        };
        Workspace::open(self.ws.path(), settings).expect("open").0
    }

    fn spec(&self, id: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.ws.process_dir(id).join("spec.json"))
            .expect("read spec.json");
        serde_json::from_str(&text).expect("spec.json is JSON")
    }

    fn process_count(&self) -> usize {
        std::fs::read_dir(self.ws.store().join("processes"))
            .expect("processes folder")
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .count()
    }
}

/// A `.procdeck` as a repository could ship it: a stopped record whose environment makes bash
/// source the repository's own script, which leaves `marker` behind when it runs. The index
/// even claims the record is the user's own.
fn ship_record(folder: &Path) -> PathBuf {
    let store = folder.join(".procdeck");
    let dir = store.join("processes").join(SHIPPED_ID);
    std::fs::create_dir_all(&dir).expect("process folder");
    std::fs::write(folder.join("x.sh"), "echo ran > marker\n").expect("script");
    std::fs::write(
        store.join("workspace.json"),
        json!({ "id": "ws_5b1pped00000", "createdAt": "2026-11-01T09:00:00.000Z" }).to_string(),
    )
    .expect("workspace.json");
    let spec = json!({
        "id": SHIPPED_ID,
        "workspaceId": "ws_5b1pped00000",
        "title": "dev server",
        "command": "true",
        "cwd": folder,
        "env": { "BASH_ENV": "./x.sh" },
        "startedAt": "2026-11-01T09:00:00.000Z",
        "stopGraceMs": 2000,
        "outputCapBytes": 1048576,
        "tag": "00".repeat(32),
    });
    std::fs::write(dir.join("spec.json"), spec.to_string()).expect("spec.json");
    let index = json!([{
        "id": SHIPPED_ID,
        "workspaceId": "ws_5b1pped00000",
        "title": "dev server",
        "command": "npm run dev",
        "cwd": folder,
        "status": "stopped",
        "pid": null,
        "startedAt": "2026-11-01T09:00:00.000Z",
        "stoppedAt": "2026-11-01T09:05:00.000Z",
        "exitCode": 0,
        "env": {},
        "stopGraceMs": 2000,
        "origin": "own",
    }]);
    std::fs::write(store.join("index.json"), index.to_string()).expect("index.json");
    folder.join("marker")
}

#[test]
fn a_shipped_record_is_foreign_and_restart_runs_nothing_without_confirmation() {
    let k = Keyed::new();
    let marker = ship_record(k.ws.path());

    // What is listed is what the spec would run, not what the index claims, and it is foreign.
    let listed = k.record(SHIPPED_ID);
    assert_eq!(listed.origin, Origin::Foreign);
    assert_eq!(listed.command, "true");
    assert_eq!(
        listed.env.get("BASH_ENV").map(String::as_str),
        Some("./x.sh")
    );

    let out = k.cli(["restart", SHIPPED_ID]);
    assert!(!out.status.success(), "a foreign record was restarted");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(r#"command: "true""#), "{stderr}");
    assert!(stderr.contains(r#""BASH_ENV"="./x.sh""#), "{stderr}");
    assert!(
        stderr.contains(&format!("cwd:     {:?}", k.ws.canonical())),
        "{stderr}"
    );
    assert!(stderr.contains("--yes"), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("procdeck: ") && last.contains("not started by you"),
        "{stderr}"
    );

    // Through the engine too: the dedicated error, with what would have run.
    let ws = k.engine();
    match ws.restart(SHIPPED_ID, None) {
        Err(Error::ForeignRecord {
            id, command, env, ..
        }) => {
            assert_eq!(id, SHIPPED_ID);
            assert_eq!(command, "true");
            assert_eq!(env.get("BASH_ENV").map(String::as_str), Some("./x.sh"));
        }
        other => panic!("expected a foreign-record error, got {other:?}"),
    }
    // Consent to something else than the spec holds is no consent.
    let other = ForeignConsent {
        command: "true".into(),
        env: Default::default(),
    };
    assert!(matches!(
        ws.restart(SHIPPED_ID, Some(&other)),
        Err(Error::ForeignRecord { .. })
    ));

    assert!(!marker.exists(), "the shipped environment ran");
    assert_eq!(k.process_count(), 1, "a process was started");
    assert_eq!(k.list().len(), 1);

    // Confirmed, it runs as shown, and the new record is the user's own.
    let new = k.record_json(&["restart", SHIPPED_ID, "--yes"]);
    assert_ne!(new.id, SHIPPED_ID);
    assert_eq!(new.origin, Origin::Own);
    assert_eq!(new.command, "true");
    let ended = k.record_json(&["wait", &new.id, "--timeout", "30"]);
    assert_eq!(ended.status, Status::Stopped);
    assert!(
        marker.exists(),
        "the confirmed run did not run the shown environment"
    );
    assert_eq!(k.record(&new.id).origin, Origin::Own);
    assert_eq!(k.record(SHIPPED_ID).origin, Origin::Foreign);
    let key = std::fs::metadata(k.key_file()).expect("the key was made");
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
}

#[test]
fn restart_keeps_the_whole_spec_and_stops_the_running_one() {
    let k = Keyed::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let first = k.record_json(&[
        "start",
        "--output-cap",
        "4096",
        "--title",
        "kept title",
        "--grace",
        "1.5",
        "-e",
        "FOO=bar",
        "--",
        &format!("echo $FOO; sleep {m}"),
    ]);
    assert_eq!(first.origin, Origin::Own);
    assert_eq!(first.output_cap_bytes, 4096);

    let second = k.record_json(&["restart", &first.id]);
    assert_ne!(second.id, first.id);
    assert_eq!(second.status, Status::Running);
    assert_eq!(second.origin, Origin::Own);
    assert_eq!(second.title, "kept title");
    assert_eq!(second.command, format!("echo $FOO; sleep {m}"));
    assert_eq!(second.env.get("FOO").map(String::as_str), Some("bar"));
    assert_eq!(second.stop_grace_ms, 1500);
    assert_eq!(second.output_cap_bytes, 4096);
    let spec = k.spec(&second.id);
    assert_eq!(spec["outputCapBytes"], 4096, "{spec}");
    assert_eq!(spec["stopGraceMs"], 1500, "{spec}");

    let old = k.record(&first.id);
    assert_eq!(old.status, Status::Stopped, "the first run was not stopped");
    assert!(old.stop_requested);

    let stopped = k.record_json(&["stop", &second.id, "--grace", "0"]);
    assert_eq!(stopped.status, Status::Stopped);
    assert!(processes_with(&m).is_empty(), "a sleep survived");
}

#[test]
fn an_own_record_edited_on_disk_becomes_foreign() {
    let k = Keyed::new();
    let first = k.record_json(&["start", "--", "true"]);
    k.record_json(&["wait", &first.id, "--timeout", "30"]);
    assert_eq!(k.record(&first.id).origin, Origin::Own);

    // Under another key (another user, or a lost key) the same record is not own.
    let other = tempfile::tempdir().expect("other data dir");
    let out =
        k.ws.command(["--json", "list"])
            .env("XDG_DATA_HOME", other.path())
            .output()
            .expect("list");
    let records: Vec<ProcessRecord> = serde_json::from_slice(&out.stdout).expect("list json");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].origin, Origin::Foreign);
    assert!(
        !other.path().join("procdeck").exists(),
        "listing made a key"
    );

    let spec_path = k.ws.process_dir(&first.id).join("spec.json");
    let mut spec = k.spec(&first.id);
    spec["command"] = json!("echo ran > marker");
    std::fs::write(&spec_path, spec.to_string()).expect("edit spec.json");

    let edited = k.record(&first.id);
    assert_eq!(edited.origin, Origin::Foreign);
    assert_eq!(
        edited.command, "echo ran > marker",
        "the record hides the edit"
    );
    let out = k.cli(["restart", &first.id]);
    assert!(!out.status.success(), "an edited record was restarted");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("echo ran > marker"),
        "the edited command was not shown"
    );
    assert!(!k.ws.path().join("marker").exists());
    assert_eq!(k.process_count(), 1);
}
