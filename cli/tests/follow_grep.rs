//! `output --grep` and `output --grep --follow` are one matcher: the same lines match, `\r`
//! before `\n` is part of the line in both, and a line longer than the cap is cut at the same
//! places. Following also starts where the same read without `--follow` starts.

// Commands run by bash, Unix signals and /proc: the Windows subset is windows.rs.
#![cfg(unix)]

mod common;

use std::io::Read;
use std::time::Duration;

use common::*;

const WAIT: Duration = Duration::from_secs(60);

/// The engine cuts lines at 16 MiB; this one is cut right after a `ready`.
const CAP: usize = 16 << 20;

/// CRLF and LF lines, a line cut at the cap just after `ready` and going on, and a last line
/// without its newline; the part after `go` is written once the file `go` exists.
fn script() -> String {
    format!(
        "printf 'ready\\r\\nready\\nnot ready\\r\\nready now\\n'; \
         while [ ! -e go ]; do sleep 0.02; done; \
         head -c {} /dev/zero | tr '\\0' x; printf 'ready'; \
         head -c 1000 /dev/zero | tr '\\0' y; printf ' ready\\n'; \
         printf 'end ready\\r\\nalready\\nlast ready'",
        CAP - 5
    )
}

const PATTERNS: [&str; 6] = ["ready$", "ready\\r$", "^ready", "y ready$", "^$", "x"];

fn stdout_of(mut child: ChildGuard) -> Vec<u8> {
    let mut out = child.child.stdout.take().expect("stdout piped");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        out.read_to_end(&mut bytes).map(|_| bytes)
    });
    let status = child
        .wait_timeout(WAIT)
        .expect("follow ends with the process");
    assert!(status.success(), "{}", child.stderr_text());
    reader.join().expect("reader").expect("read stdout")
}

#[test]
fn grep_with_and_without_follow_prints_the_same_lines() {
    let ws = TestWs::new();
    let r = ws.start(&script());
    wait_until("the first lines", WAIT, || {
        ws.output(&r.id).ends_with("ready now\n")
    });
    // Followers started before most of the output exists.
    let live: Vec<(&str, ChildGuard)> = PATTERNS
        .iter()
        .map(|&p| {
            (
                p,
                spawn_cli(&ws, ["output", &r.id, "--grep", p, "--follow"]),
            )
        })
        .collect();
    std::fs::write(ws.path().join("go"), "").unwrap();
    let live: Vec<(&str, Vec<u8>)> = live.into_iter().map(|(p, c)| (p, stdout_of(c))).collect();
    ws.wait(&r.id);
    for (pattern, followed) in live {
        let read = ws.ok_bytes(["output", &r.id, "--grep", pattern]);
        let after = ws.ok_bytes(["output", &r.id, "--grep", pattern, "--follow"]);
        assert!(
            followed == read,
            "{pattern:?}: live follow differs from grep"
        );
        assert!(after == read, "{pattern:?}: follow differs from grep");
    }
    let ready = ws.ok_bytes(["output", &r.id, "--grep", "ready$"]);
    let mut cut = vec![b'x'; CAP - 5];
    cut.extend_from_slice(b"ready");
    let expected = [&b"ready\n"[..], &cut, b"\nalready\nlast ready\n"].concat();
    assert!(ready == expected, "ready$ matched {} bytes", ready.len());
    assert_eq!(
        ws.ok(["output", &r.id, "--grep", "ready\\r$"]),
        "ready\r\nnot ready\r\nend ready\r\n"
    );
}

#[test]
fn follow_starts_where_the_same_read_starts() {
    let ws = TestWs::new();
    let r = ws.start("printf 'one\\r\\ntwo\\nthr\\303\\251e\\nfour\\nfive'");
    ws.wait(&r.id);
    for max in ["1", "5", "9", "12", "100"] {
        for args in [
            vec!["--max-bytes", max],
            vec!["--tail", "2", "--max-bytes", max],
            vec!["--tail", "3"],
            vec!["--grep", "e", "--max-bytes", max],
            vec!["--grep", "^t", "--max-bytes", max],
        ] {
            let mut read = vec!["output", r.id.as_str()];
            read.extend_from_slice(&args);
            let once = ws.ok_bytes(&read);
            read.push("--follow");
            let followed = ws.ok_bytes(&read);
            assert_eq!(
                String::from_utf8_lossy(&followed),
                String::from_utf8_lossy(&once),
                "{args:?}"
            );
        }
    }
}

#[test]
fn json_grep_follow_gives_each_matching_line_with_its_offset() {
    let ws = TestWs::new();
    let r = ws.start("printf 'one\\r\\ntwo\\nthr\\303\\251e\\nfour\\nfive'");
    ws.wait(&r.id);
    let file = std::fs::read(ws.process_dir(&r.id).join("output.log")).expect("output.log");
    for pattern in ["e$", "^t", "o", "\\r$"] {
        let out = ws.ok(["--json", "output", &r.id, "--grep", pattern, "--follow"]);
        let values: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let (end, lines) = values.split_last().expect("values");
        assert_eq!(end["end"]["id"], r.id.as_str());
        let mut joined = String::new();
        for l in lines {
            let offset = l["offset"].as_u64().expect("offset") as usize;
            let content = l["content"].as_str().expect("content");
            // A line and the `\n` that ends it; the last line has none in the file.
            let line = content.strip_suffix('\n').expect("a line");
            assert!(file[offset..].starts_with(line.as_bytes()), "{l}");
            joined.push_str(content);
        }
        assert_eq!(
            joined,
            ws.ok(["output", &r.id, "--grep", pattern]),
            "{pattern:?}"
        );
    }
}
