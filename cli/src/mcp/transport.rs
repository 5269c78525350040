//! Standard input and output as the server's transport: newline-delimited JSON-RPC. The SDK
//! answers well-formed JSON that is no valid message with Invalid Request, but passes over a
//! line that is not JSON at all without a word; here such a line gets JSON-RPC's Parse error
//! (-32700, id null), as the protocol asks, and the server keeps serving. Every other line goes
//! to the SDK as it came.

use serde::de::IgnoredAny;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tokio::sync::mpsc;

/// Room in each in-process pipe; a message longer than this just takes several writes.
const PIPE: usize = 1 << 16;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The SDK's ends of the transport: what it reads (standard input, parse errors answered) and
/// where it writes (standard output). Both run until standard input closes.
pub fn stdio() -> (DuplexStream, DuplexStream) {
    let (sdk_reader, mut to_sdk) = tokio::io::duplex(PIPE);
    let (sdk_writer, from_sdk) = tokio::io::duplex(PIPE);
    let (out, mut lines) = mpsc::unbounded_channel::<Vec<u8>>();
    // One writer, so that a parse error never lands in the middle of a message.
    tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = lines.recv().await {
            if let Err(e) = stdout.write_all(&line).await.and(stdout.flush().await) {
                tracing::warn!("writing to standard output: {e}");
                return;
            }
        }
    });
    let answers = out.clone();
    tokio::spawn(async move {
        let mut from_sdk = BufReader::new(from_sdk);
        loop {
            let mut line = Vec::new();
            match from_sdk.read_until(b'\n', &mut line).await {
                Ok(0) => return,
                Ok(_) => {
                    if answers.send(line).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!("reading the server's messages: {e}");
                    return;
                }
            }
        }
    });
    tokio::spawn(async move {
        let mut stdin = BufReader::new(tokio::io::stdin());
        loop {
            let mut line = Vec::new();
            match stdin.read_until(b'\n', &mut line).await {
                Ok(0) => break,
                Ok(_) if is_unparsable(&line) => {
                    tracing::debug!("answering a line that is not JSON with a parse error");
                    if out.send(parse_error()).is_err() {
                        break;
                    }
                }
                Ok(_) => {
                    if let Err(e) = to_sdk.write_all(&line).await {
                        tracing::warn!("passing a message on: {e}");
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!("reading standard input: {e}");
                    break;
                }
            }
        }
        // Closing the pipe is the end of the session for the SDK.
        let _ = to_sdk.shutdown().await;
    });
    (sdk_reader, sdk_writer)
}

/// A line that is not JSON (blank lines are nothing, and the SDK skips them).
fn is_unparsable(line: &[u8]) -> bool {
    let line = line.strip_prefix(BOM).unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return false;
    }
    match serde_json::from_slice::<IgnoredAny>(line) {
        Ok(_) => false,
        Err(e) => e.is_syntax() || e.is_eof(),
    }
}

fn parse_error() -> Vec<u8> {
    let mut line = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32700, "message": "Parse error: the line is not JSON"},
    })
    .to_string()
    .into_bytes();
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lines_that_are_not_json_are_parse_errors() {
        assert!(is_unparsable(b"{\"jsonrpc\": \"2.0\", \n"));
        assert!(is_unparsable(b"hello\n"));
        assert!(!is_unparsable(b"\n"));
        assert!(!is_unparsable(b"{\"jsonrpc\":\"2.0\",\"id\":1}\n"));
        assert!(!is_unparsable(b"\xEF\xBB\xBF{\"a\":1}\n"));
        // Well-formed but not a message: the SDK answers it with Invalid Request.
        assert!(!is_unparsable(b"[1,2]\n"));
    }
}
