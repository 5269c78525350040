//! Seconds given on the command line are bounded: a value no deadline can be computed from
//! (huge, infinite, NaN, negative) is one clear error line, and nothing is signalled.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use common::*;

#[test]
fn unusable_grace_and_timeout_values_are_refused() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let r = ws.start(&format!("sleep {m}"));
    let grace_err = "expected a number of seconds from 0 to 86400";
    let timeout_err = "expected a number of seconds from 0 to 31536000";
    for value in ["1e19", "1e300", "86401", "NaN", "inf", "-inf", "-1", "ten"] {
        let opt = format!("--grace={value}");
        let err = ws.fails(["stop", &r.id, &opt]);
        assert!(err.contains(grace_err), "stop {value}: {err}");
        let err = ws.fails(["start", &opt, "--", "true"]);
        assert!(err.contains(grace_err), "start {value}: {err}");
        let opt = format!("--timeout={value}");
        if value != "86401" {
            let err = ws.fails(["wait", &r.id, &opt]);
            assert!(err.contains(timeout_err), "wait {value}: {err}");
        }
    }
    let err = ws.fails(["wait", &r.id, "--timeout", "31536001"]);
    assert!(err.contains(timeout_err), "{err}");
    // Nothing was started or stopped.
    assert_eq!(ws.list().len(), 1);
    assert!(is_running(&ws.record(&r.id)));
    // The largest values are accepted: the wait times out at once, the stop ends the process
    // at SIGTERM without waiting for the grace.
    let err = ws.fails(["wait", &r.id, "--timeout", "0"]);
    assert!(err.contains("timed out"), "{err}");
    let stopped = ws.stop(&r.id, "86400");
    assert!(!is_running(&stopped), "{stopped:?}");
    assert_eq!(
        ws.json(["wait", &r.id, "--timeout", "31536000"])["id"],
        r.id.as_str()
    );
}
