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
