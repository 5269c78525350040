//! Events through the engine API: a workspace opened in this test process hears of what
//! separate `procdeck` CLI processes (and the shims) do.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use procdeck_engine::{Event, ProcessRecord, Status, Workspace};

const EVENT_WAIT: Duration = PATIENCE;

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

    // The quick one ends only once the other's start has been heard of: otherwise its exit could
    // arrive first and be passed over while waiting for that start.
    let quick = t.start("while [ ! -e go ]; do sleep 0.02; done; exit 7");
    let lost = t.start(&format!("sleep {m}"));
    events.updated(&lost.id, "the start", |rec| rec.status == Status::Running);
    std::fs::write(t.path().join("go"), "").unwrap();
    let ended = events.updated(&quick.id, "the exit", |rec| rec.status == Status::Error);
    assert_eq!(ended.exit_code, Some(7));

    let shim = t.shim_ids(&lost.id);
    // SAFETY: the shim this test started, checked by its start time.
    assert!(procdeck_engine::platform::signal_verified(
        shim.shim_pid,
        shim.shim_start_time,
        procdeck_engine::platform::Signal::Kill
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

    // Growth is announced while the process still runs: it waits for the gate after its first
    // line, and the gate opens only once a size has been announced.
    let started = Instant::now();
    let r = t.start(
        "echo line 0; while [ ! -e go ]; do sleep 0.02; done; \
         for i in $(seq 1 60); do echo line $i; sleep 0.05; done",
    );
    let first = events.updated(&r.id, "the first output", |rec| {
        rec.status == Status::Running && rec.output_size_bytes > 0
    });
    std::fs::write(t.path().join("go"), "").unwrap();
    let (rest, found) = events.until(EVENT_WAIT, |e| {
        matches!(e, Event::Updated { record } if record.id == r.id && record.status == Status::Stopped)
    });
    assert!(found, "no end: {rest:#?}");
    let elapsed = started.elapsed().as_secs_f64();
    let mut sizes = vec![first.output_size_bytes];
    sizes.extend(rest.iter().filter_map(|e| match e {
        Event::Updated { record } if record.id == r.id && record.status == Status::Running => {
            Some(record.output_size_bytes)
        }
        _ => None,
    }));
    eprintln!("output size updates in {elapsed:.1} s: {sizes:?}");
    assert!(
        sizes.windows(2).all(|w| w[0] <= w[1]),
        "sizes announced: {sizes:?}"
    );
    // At most one a second (plus the first), over the whole time the process ran: a bound that
    // a slow machine only makes easier to meet.
    assert!(
        sizes.len() as f64 <= elapsed + 2.0,
        "{} size updates in {elapsed:.1} s: {sizes:?}",
        sizes.len()
    );
    let end = match rest.last() {
        Some(Event::Updated { record }) => record,
        other => panic!("{other:?}"),
    };
    let expected: usize = (0..=60).map(|i| format!("line {i}\n").len()).sum();
    assert_eq!(end.output_size_bytes, expected as u64);
}

#[test]
fn operations_of_the_engine_itself_are_announced() {
    let t = TestWs::new();
    let ws = open(&t);
    let mut events = Events::of(&ws);
    // The command waits for the gate, so that its start is seen running: an `echo` alone can
    // end before the first event is made, which then announces the exit.
    let gate = t.path().join("go");
    let rec = ws
        .start(procdeck_engine::StartRequest::new(format!(
            "while [ ! -e '{}' ]; do sleep 0.02; done; echo from the engine",
            gate.display()
        )))
        .expect("engine start");
    events.updated(&rec.id, "the start", |r| r.status == Status::Running);
    std::fs::write(&gate, "").expect("open the gate");
    let done = ws.wait(&rec.id, Some(PATIENCE)).unwrap();
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
