//! Waiting for a process that is not our child by looking at it again and again: without pidfd
//! Linux has no way to be told when such a process ends.

use std::time::{Duration, Instant};

use crate::platform::is_alive;

/// The first look comes soon, for processes that end at once; later ones come less often, so
/// that a long wait costs little.
const FIRST_LOOK: Duration = Duration::from_millis(1);
const MOST_BETWEEN_LOOKS: Duration = Duration::from_millis(50);

pub(in crate::platform) fn wait_exit(pid: u32, start_time: u64, timeout: Duration) -> bool {
    let start = Instant::now();
    let mut between = FIRST_LOOK;
    while is_alive(pid, start_time) {
        let waited = start.elapsed();
        if waited >= timeout {
            return false;
        }
        std::thread::sleep(between.min(timeout - waited));
        between = (between * 2).min(MOST_BETWEEN_LOOKS);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::start_time;

    #[test]
    fn waits_for_an_end_and_gives_up_at_the_timeout() {
        let mut short = std::process::Command::new("sleep")
            .arg("0.3")
            .spawn()
            .expect("spawn sleep");
        let mut long = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let short_start = start_time(short.id()).unwrap_or(0);
        let long_start = start_time(long.id()).unwrap_or(0);

        let t = Instant::now();
        let ended = wait_exit(short.id(), short_start, Duration::from_secs(20));
        let took = t.elapsed();
        let t = Instant::now();
        let gave_up = !wait_exit(long.id(), long_start, Duration::from_millis(200));
        let waited = t.elapsed();

        let _ = long.kill();
        let _ = long.wait();
        let _ = short.wait();
        assert!(ended, "the short sleep's end was not seen");
        assert!(took >= Duration::from_millis(250), "ended after {took:?}");
        assert!(gave_up, "a running sleep counted as ended");
        assert!(
            waited >= Duration::from_millis(200),
            "gave up after {waited:?}"
        );
    }
}
