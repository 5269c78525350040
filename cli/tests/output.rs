//! Reading output: full, head, tail, grep, --max-bytes; bytes that are not UTF-8; a huge line;
//! the output cap with rotation.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::os::unix::fs::MetadataExt;

use common::*;
use procdeck_engine::Status;

fn seq_100(ws: &TestWs) -> String {
    let r = ws.start("seq 1 100");
    assert_eq!(ws.wait(&r.id).status, Status::Stopped);
    r.id
}

#[test]
fn full_head_tail_and_grep() {
    let ws = TestWs::new();
    let id = seq_100(&ws);
    let all: String = (1..=100).map(|i| format!("{i}\n")).collect();
    assert_eq!(ws.output(&id), all);
    assert_eq!(ws.ok(["output", &id, "--head", "3"]), "1\n2\n3\n");
    assert_eq!(ws.ok(["output", &id, "--tail", "3"]), "98\n99\n100\n");
    assert_eq!(ws.ok(["output", &id, "--tail", "1000"]), all);
    assert_eq!(ws.ok(["output", &id, "--head", "0"]), "");
    let nines: String = std::iter::once("9\n".to_owned())
        .chain((90..=99).map(|i| format!("{i}\n")))
        .collect();
    assert_eq!(ws.ok(["output", &id, "--grep", "^9"]), nines);
    assert_eq!(ws.ok(["output", &id, "--grep", "^(1|100)$"]), "1\n100\n");
    assert_eq!(ws.ok(["output", &id, "--grep", "nothing"]), "");

    // The JSON shape of a read.
    let v = ws.json(["output", &id, "--tail", "2"]);
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["content"], "99\n100\n");
    assert_eq!(v["truncated"], true);
    assert_eq!(v["sizeBytes"], all.len());
    assert_eq!(v["droppedBytes"], 0);
    assert_eq!(v["endOffset"], all.len());
    assert_eq!(v["startOffset"], all.len() - "99\n100\n".len());
    let v = ws.json(["output", &id]);
    assert_eq!(v["content"], all.as_str());
    assert_eq!(v["truncated"], false);
    let v = ws.json(["output", &id, "--head", "2"]);
    assert_eq!(v["content"], "1\n2\n");
    assert_eq!(v["startOffset"], 0);
    let v = ws.json(["output", &id, "--grep", "^10"]);
    assert_eq!(v["content"], "10\n100");

    // list reports the size.
    assert_eq!(ws.record(&id).output_size_bytes, all.len() as u64);
}

#[test]
fn max_bytes_limits_every_method_to_the_last_bytes() {
    let ws = TestWs::new();
    let id = seq_100(&ws);
    // The last 8 bytes are "\n99\n100\n".
    assert_eq!(ws.ok(["output", &id, "--max-bytes", "8"]), "\n99\n100\n");
    let tail = ws.ok(["output", &id, "--tail", "50", "--max-bytes", "8"]);
    assert!(tail.ends_with("99\n100\n"), "{tail:?}");
    assert!(!tail.contains("98"), "{tail:?}");
    assert_eq!(
        ws.ok(["output", &id, "--grep", "9", "--max-bytes", "8"]),
        "99\n"
    );
    let head = ws.ok(["output", &id, "--head", "50", "--max-bytes", "8"]);
    assert!(!head.contains("98") && head.contains("100"), "{head:?}");
    let v = ws.json(["output", &id, "--max-bytes", "8"]);
    assert_eq!(v["truncated"], true);
    let size = v["sizeBytes"].as_u64().unwrap();
    assert!(v["startOffset"].as_u64().unwrap() >= size - 8, "{v}");
    // A window larger than the output is the whole output.
    assert_eq!(
        ws.ok(["output", &id, "--max-bytes", "100000"]),
        ws.output(&id)
    );
}

#[test]
fn output_that_is_not_utf8_is_read_without_a_crash() {
    let ws = TestWs::new();
    let r = ws.start(r"printf 'ok\xff\xfe end\n'; printf 'x\xc3(y\n'; printf 'cut\xe2\x82'");
    ws.wait(&r.id);
    let raw = ws.ok_bytes(["output", &r.id]);
    assert_eq!(
        raw, b"ok\xff\xfe end\nx\xc3(y\ncut\xe2\x82",
        "full output is the bytes"
    );

    let tail = ws.ok(["output", &r.id, "--tail", "3"]);
    assert!(tail.contains("ok\u{fffd}\u{fffd} end"), "{tail:?}");
    assert!(tail.contains("x\u{fffd}(y"), "{tail:?}");
    let head = ws.ok(["output", &r.id, "--head", "1"]);
    assert_eq!(head, "ok\u{fffd}\u{fffd} end\n");
    let grep = ws.cli(["output", &r.id, "--grep", "end"]);
    assert!(grep.status.success());
    assert!(
        String::from_utf8_lossy(&grep.stdout).contains("end"),
        "{grep:?}"
    );

    for args in [
        vec!["output", &r.id],
        vec!["output", &r.id, "--tail", "2"],
        vec!["output", &r.id, "--head", "5"],
        vec!["output", &r.id, "--grep", "."],
        vec!["output", &r.id, "--max-bytes", "3"],
    ] {
        let v = ws.json(&args);
        let content = v["content"].as_str().expect("content is a string");
        assert!(
            content.contains('\u{fffd}'),
            "{args:?}: invalid bytes must read as U+FFFD: {content:?}"
        );
    }
    // Through the engine API as well.
    let (engine_ws, _) = procdeck_engine::Workspace::open(ws.path(), settings()).unwrap();
    let read = engine_ws
        .read(
            &r.id,
            &procdeck_engine::ReadRequest::new(procdeck_engine::ReadMethod::Full),
        )
        .unwrap();
    assert_eq!(
        read.content,
        "ok\u{fffd}\u{fffd} end\nx\u{fffd}(y\ncut\u{fffd}"
    );
    assert_eq!(read.size_bytes, raw.len() as u64);
}

#[test]
fn a_ten_megabyte_line_without_a_newline() {
    const SIZE: usize = 10_000_000;
    let ws = TestWs::new();
    let r = ws.start("head -c 10000000 /dev/zero | tr '\\0' a");
    let done = ws.wait(&r.id);
    assert_eq!(done.status, Status::Stopped);
    assert_eq!(done.output_size_bytes, SIZE as u64);

    let all_a = |bytes: &[u8], n: usize, what: &str| {
        assert_eq!(bytes.len(), n, "{what}: length");
        assert!(bytes.iter().all(|&b| b == b'a'), "{what}: content");
    };
    all_a(&ws.ok_bytes(["output", &r.id]), SIZE, "full");
    all_a(
        &ws.ok_bytes(["output", &r.id, "--tail", "1"]),
        SIZE,
        "tail 1",
    );
    all_a(
        &ws.ok_bytes(["output", &r.id, "--tail", "5"]),
        SIZE,
        "tail 5",
    );
    all_a(
        &ws.ok_bytes(["output", &r.id, "--head", "1"]),
        SIZE,
        "head 1",
    );
    all_a(
        &ws.ok_bytes(["output", &r.id, "--tail", "1", "--max-bytes", "100"]),
        100,
        "tail in a window",
    );
    let grep = ws.ok_bytes(["output", &r.id, "--grep", "a$"]);
    assert_eq!(grep.len(), SIZE + 1, "grep prints the line and a newline");
    assert_eq!(ws.ok_bytes(["output", &r.id, "--grep", "b"]), b"");

    let v = ws.json(["output", &r.id, "--tail", "1"]);
    assert_eq!(v["sizeBytes"], SIZE);
    assert_eq!(v["content"].as_str().unwrap().len(), SIZE);
    assert_eq!(v["startOffset"], 0);
    assert_eq!(v["endOffset"], SIZE);
    let v = ws.json(["output", &r.id, "--head", "1"]);
    assert_eq!(v["content"].as_str().unwrap().len(), SIZE);
    assert_eq!(ws.record(&r.id).output_size_bytes, SIZE as u64);
}

#[test]
fn the_output_cap_rotates_keeping_the_newest_output() {
    const CAP: u64 = 1_048_576;
    const TOTAL: u64 = 5_000_000;
    let ws = TestWs::new();
    let r = ws.start_with(&["--output-cap", "1048576"], "yes line | head -c 5000000");
    let done = ws.wait(&r.id);
    assert_eq!(done.status, Status::Stopped, "{done:?}");
    assert_eq!(
        done.output_size_bytes, TOTAL,
        "the size counts every byte written"
    );
    let dropped = done.dropped_bytes;
    assert!(dropped > 0, "nothing was dropped");
    assert!(
        TOTAL - dropped <= CAP,
        "kept {} bytes, more than the cap",
        TOTAL - dropped
    );
    assert!(
        TOTAL - dropped >= CAP / 2,
        "kept only {} bytes",
        TOTAL - dropped
    );

    // The file's logical size stays the bytes written; its allocated space stays near the cap.
    let meta = std::fs::metadata(ws.process_dir(&r.id).join("output.log")).unwrap();
    assert_eq!(meta.len(), TOTAL);
    let allocated = meta.blocks() * 512;
    assert!(
        allocated <= CAP + CAP / 4,
        "{allocated} bytes allocated for a {CAP} byte cap"
    );
    let meta_file =
        std::fs::read_to_string(ws.process_dir(&r.id).join("output.meta.json")).unwrap();
    assert!(
        meta_file.contains(&format!("\"keptFrom\": {dropped}")),
        "{meta_file}"
    );

    // Everything read is real output: what `yes line` wrote from the first kept byte on.
    let expected = |from: u64, len: usize| -> Vec<u8> {
        (from..from + len as u64)
            .map(|i| b"line\n"[(i % 5) as usize])
            .collect()
    };
    let full = ws.ok_bytes(["output", &r.id]);
    assert_eq!(full.len() as u64, TOTAL - dropped);
    assert!(
        !full.contains(&0),
        "NUL bytes from the punched hole were returned"
    );
    assert!(full == expected(dropped, full.len()), "full output differs");

    assert_eq!(
        ws.ok(["output", &r.id, "--tail", "3"]),
        "line\nline\nline\n"
    );
    let head = ws.json(["output", &r.id, "--head", "3"]);
    let start = head["startOffset"].as_u64().unwrap();
    assert!(
        start >= dropped,
        "head started at {start}, before keptFrom {dropped}"
    );
    let content = head["content"].as_str().unwrap();
    assert!(!content.contains('\0'), "{content:?}");
    assert_eq!(content.as_bytes(), &expected(start, content.len())[..]);
    assert_eq!(head["droppedBytes"], dropped);

    let grep = ws.json(["output", &r.id, "--grep", "^line$"]);
    let lines = grep["content"].as_str().unwrap();
    assert!(!lines.contains('\0'));
    let n = lines.split('\n').count() as u64;
    assert!(
        n <= (TOTAL - dropped) / 5 && n + 2 >= (TOTAL - dropped) / 5,
        "{n} matching lines in {} kept bytes",
        TOTAL - dropped
    );
    let list = ws.record(&r.id);
    assert_eq!(list.dropped_bytes, dropped);
}

#[test]
fn reads_while_the_output_rotates_never_return_dropped_bytes() {
    let ws = TestWs::new();
    let line = "0123456789abcdef";
    let r = ws.start_with(
        &["--output-cap", "262144", "--grace", "0.3"],
        &format!("while :; do yes {line} | head -c 1999999; sleep 0.01; done"),
    );
    wait_until("rotation to begin", PATIENCE, || {
        ws.record(&r.id).dropped_bytes > 0
    });
    for _ in 0..5 {
        let full = ws.ok_bytes(["output", &r.id]);
        assert!(
            !full.contains(&0),
            "a full read during rotation returned NULs"
        );
        assert!(full.len() as u64 <= 262_144 + 2_000_000);
        let tail = ws.ok(["output", &r.id, "--tail", "20"]);
        assert!(!tail.contains('\0'));
        // Whole lines of 17 bytes; the last may still be being written.
        let complete = &tail[..tail.rfind('\n').map_or(0, |i| i + 1)];
        assert!(complete.lines().count() >= 19, "{tail:?}");
        for l in complete.lines() {
            assert_eq!(l, line, "tail during rotation: {tail:?}");
        }
        let head = ws.json(["output", &r.id, "--head", "20"]);
        let start = head["startOffset"].as_u64().unwrap();
        assert!(start >= head["droppedBytes"].as_u64().unwrap());
        assert!(!head["content"].as_str().unwrap().contains('\0'));
    }
    ws.stop(&r.id, "0");
}

#[test]
fn output_of_a_process_that_wrote_nothing_is_empty() {
    let ws = TestWs::new();
    let r = ws.start("true");
    ws.wait(&r.id);
    assert_eq!(ws.output(&r.id), "");
    assert_eq!(ws.ok(["output", &r.id, "--tail", "5"]), "");
    let v = ws.json(["output", &r.id, "--head", "5"]);
    assert_eq!(v["content"], "");
    assert_eq!(v["sizeBytes"], 0);
}
