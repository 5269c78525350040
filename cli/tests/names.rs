//! A process can be named by its id, a unique start of its id, or its exact title, in every
//! command that takes one; a name that fits several says which ids it fits.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use common::*;

/// Starts a finished process titled `title` and returns its id.
fn finished(ws: &TestWs, title: &str, command: &str) -> String {
    let r = ws.start_with(&["--title", title], command);
    ws.wait(&r.id);
    r.id
}

#[test]
fn a_unique_id_start_or_an_exact_title_names_a_process() {
    let ws = TestWs::new();
    let web = finished(&ws, "web", "echo from web");
    let worker = finished(&ws, "worker", "seq 1 5");
    // Title, in each command that takes a process.
    assert_eq!(ws.ok(["output", "web"]), "from web\n");
    assert_eq!(ws.ok(["output", "worker", "--tail", "2"]), "4\n5\n");
    assert_eq!(ws.ok(["output", "worker", "--grep", "^3"]), "3\n");
    assert_eq!(ws.ok(["output", "web", "--follow"]), "from web\n");
    assert_eq!(ws.json(["wait", "worker"])["id"], worker.as_str());
    assert_eq!(ws.json(["stop", "web"])["id"], web.as_str());
    // The shortest start of an id that only it has.
    let unique = (1..=worker.len())
        .map(|n| &worker[..n])
        .find(|p| !web.starts_with(p))
        .expect("two ids differ");
    assert_eq!(ws.ok(["output", unique]), "1\n2\n3\n4\n5\n");
    assert_eq!(ws.json(["rm", unique])["id"], worker.as_str());
    assert_eq!(ids(&ws.list()), [web.clone()].into_iter().collect());
    // A whole id still works.
    assert_eq!(ws.ok(["output", &web]), "from web\n");
}

#[test]
fn an_ambiguous_name_lists_the_ids_it_fits_and_changes_nothing() {
    let ws = TestWs::new();
    let m = unique_marker();
    let _guard = MarkerGuard(m.clone());
    let first = ws.start_with(&["--title", "web"], &format!("sleep {m}")).id;
    let second = finished(&ws, "web", "true");
    for args in [
        vec!["stop", "web"],
        vec!["rm", "web"],
        vec!["wait", "web", "--timeout", "1"],
        vec!["output", "web"],
        vec!["output", "web", "--follow"],
    ] {
        let err = ws.fails(&args);
        assert!(
            err.contains(&first) && err.contains(&second),
            "{args:?}: {err}"
        );
        assert!(err.contains("\"web\" names 2 processes"), "{err}");
    }
    // "proc_" starts both ids.
    let err = ws.fails(["stop", "proc_"]);
    assert!(err.contains(&first) && err.contains(&second), "{err}");
    let records = ws.list();
    assert_eq!(records.len(), 2);
    assert!(
        is_running(&ws.record(&first)),
        "an ambiguous stop stopped it"
    );
    ws.stop(&first, "0");
}

#[test]
fn unknown_names_are_one_error_line() {
    let ws = TestWs::new();
    finished(&ws, "web", "true");
    for name in ["api", "Web", "we", "proc_1999", "web ", ""] {
        let err = ws.fails(["output", name]);
        assert!(
            err.contains("no process with id, start of an id or title"),
            "{name:?}: {err}"
        );
    }
    let err = ws.fails(["stop", "proc_2026-01-01T0000_abcdef"]);
    assert_eq!(
        err.trim_end(),
        "procdeck: no process with id proc_2026-01-01T0000_abcdef in this workspace"
    );
}

#[test]
fn a_title_that_looks_like_an_id_never_takes_over_that_id() {
    let ws = TestWs::new();
    let real = finished(&ws, "real", "echo real");
    // A record titled with the other's whole id, and one titled with a start of it.
    let decoy = finished(&ws, &real, "echo decoy");
    let prefix = &real[..real.len() - 2];
    let partial = finished(&ws, prefix, "echo partial");
    assert_eq!(ws.ok(["output", &real]), "real\n");
    // The start of the id fits `real` by its id and `partial` by its title.
    let err = ws.fails(["output", prefix]);
    assert!(err.contains(&real) && err.contains(&partial), "{err}");
    assert!(!err.contains(&decoy), "{err}");
    // The decoy is still reachable by its own id.
    assert_eq!(ws.ok(["output", &decoy]), "decoy\n");
}
