//! Events through the engine API: a workspace opened in this test process hears of what
//! separate `procdeck` CLI processes (and the shims) do.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use procdeck_engine::{Event, ProcessRecord, Status, Workspace};

const EVENT_WAIT: Duration = Duration::from_secs(10);

/// Events of one subscription, polled without an async runtime.
struct Events {
    next: Box<dyn FnMut() -> Option<Event>>,
}

impl Events {
    fn of(ws: &Workspace) -> Events {
        let mut rx = ws.subscribe();
        Events {
            next: Box::new(move || rx.try_recv().ok()),
        }
    }

    /// Events received until `done` accepts one (returned last) or `timeout` passes.
    fn until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&Event) -> bool,
    ) -> (Vec<Event>, bool) {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        loop {
            match (self.next)() {
                Some(event) => {
                    let stop = done(&event);
                    out.push(event);
                    if stop {
                        return (out, true);
                    }
                }
                None if Instant::now() >= deadline => return (out, false),
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    /// Waits for an update of `id` that satisfies `want`, returning its record.
    fn updated(
        &mut self,
        id: &str,
        what: &str,
        want: impl Fn(&ProcessRecord) -> bool,
    ) -> ProcessRecord {
        let (events, found) = self.until(
            EVENT_WAIT,
            |e| matches!(e, Event::Updated { record } if record.id == id && want(record)),
        );
        assert!(found, "no event for {what}; got {events:#?}");
        match events.into_iter().last() {
            Some(Event::Updated { record }) => *record,
            other => unreachable!("{other:?}"),
        }
    }
}

fn open(t: &TestWs) -> Arc<Workspace> {
    let (ws, report) = Workspace::open(t.path(), settings()).expect("open workspace");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    Arc::new(ws)
}

#[test]
fn start_stop_and_rm_by_a_separate_cli_are_announced() {
    let t = TestWs::new();
    let ws = open(&t);
    let _watcher = ws.watch().expect("watch");
    let mut events = Events::of(&ws);
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());

    let r = t.start_with(&["--grace", "0.3"], &format!("sleep {m}"));
    let running = events.updated(&r.id, "the start", |rec| rec.status == Status::Running);
    assert_eq!(running.workspace_id, ws.id());
    assert_eq!(running.pid, r.pid);

    t.stop(&r.id, "0.3");
    let stopped = events.updated(&r.id, "the stop", |rec| rec.status == Status::Stopped);
    assert!(stopped.stop_requested);
    assert!(stopped.stopped_at.is_some());

    t.ok(["rm", &r.id]);
    let (got, found) = events.until(EVENT_WAIT, |e| matches!(e, Event::Removed { .. }));
    assert!(found, "no Removed event: {got:#?}");
    match got.last() {
        Some(Event::Removed { id, workspace_id }) => {
            assert_eq!(id, &r.id);
            assert_eq!(workspace_id, ws.id());
        }
        other => panic!("{other:?}"),
    }
    // Nothing about it afterwards.
    let (late, _) = events.until(Duration::from_millis(1500), |_| false);
    assert!(
        late.iter().all(|e| match e {
            Event::Updated { record } => record.id != r.id,
            Event::Removed { .. } => false,
        }),
        "{late:#?}"
    );
}

#[test]
fn an_exit_and_a_dead_shim_are_announced_without_any_cli_call() {
    let t = TestWs::new();
    let ws = open(&t);
    let _watcher = ws.watch().expect("watch");
    let mut events = Events::of(&ws);
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());

    let quick = t.start("sleep 0.5; exit 7");
    let lost = t.start(&format!("sleep {m}"));
    events.updated(&lost.id, "the start", |rec| rec.status == Status::Running);
    let ended = events.updated(&quick.id, "the exit", |rec| rec.status == Status::Error);
    assert_eq!(ended.exit_code, Some(7));

    let shim = t.shim_ids(&lost.id);
    // SAFETY: the shim this test started, checked by its start time.
    assert!(procdeck_engine::procinfo::signal_verified(
        shim.shim_pid,
        shim.shim_start_time,
        libc::SIGKILL
    ));
    let rec = events.updated(&lost.id, "the dead shim", |rec| rec.status == Status::Lost);
    assert!(rec.stopped_at.is_some());
}

#[test]
fn output_growth_is_announced_at_most_about_once_a_second() {
    let t = TestWs::new();
    let ws = open(&t);
    let _watcher = ws.watch().expect("watch");
    let mut events = Events::of(&ws);

    // About 4 s of continuous output, 20 lines a second.
    let r = t.start("for i in $(seq 1 80); do echo line $i; sleep 0.05; done");
    events.updated(&r.id, "the start", |rec| rec.status == Status::Running);
    let (window, _) = events.until(Duration::from_secs(3), |_| false);
    let sizes: Vec<u64> = window
        .iter()
        .filter_map(|e| match e {
            Event::Updated { record } if record.id == r.id => Some(record.output_size_bytes),
            _ => None,
        })
        .collect();
    assert!(
        sizes.len() <= 5,
        "{} updates in 3 s of output: {sizes:?}",
        sizes.len()
    );
    assert!(
        sizes.len() >= 2,
        "output growth must be announced: {sizes:?}"
    );
    assert!(
        sizes.windows(2).all(|w| w[0] <= w[1]) && sizes[0] > 0,
        "sizes announced: {sizes:?}"
    );
    eprintln!("output size updates in 3 s: {sizes:?}");
    let end = events.updated(&r.id, "the end", |rec| rec.status == Status::Stopped);
    let expected: usize = (1..=80).map(|i| format!("line {i}\n").len()).sum();
    assert_eq!(end.output_size_bytes, expected as u64);
}

#[test]
fn operations_of_the_engine_itself_are_announced() {
    let t = TestWs::new();
    let ws = open(&t);
    let mut events = Events::of(&ws);
    let rec = ws
        .start(procdeck_engine::StartRequest::new("echo from the engine"))
        .expect("engine start");
    events.updated(&rec.id, "the start", |r| r.status == Status::Running);
    let done = ws.wait(&rec.id, Some(Duration::from_secs(10))).unwrap();
    assert_eq!(done.status, Status::Stopped);
    events.updated(&rec.id, "the exit", |r| r.status == Status::Stopped);
    ws.remove(&rec.id).unwrap();
    let (got, found) = events.until(
        EVENT_WAIT,
        |e| matches!(e, Event::Removed { id, .. } if id == &rec.id),
    );
    assert!(found, "{got:#?}");
    // The CLI sees the engine's changes too.
    assert!(t.list().is_empty());
}
