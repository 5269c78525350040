//! Process ids: `proc_<UTC YYYY-MM-DDTHHMM>_<6 hex>`, which sort by start minute. Every id that
//! comes in from outside is checked against that exact shape before it is used, so an id can
//! never name a path outside its process folder.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

/// Makes a fresh id for a process started at `now`.
pub fn new_id(now: DateTime<Utc>) -> String {
    format!("proc_{}_{}", now.format("%Y-%m-%dT%H%M"), random_hex(3))
}

/// Accepts exactly `proc_DDDD-DD-DDTDDDD_hhhhhh` (lowercase hex), nothing else.
pub fn validate(id: &str) -> Result<()> {
    if is_valid(id) {
        Ok(())
    } else {
        Err(Error::MalformedId(id.to_owned()))
    }
}

pub fn is_valid(id: &str) -> bool {
    const SHAPE: &[u8] = b"proc_DDDD-DD-DDTDDDD_hhhhhh";
    let bytes = id.as_bytes();
    bytes.len() == SHAPE.len()
        && bytes.iter().zip(SHAPE).all(|(&b, &s)| match s {
            b'D' => b.is_ascii_digit(),
            b'h' => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
            other => b == other,
        })
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_valid_and_shaped_like_the_reference() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T04:08:59Z")
            .map(|d| d.with_timezone(&Utc))
            .expect("fixed date parses");
        let id = new_id(now);
        assert!(id.starts_with("proc_2026-11-24T0408_"), "{id}");
        assert!(is_valid(&id), "{id}");
    }

    #[test]
    fn rejects_anything_that_could_escape_or_is_off_shape() {
        for bad in [
            "",
            "..",
            "../../etc",
            "proc_2026-11-24T0408_4db84",
            "proc_2026-11-24T0408_4db84dd",
            "proc_2026-11-24T0408_4DB84D",
            "proc_2026-11-24T0408_/../x",
            "proc_2026-11-24T0408_4db84\u{e9}",
            "proc_2026-11-24T0408_4db84d/",
            "xproc_2026-11-24T0408_4db84",
        ] {
            assert!(validate(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate("proc_2026-11-24T0408_4db84d").is_ok());
    }
}
