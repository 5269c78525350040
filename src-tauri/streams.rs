//! Live output streams to the web view. A follower thread reads the output as it is written
//! (engine follow); a sender thread hands it to the view in frames at a steady rate, each cut at
//! a UTF-8 boundary and at most MAX_FRAME bytes. When the view falls far behind (a process
//! printing 50 MB/s), the oldest unsent bytes are dropped and the next frame says how many, so
//! the window stays responsive; Tail and Grep read the file and still see everything.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use procdeck_engine::follow::{FollowChunk, FollowControl};
use procdeck_engine::output::utf8;
use procdeck_engine::Workspace;

use crate::dto::OutputFrame;

pub const FRAME_INTERVAL: Duration = Duration::from_millis(33);
pub const MAX_FRAME: usize = 256 * 1024;
/// Unsent bytes kept while the view is behind; beyond this the oldest are skipped.
pub const MAX_BACKLOG: usize = 1024 * 1024;

#[derive(Default)]
struct Backlog {
    bytes: Vec<u8>,
    /// Logical offset of `bytes[0]`.
    offset: u64,
    skipped: u64,
    finished: Option<OutputFrame>,
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

    /// The next frame: up to MAX_FRAME bytes ending at a character boundary (unless the stream
    /// has ended, when an incomplete character is flushed as a replacement).
    fn take(&mut self) -> Option<OutputFrame> {
        if self.bytes.is_empty() && self.skipped == 0 {
            return None;
        }
        let mut n = self.bytes.len().min(MAX_FRAME);
        if self.finished.is_none() || n < self.bytes.len() {
            n = utf8::complete_prefix_len(&self.bytes[..n]);
        }
        if n == 0 && self.skipped == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&self.bytes[..n]).into_owned();
        let frame = OutputFrame::Data {
            offset: self.offset,
            text,
            skipped: self.skipped,
        };
        self.bytes.drain(..n);
        self.offset += n as u64;
        self.skipped = 0;
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

#[derive(Default)]
pub struct Streams {
    next: AtomicU32,
    active: Mutex<HashMap<u32, Arc<Shared>>>,
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
        let _ = std::thread::Builder::new()
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
        let sender = shared;
        let _ = std::thread::Builder::new()
            .name(format!("procdeck-frames-{sub}"))
            .spawn(move || {
                send_frames(&sender, &send);
                sender.cancel.store(true, Ordering::Relaxed);
            });
        sub
    }

    pub fn stop(&self, sub: u32) {
        if let Some(shared) = self.active.lock().ok().and_then(|mut a| a.remove(&sub)) {
            shared.cancel.store(true, Ordering::Relaxed);
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

fn send_frames(shared: &Shared, send: &dyn Fn(OutputFrame) -> bool) {
    let mut last_sent = Instant::now() - FRAME_INTERVAL;
    loop {
        let Ok(mut backlog) = shared.backlog.lock() else {
            return;
        };
        while backlog.bytes.is_empty() && backlog.skipped == 0 && backlog.finished.is_none() {
            if shared.cancel.load(Ordering::Relaxed) {
                return;
            }
            backlog = match shared
                .wake
                .wait_timeout(backlog, Duration::from_millis(250))
            {
                Ok((b, _)) => b,
                Err(_) => return,
            };
        }
        if shared.cancel.load(Ordering::Relaxed) {
            return;
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
                return;
            }
        }
        if let Some(end) = finished {
            send(end);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(offset: u64, bytes: &[u8]) -> FollowChunk<'_> {
        FollowChunk {
            offset,
            bytes,
            skipped: 0,
        }
    }

    #[test]
    fn frames_end_at_character_boundaries_and_keep_offsets() {
        let mut b = Backlog::default();
        let text = "héllo wörld\n".as_bytes();
        b.push(&chunk(100, &text[..2]));
        let Some(OutputFrame::Data {
            offset,
            text: t,
            skipped,
        }) = b.take()
        else {
            panic!("a frame")
        };
        assert_eq!((offset, t.as_str(), skipped), (100, "h", 0));
        b.push(&chunk(102, &text[2..]));
        let Some(OutputFrame::Data {
            offset, text: t, ..
        }) = b.take()
        else {
            panic!("a frame")
        };
        assert_eq!((offset, t.as_str()), (101, "éllo wörld\n"));
        assert!(b.take().is_none());
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
        let Some(OutputFrame::Data {
            offset: start,
            text,
            skipped,
        }) = b.take()
        else {
            panic!("a frame")
        };
        assert!(skipped > 0);
        assert_eq!(
            start, skipped,
            "the frame starts right after what was skipped"
        );
        assert!(
            text.starts_with("0123"),
            "resumes at a line start: {:?}",
            &text[..10]
        );
        assert!(text.len() <= MAX_FRAME);
    }
}
