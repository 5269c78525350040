//! Titles, commands and names come from records a cloned repository can ship: nothing the CLI
//! prints about them may drive the terminal (escape sequences that write the clipboard, set the
//! window title or clear the screen), while process output itself stays as its bytes.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use common::*;

/// OSC 52 (write the clipboard), OSC 0 (window title), CSI as ESC [ and as the one-byte C1
/// CSI, DEL, a right-to-left override and a newline.
const HOSTILE: &str =
    "web\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{1b}]0;owned\u{1b}\\\u{1b}[2J\u{9b}31m\u{7f}\u{202e}txt\nx";

/// No byte or character a terminal acts on: C0 controls but the line ends, DEL, C1 controls
/// (as UTF-8) and bidirectional overrides.
fn assert_inert(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
        .collect();
    assert!(bad.is_empty(), "{what} printed {bad:?}: {text:?}");
}

#[test]
fn a_hostile_title_is_shown_escaped_in_every_listing() {
    let ws = TestWs::new();
    let r = ws.start_with(&["--title", HOSTILE], "printf 'out\\033[1mbold\\n'");
    ws.wait(&r.id);
    for args in [
        vec!["list"],
        vec!["wait", r.id.as_str()],
        vec!["stop", r.id.as_str()],
        vec!["--json", "list"],
        vec!["--json", "wait", r.id.as_str()],
    ] {
        let out = ws.cli(&args);
        assert!(out.status.success(), "{args:?}");
        assert_inert(&format!("{args:?}"), &out.stdout);
        assert_inert(&format!("{args:?} (stderr)"), &out.stderr);
    }
    let table = ws.ok(["list"]);
    assert!(
        table.contains(
            r"web\x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;owned\x1b\\x1b[2J\u{9b}31m\x7f\u{202e}txt\nx"
        ),
        "{table}"
    );
    assert_eq!(table.lines().count(), 2, "one row: {table}");
    // JSON keeps the value: escaped, it decodes to the very same title.
    assert_eq!(ws.json(["list"])[0]["title"], HOSTILE);
    // The output itself is the process's bytes.
    assert_eq!(ws.ok_bytes(["output", &r.id]), b"out\x1b[1mbold\n");
}

#[test]
fn a_shipped_record_with_a_hostile_title_and_command_is_listed_escaped() {
    let ws = TestWs::new();
    let r = ws.start("true");
    ws.wait(&r.id);
    // As a repository could ship it: the index edited by hand.
    let mut index = ws.raw_index();
    index[0]["title"] = HOSTILE.into();
    index[0]["command"] = "\u{1b}]52;c;Y3VybCBldmlsLnNo\u{7}make".into();
    index[0]["cwd"] = "/tmp/\u{9b}2J".into();
    ws.write_raw_index(&index);
    // Records show what their spec would run, so the spec is shipped edited the same way.
    let spec_path = ws.process_dir(&r.id).join("spec.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&spec_path).expect("read spec")).expect("spec");
    for key in ["title", "command", "cwd"] {
        spec[key] = index[0][key].clone();
    }
    std::fs::write(&spec_path, spec.to_string()).expect("write spec");
    for args in [
        vec!["list"],
        vec!["--json", "list"],
        vec!["--json", "close"],
    ] {
        let out = ws.cli(&args);
        assert!(out.status.success(), "{args:?}");
        assert_inert(&format!("{args:?}"), &out.stdout);
        assert_inert(&format!("{args:?} (stderr)"), &out.stderr);
    }
    let listed = ws.json(["list"]);
    assert_eq!(listed[0]["title"], HOSTILE);
    assert_eq!(listed[0]["cwd"], "/tmp/\u{9b}2J");
}

#[test]
fn errors_naming_hostile_input_are_one_escaped_line() {
    let ws = TestWs::new();
    let r = ws.start_with(&["--title", HOSTILE], "true");
    ws.wait(&r.id);
    let missing = "/nonexistent/\u{1b}]0;x\u{7}";
    let outs = [
        ws.cli(["stop", "\u{1b}]52;c;eA==\u{7}"]),
        ws.cli(["output", "\u{9b}2J"]),
        ws.cli(["output", &r.id, "--grep", "(\u{1b}[2J"]),
        std::process::Command::new(BIN)
            .args(["-w", missing, "list"])
            .output()
            .expect("run procdeck"),
    ];
    for out in &outs {
        let err = check_failure(out);
        assert_inert(&err, err.as_bytes());
        assert!(
            [r"\x1b", r"\u{1b}", r"\u{9b}"]
                .iter()
                .any(|e| err.contains(e)),
            "{err}"
        );
    }
    // A clap usage error quoting the bad value.
    let out = ws.cli(["stop", &r.id, "--grace", "\u{1b}[2J"]);
    let err = check_failure(&out);
    assert_inert("--grace", err.as_bytes());
}
