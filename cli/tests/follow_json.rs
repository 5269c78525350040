//! `output --follow --json` decodes characters whole even when a read ends inside one, and its
//! offsets are those of the bytes each value holds.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::time::Duration;

use common::*;

const LINE_WAIT: Duration = Duration::from_secs(10);

fn values(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The chunks' contents joined. While the text is valid UTF-8 (its bytes are the output's), each
/// chunk must start where the last one's bytes ended.
fn joined(chunks: &[serde_json::Value]) -> String {
    let mut next = Some(0u64);
    let mut text = String::new();
    for c in chunks {
        let offset = c["offset"].as_u64().expect("offset");
        if let Some(next) = next {
            assert_eq!(
                offset,
                next + c["skipped"].as_u64().expect("skipped"),
                "{chunks:?}"
            );
        }
        let content = c["content"].as_str().expect("content");
        next = (!content.contains('\u{fffd}')).then_some(offset + content.len() as u64);
        text.push_str(content);
    }
    text
}

#[test]
fn a_character_split_between_two_reads_is_decoded_whole() {
    let ws = TestWs::new();
    // The first half of é, then, once the follower has read it, the second half.
    let r =
        ws.start(r"printf 'caf\303'; while [ ! -e go ]; do sleep 0.02; done; printf '\251 ok\n'");
    wait_until("the first bytes", LINE_WAIT, || {
        ws.output(&r.id).starts_with("caf")
    });
    let mut follower = spawn_cli(&ws, ["--json", "output", &r.id, "--follow"]);
    let lines = follower.stdout_lines();
    let first = lines.next(LINE_WAIT).expect("the bytes already written");
    assert_eq!(
        values(std::slice::from_ref(&first))[0]["content"],
        "caf",
        "{first}"
    );
    std::fs::write(ws.path().join("go"), "").unwrap();
    let status = follower.wait_timeout(LINE_WAIT).expect("follow ends");
    assert!(status.success(), "{}", follower.stderr_text());
    let mut all = vec![first];
    all.extend(lines.rest(LINE_WAIT));
    let all = values(&all);
    let (end, chunks) = all.split_last().expect("values");
    assert_eq!(end["end"]["id"], r.id.as_str());
    assert_eq!(joined(chunks), "caf\u{e9} ok\n");
    assert_eq!(chunks[1]["offset"], 3, "{chunks:?}");
}

#[test]
fn invalid_and_unfinished_characters_are_replaced_once() {
    let ws = TestWs::new();
    let r = ws.start(r"printf 'a\377b\342\202\254c\342\202'");
    ws.wait(&r.id);
    let out = ws.ok(["--json", "output", &r.id, "--follow"]);
    let all = values(&out.lines().map(str::to_owned).collect::<Vec<_>>());
    let (end, chunks) = all.split_last().expect("values");
    assert!(end["end"].is_object(), "{out}");
    assert_eq!(chunks[0]["offset"], 0);
    assert_eq!(joined(chunks), "a\u{fffd}b\u{20ac}c\u{fffd}");
    // The unfinished character at the end is reported at its own offset.
    let last = chunks.last().expect("chunks");
    assert_eq!(
        (last["offset"].as_u64(), last["content"].as_str()),
        (Some(7), Some("\u{fffd}"))
    );
}
