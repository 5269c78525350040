//! Live output streams to the web view. A follower thread reads the output as it is written
//! (engine follow); a sender thread hands it to the view in frames at a steady rate, each cut at
//! a UTF-8 boundary and at most MAX_FRAME bytes, cut into lines that carry their exact byte
//! offsets. The view acknowledges each frame once it has drawn it, and at most MAX_IN_FLIGHT
//! frames go unacknowledged: a view that draws slowly (a process printing 50 MB/s) is sent only
//! what it can draw, never a queue of frames that would hold its thread and its memory. Meanwhile
//! the oldest unsent bytes are dropped and the next frame says how many; Tail and Grep read the
//! file and still see everything. A stream is forgotten as soon as it ends, whoever
//! ends it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use procdeck_engine::follow::{FollowChunk, FollowControl};
use procdeck_engine::output::{decode_lines, utf8};
use procdeck_engine::Workspace;

use crate::dto::OutputFrame;

pub const FRAME_INTERVAL: Duration = Duration::from_millis(33);
/// Small enough that the view takes a frame in well under one animation frame's time.
pub const MAX_FRAME: usize = 32 * 1024;
/// Frames sent that the view has not acknowledged yet, at most.
pub const MAX_IN_FLIGHT: u32 = 2;
/// Unsent bytes kept while the view is behind; beyond this the oldest are skipped.
pub const MAX_BACKLOG: usize = 1024 * 1024;

#[derive(Default)]
struct Backlog {
    bytes: Vec<u8>,
    /// Logical offset of `bytes[0]`.
    offset: u64,
    skipped: u64,
    finished: Option<OutputFrame>,
    /// Data frames sent and not acknowledged yet.
    in_flight: u32,
}

impl Backlog {
    fn push(&mut self, chunk: &FollowChunk<'_>) {
        if chunk.skipped > 0 {
            // A gap cannot sit inside the buffer: what is pending before it is dropped too.
            self.skipped += chunk.skipped + self.bytes.len() as u64;
            self.bytes.clear();
        }
        if self.bytes.is_empty() {
            self.offset = chunk.offset;
        }
        self.bytes.extend_from_slice(chunk.bytes);
        if self.bytes.len() > MAX_BACKLOG {
            let mut cut = self.bytes.len() - MAX_FRAME;
            // Resume at a line start when one is near, so the view does not show half a line.
            if let Some(nl) = memchr_newline(&self.bytes[cut..]) {
                cut += nl + 1;
            }
            cut += utf8::skip_continuation(&self.bytes[cut..]);
            self.bytes.drain(..cut);
            self.offset += cut as u64;
            self.skipped += cut as u64;
        }
    }

    /// How many bytes the next frame holds: up to MAX_FRAME, ending at a character boundary
    /// unless the stream has ended (an incomplete character is then sent, to be shown replaced).
    fn sendable(&self) -> usize {
        let n = self.bytes.len().min(MAX_FRAME);
        if self.finished.is_some() && n == self.bytes.len() {
            n
        } else {
            utf8::complete_prefix_len(&self.bytes[..n])
        }
    }

    /// Whether there is anything to send: bytes that make a frame, a gap to report, or the end.
    /// Only the start of a character waiting for the rest of it is not.
    fn ready(&self) -> bool {
        self.skipped > 0 || self.finished.is_some() || self.sendable() > 0
    }

    /// Whether the view may be sent what is ready: it has drawn enough of what it was sent, or
    /// only the end is left (which the view needs whether it draws or not).
    fn may_send(&self) -> bool {
        self.in_flight < MAX_IN_FLIGHT
            || (self.bytes.is_empty() && self.skipped == 0 && self.finished.is_some())
    }

    /// The next frame, if there are bytes to send or a gap to report.
    fn take(&mut self) -> Option<OutputFrame> {
        let n = self.sendable();
        if n == 0 && self.skipped == 0 {
            return None;
        }
        let end = self.offset + n as u64;
        let frame = OutputFrame::Data {
            offset: self.offset,
            end,
            lines: decode_lines(&self.bytes[..n], self.offset),
            last_line_complete: n > 0 && self.bytes[n - 1] == b'\n',
            skipped: self.skipped,
        };
        self.bytes.drain(..n);
        self.offset = end;
        self.skipped = 0;
        self.in_flight += 1;
        Some(frame)
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().take(64 * 1024).position(|&b| b == b'\n')
}

struct Shared {
    backlog: Mutex<Backlog>,
    wake: Condvar,
    cancel: AtomicBool,
}

type Active = Arc<Mutex<HashMap<u32, Arc<Shared>>>>;

#[derive(Default)]
pub struct Streams {
    next: AtomicU32,
    /// The streams still running; each removes itself when it ends.
    active: Active,
}

impl Streams {
    /// Starts streaming `id`'s output from `from` to `send` (which returns false once the view
    /// is gone). Returns the subscription to pass to [`Streams::stop`].
    pub fn start<F>(&self, ws: Arc<Workspace>, id: String, from: Option<u64>, send: F) -> u32
    where
        F: Fn(OutputFrame) -> bool + Send + 'static,
    {
        let sub = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let shared = Arc::new(Shared {
            backlog: Mutex::default(),
            wake: Condvar::new(),
            cancel: AtomicBool::new(false),
        });
        if let Ok(mut active) = self.active.lock() {
            active.insert(sub, shared.clone());
        }
        let follower = shared.clone();
        let followed = std::thread::Builder::new()
            .name(format!("procdeck-follow-{sub}"))
            .spawn(move || {
                let result = ws.follow(&id, from, &follower.cancel, &mut |chunk| {
                    if let Ok(mut b) = follower.backlog.lock() {
                        b.push(&chunk);
                    }
                    follower.wake.notify_one();
                    if follower.cancel.load(Ordering::Relaxed) {
                        FollowControl::Stop
                    } else {
                        FollowControl::Continue
                    }
                });
                let last = match result {
                    Ok(end) => OutputFrame::End {
                        record: end.record.map(Box::new),
                    },
                    Err(e) => OutputFrame::Error {
                        message: e.to_string(),
                    },
                };
                if let Ok(mut b) = follower.backlog.lock() {
                    b.finished = Some(last);
                }
                follower.wake.notify_one();
            });
        if let Err(e) = followed {
            // The view is told, through the sender, instead of waiting for output forever.
            if let Ok(mut b) = shared.backlog.lock() {
                b.finished = Some(OutputFrame::Error {
                    message: format!("could not start following the output: {e}"),
                });
            }
        }
        let sender = shared;
        let active = self.active.clone();
        let sent = std::thread::Builder::new()
            .name(format!("procdeck-frames-{sub}"))
            .spawn(move || {
                let last = send_frames(&sender, &send);
                // Forgotten before the last frame goes out: whoever sees the end sees it gone.
                release(&active, sub);
                if let Some(last) = last {
                    send(last);
                }
            });
        if let Err(e) = sent {
            tracing::warn!("output stream {sub}: could not start its sender: {e}");
            release(&self.active, sub);
        }
        sub
    }

    pub fn stop(&self, sub: u32) {
        release(&self.active, sub);
    }

    /// The view has drawn one more frame of `sub`: the sender may send another.
    pub fn ack(&self, sub: u32) {
        let shared = self.active.lock().ok().and_then(|a| a.get(&sub).cloned());
        if let Some(shared) = shared {
            if let Ok(mut b) = shared.backlog.lock() {
                b.in_flight = b.in_flight.saturating_sub(1);
            }
            shared.wake.notify_one();
        }
    }

    pub fn stop_all(&self) {
        let subs: Vec<u32> = self
            .active
            .lock()
            .map(|a| a.keys().copied().collect())
            .unwrap_or_default();
        for sub in subs {
            self.stop(sub);
        }
    }
}

/// Removes the stream and tells both of its threads to stop (the follower stops at its next
/// chunk or check).
fn release(active: &Active, sub: u32) {
    if let Some(shared) = active.lock().ok().and_then(|mut a| a.remove(&sub)) {
        shared.cancel.store(true, Ordering::Relaxed);
        shared.wake.notify_one();
    }
}

/// Sends data frames until the follower finishes, and returns its last frame (the end or an
/// error) for the caller to send; None when the stream was stopped or the view is gone.
fn send_frames(shared: &Shared, send: &dyn Fn(OutputFrame) -> bool) -> Option<OutputFrame> {
    let mut last_sent = Instant::now() - FRAME_INTERVAL;
    loop {
        let mut backlog = shared.backlog.lock().ok()?;
        // Sleeps until there is something to send and the view has drawn enough of what it was
        // sent: a backlog holding only the start of a character waits here for the rest of it
        // like an empty one.
        while !backlog.ready() || !backlog.may_send() {
            if shared.cancel.load(Ordering::Relaxed) {
                return None;
            }
            backlog = shared
                .wake
                .wait_timeout(backlog, Duration::from_millis(250))
                .ok()?
                .0;
        }
        if shared.cancel.load(Ordering::Relaxed) {
            return None;
        }
        // Steady pacing: at most one frame per interval, so bursts are coalesced.
        let since = last_sent.elapsed();
        if since < FRAME_INTERVAL {
            drop(backlog);
            std::thread::sleep(FRAME_INTERVAL - since);
            continue;
        }
        let frame = backlog.take();
        let finished = if backlog.bytes.is_empty() {
            backlog.finished.take()
        } else {
            None
        };
        drop(backlog);
        if let Some(frame) = frame {
            last_sent = Instant::now();
            if !send(frame) {
                return None;
            }
        }
        if finished.is_some() {
            return finished;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use procdeck_engine::output::OutputLine;

    use super::*;

    fn chunk(offset: u64, bytes: &[u8]) -> FollowChunk<'_> {
        FollowChunk {
            offset,
            bytes,
            skipped: 0,
        }
    }

    fn line(offset: u64, text: &str) -> OutputLine {
        OutputLine {
            offset,
            text: text.to_owned(),
        }
    }

    /// A frame's fields, or a panic for the end and error frames.
    fn data(frame: Option<OutputFrame>) -> (u64, u64, Vec<OutputLine>, bool, u64) {
        match frame {
            Some(OutputFrame::Data {
                offset,
                end,
                lines,
                last_line_complete,
                skipped,
            }) => (offset, end, lines, last_line_complete, skipped),
            other => panic!("a data frame, not {other:?}"),
        }
    }

    #[test]
    fn frames_end_at_character_boundaries_and_keep_offsets() {
        let mut b = Backlog::default();
        let text = "héllo wörld\n".as_bytes();
        b.push(&chunk(100, &text[..2]));
        assert_eq!(data(b.take()), (100, 101, vec![line(100, "h")], false, 0));
        b.push(&chunk(102, &text[2..]));
        assert_eq!(
            data(b.take()),
            (101, 114, vec![line(101, "éllo wörld")], true, 0)
        );
        assert!(b.take().is_none());
    }

    /// The lines of a whole file with their offsets: what the view must end up with.
    fn model_lines(file: &[u8]) -> Vec<OutputLine> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, &b) in file.iter().enumerate() {
            if b == b'\n' {
                out.push(line(
                    start as u64,
                    &String::from_utf8_lossy(&file[start..i]),
                ));
                start = i + 1;
            }
        }
        if start < file.len() {
            out.push(line(start as u64, &String::from_utf8_lossy(&file[start..])));
        }
        out
    }

    #[test]
    fn frames_keep_exact_offsets_whatever_the_reads_cut() {
        // Invalid bytes, CRLF, and characters of 2 to 4 bytes; the reads cut them everywhere.
        let mut file = Vec::new();
        for i in 0..200u32 {
            file.extend_from_slice(format!("{i} ").as_bytes());
            match i % 5 {
                0 => file.extend_from_slice(b"bad \xff end\r\n"),
                1 => file.extend_from_slice("caf\u{e9} \u{20ac}\u{1f600}\n".as_bytes()),
                2 => file.extend_from_slice(b"cut \xe2\x82\n"),
                3 => file.extend_from_slice(b"\xf0\x9f\x98 x\r\n"),
                _ => file.extend_from_slice("\u{1f600}\r\u{e9}\n".as_bytes()),
            }
        }
        file.extend_from_slice(b"open \xc3");
        for read_size in [1, 2, 3, 5, 7, 64, 4096] {
            let mut b = Backlog::default();
            let mut lines: Vec<OutputLine> = Vec::new();
            let mut open = false;
            let mut next = 0;
            let mut collect = |frame: Option<OutputFrame>| {
                let Some(frame) = frame else { return };
                let (offset, end, got, complete, skipped) = data(Some(frame));
                assert_eq!(
                    (offset, skipped),
                    (next, 0),
                    "contiguous, reads of {read_size}"
                );
                next = end;
                for (k, l) in got.into_iter().enumerate() {
                    match lines.last_mut() {
                        Some(last) if k == 0 && open => last.text.push_str(&l.text),
                        _ => lines.push(l),
                    }
                }
                open = !complete && end > offset;
            };
            for (k, piece) in file.chunks(read_size).enumerate() {
                b.push(&chunk((k * read_size) as u64, piece));
                collect(b.take());
            }
            b.finished = Some(OutputFrame::End { record: None });
            collect(b.take());
            assert_eq!(next, file.len() as u64);
            assert_eq!(lines, model_lines(&file), "reads of {read_size}");
        }
    }

    #[test]
    fn a_view_far_behind_skips_the_oldest_bytes_and_says_how_many() {
        let mut b = Backlog::default();
        let line = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n";
        let mut offset = 0;
        for _ in 0..(2 * MAX_BACKLOG / line.len()) {
            b.push(&chunk(offset, line));
            offset += line.len() as u64;
        }
        let (start, end, lines, _, skipped) = data(b.take());
        assert!(skipped > 0);
        assert_eq!(
            start, skipped,
            "the frame starts right after what was skipped"
        );
        assert_eq!(lines[0].offset, start);
        assert!(
            lines[0].text.starts_with("0123"),
            "resumes at a line start: {:?}",
            lines[0].text
        );
        assert!(end - start <= MAX_FRAME as u64);
    }

    /// CPU time (user + system, in clock ticks) the thread `tid` of this process has used.
    fn thread_cpu_ticks(tid: &str) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat"))
            .expect("the thread's stat");
        // The fields after the command name (which may hold spaces) start with the state; utime
        // and stime are the 14th and 15th fields of the line.
        let rest = &stat[stat.rfind(')').expect("a command name") + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
    }

    #[test]
    fn a_pending_partial_character_costs_no_cpu() {
        let shared = Arc::new(Shared {
            backlog: Mutex::default(),
            wake: Condvar::new(),
            cancel: AtomicBool::new(false),
        });
        if let Ok(mut b) = shared.backlog.lock() {
            b.push(&chunk(0, b"caf\xc3"));
        }
        let (tid_tx, tid_rx) = mpsc::channel();
        let (frame_tx, frames) = mpsc::channel();
        let sender = shared.clone();
        let thread = std::thread::spawn(move || {
            let me = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
            let tid = me.file_name().map(|t| t.to_string_lossy().into_owned());
            tid_tx
                .send(tid.expect("a thread id"))
                .expect("the test waits");
            send_frames(&sender, &move |f| frame_tx.send(f).is_ok())
        });
        let tid = tid_rx.recv().expect("the thread's id");
        let first = data(frames.recv_timeout(Duration::from_secs(10)).ok());
        assert_eq!(first.2, vec![line(0, "caf")], "what is whole goes out");
        // Only "\xc3" is left: the sender has nothing to send and must sleep, not spin.
        let before = thread_cpu_ticks(&tid);
        std::thread::sleep(Duration::from_secs(1));
        let used = thread_cpu_ticks(&tid) - before;
        assert!(
            used <= 2,
            "an idle stream used {used} ticks of CPU in a second"
        );
        if let Ok(mut b) = shared.backlog.lock() {
            b.push(&chunk(4, b"\xa9 ok\n"));
        }
        shared.wake.notify_one();
        let second = data(frames.recv_timeout(Duration::from_secs(10)).ok());
        assert_eq!(
            (second.0, second.1, second.2),
            (3, 9, vec![line(3, "\u{e9} ok")])
        );
        if let Ok(mut b) = shared.backlog.lock() {
            b.finished = Some(OutputFrame::End { record: None });
        }
        shared.wake.notify_one();
        let last = thread.join().expect("the sender ends");
        assert!(matches!(last, Some(OutputFrame::End { record: None })));
    }

    #[test]
    fn frames_wait_for_the_view_to_acknowledge_what_it_was_sent() {
        let shared = Arc::new(Shared {
            backlog: Mutex::default(),
            wake: Condvar::new(),
            cancel: AtomicBool::new(false),
        });
        let (frame_tx, frames) = mpsc::channel();
        let sender = shared.clone();
        let thread =
            std::thread::spawn(move || send_frames(&sender, &move |f| frame_tx.send(f).is_ok()));
        let push = |offset: u64, text: &[u8]| {
            if let Ok(mut b) = shared.backlog.lock() {
                b.push(&chunk(offset, text));
            }
            shared.wake.notify_one();
        };
        let recv = || data(frames.recv_timeout(Duration::from_secs(10)).ok());
        // Each line is pushed once the frame before it is out, so each makes a frame.
        push(0, b"one\n");
        assert_eq!(recv().2, vec![line(0, "one")]);
        push(4, b"two\n");
        assert_eq!(recv().2, vec![line(4, "two")]);
        push(8, b"three\n");
        // Two frames are out and neither is acknowledged: the third waits.
        assert!(frames.recv_timeout(FRAME_INTERVAL * 6).is_err());
        if let Ok(mut b) = shared.backlog.lock() {
            b.in_flight -= 1;
        }
        shared.wake.notify_one();
        assert_eq!(recv().2, vec![line(8, "three")]);
        shared.cancel.store(true, Ordering::Relaxed);
        shared.wake.notify_one();
        assert!(thread.join().expect("the sender ends").is_none());
    }

    #[test]
    fn ended_streams_are_forgotten() {
        // The CLI's binary is the shim (built beside this test's binary).
        let exe = std::env::current_exe().expect("test binary");
        let shim = exe
            .parent()
            .and_then(|deps| deps.parent())
            .map(|debug| debug.join("procdeck"))
            .expect("the target folder");
        assert!(
            shim.is_file(),
            "{} is missing: run `cargo build -p procdeck-cli` first",
            shim.display()
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = procdeck_engine::Settings {
            shim_exe: Some(shim),
            ..procdeck_engine::Settings::default()
        };
        let (ws, _) = Workspace::open(dir.path(), settings).expect("workspace");
        let ws = Arc::new(ws);
        let streams = Streams::default();
        let mut subs = Vec::new();
        let (tx, rx) = mpsc::channel();
        for k in 0..3 {
            let record = ws
                .start(procdeck_engine::StartRequest::new(format!(
                    "printf 'run {k}\\n'"
                )))
                .expect("start");
            let tx = tx.clone();
            subs.push(streams.start(ws.clone(), record.id, None, move |f| {
                tx.send((k, f)).is_ok()
            }));
        }
        let mut ended = 0;
        while ended < 3 {
            match rx.recv_timeout(Duration::from_secs(30)).expect("a frame") {
                (_, OutputFrame::End { record }) => {
                    assert!(record.is_some(), "the process ended");
                    ended += 1;
                }
                (_, OutputFrame::Error { message }) => panic!("stream failed: {message}"),
                (_, OutputFrame::Data { .. }) => {}
            }
        }
        assert_eq!(
            streams.active.lock().map(|a| a.len()).ok(),
            Some(0),
            "every ended stream is forgotten"
        );
        // Stopping a stream that already ended is harmless.
        streams.stop(subs[0]);
    }
}
