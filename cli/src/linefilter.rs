//! `output --grep P --follow`: followed output arrives in arbitrary pieces; whole lines are
//! matched and printed as they complete.

use std::io::{self, Write};

use procdeck_engine::Error;
use regex::bytes::{Regex, RegexBuilder};

/// A line longer than this is matched and printed as it is, so memory stays bounded.
const MAX_PENDING: usize = 1 << 20;

pub struct LineFilter {
    re: Regex,
    pending: Vec<u8>,
}

impl LineFilter {
    pub fn new(pattern: &str) -> Result<LineFilter, Error> {
        if pattern.is_empty() {
            return Err(Error::MissingPattern);
        }
        let re = RegexBuilder::new(pattern)
            .size_limit(1 << 24)
            .build()
            .map_err(|e| Error::InvalidPattern {
                pattern: pattern.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(LineFilter {
            re,
            pending: Vec::new(),
        })
    }

    pub fn push(&mut self, bytes: &[u8], out: &mut dyn Write) -> io::Result<()> {
        let mut rest = bytes;
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            self.pending.extend_from_slice(&rest[..nl]);
            self.emit(out)?;
            rest = &rest[nl + 1..];
        }
        self.pending.extend_from_slice(rest);
        if self.pending.len() > MAX_PENDING {
            self.emit(out)?;
        }
        Ok(())
    }

    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.emit(out)?;
        }
        Ok(())
    }

    fn emit(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let line = self.pending.strip_suffix(b"\r").unwrap_or(&self.pending);
        if self.re.is_match(line) {
            out.write_all(&self.pending)?;
            out.write_all(b"\n")?;
        }
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_lines_across_pieces() {
        let mut f = LineFilter::new("^err").expect("valid");
        let mut out = Vec::new();
        for piece in [&b"ok 1\ner"[..], b"ror 2\nok 3\nerr", b"or 4"] {
            f.push(piece, &mut out).expect("vec write");
        }
        f.finish(&mut out).expect("vec write");
        assert_eq!(out, b"error 2\nerror 4\n");
    }

    #[test]
    fn invalid_and_empty_patterns_are_errors() {
        assert!(matches!(
            LineFilter::new("("),
            Err(Error::InvalidPattern { .. })
        ));
        assert!(matches!(LineFilter::new(""), Err(Error::MissingPattern)));
    }
}
