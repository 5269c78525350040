//! A process record to build unit tests on, with every field a test does not care about set to
//! something ordinary.

use procdeck_engine::{Origin, ProcessRecord, Status};

pub fn record(id: &str, title: &str, status: Status) -> ProcessRecord {
    ProcessRecord {
        id: id.into(),
        workspace_id: "/code/shop".into(),
        title: title.into(),
        command: title.into(),
        cwd: "/code/shop".into(),
        status,
        pid: Some(1234),
        started_at: "2026-11-25T00:00:00Z".into(),
        stopped_at: None,
        exit_code: None,
        signal: None,
        output_size_bytes: 0,
        dropped_bytes: 0,
        stop_requested: false,
        stopping_since: None,
        env: Default::default(),
        stop_grace_ms: 2000,
        output_cap_bytes: 0,
        origin: Origin::Own,
        started_by: None,
        service: procdeck_engine::runs::service_key(title, "/code/shop"),
        supervisor: None,
    }
}
