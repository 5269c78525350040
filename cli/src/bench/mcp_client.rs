//! A client of `procdeck mcp` as an agent's program is one: the real binary spawned with pipes,
//! spoken to in newline-delimited JSON-RPC, one request at a time. Only what the bench needs:
//! the handshake, tool calls, and the server's resident memory.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use procdeck_engine::platform;
use serde_json::{json, Value};

use super::{BenchError, Result};

/// How long a server is given to exit once its standard input is closed.
const EXIT_GRACE: Duration = Duration::from_secs(5);

pub struct McpClient {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    line: String,
}

impl McpClient {
    /// `procdeck -w DIR mcp`, initialized (protocol 2025-06-18) as client `name`.
    pub fn spawn(bin: &Path, dir: &Path, name: &str) -> Result<Self> {
        let mut child = Command::new(bin)
            .arg("-w")
            .arg(dir)
            .arg("mcp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| BenchError::Io(format!("{} mcp", bin.display()), e))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(BenchError::Check("procdeck mcp has no pipes".into()));
        };
        let mut client = McpClient {
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
            next_id: 1,
            line: String::new(),
        };
        client.request(
            "initialize",
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": name, "version": env!("CARGO_PKG_VERSION")},
            }),
        )?;
        client.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        Ok(client)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Calls `tool`; returns its structured content, or an error with its text when the result
    /// is an error.
    pub fn call(&mut self, tool: &str, arguments: Value) -> Result<Value> {
        let mut result =
            self.request("tools/call", json!({"name": tool, "arguments": arguments}))?;
        if result["isError"] == json!(true) {
            return Err(BenchError::Check(format!(
                "{tool} failed: {}",
                result["content"][0]["text"]
            )));
        }
        match result.get_mut("structuredContent") {
            Some(content) => Ok(content.take()),
            None => Err(BenchError::Check(format!(
                "{tool} returned no structured content"
            ))),
        }
    }

    /// The server's resident memory, in KiB.
    pub fn rss_kib(&self) -> Result<u64> {
        let pid = self.pid();
        let stat = platform::stat(pid)
            .ok_or_else(|| BenchError::Check(format!("the server (pid {pid}) is gone")))?;
        let page = platform::page_size()
            .ok_or_else(|| BenchError::Check("the page size is unknown".into()))?;
        Ok(stat.rss_pages.saturating_mul(page) / 1024)
    }

    /// Sends a request and reads lines until its response; notifications are skipped.
    fn request(&mut self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        loop {
            self.line.clear();
            let n = self
                .stdout
                .read_line(&mut self.line)
                .map_err(|e| BenchError::Io("reading from procdeck mcp".into(), e))?;
            if n == 0 {
                return Err(BenchError::Check(format!(
                    "procdeck mcp closed its output before answering {method}"
                )));
            }
            let mut message: Value = serde_json::from_str(&self.line).map_err(|e| {
                BenchError::Check(format!("procdeck mcp sent {:?}: {e}", self.line.trim()))
            })?;
            if message["id"] != json!(id) {
                continue;
            }
            if let Some(error) = message.get("error") {
                return Err(BenchError::Check(format!("{method} failed: {error}")));
            }
            return Ok(message["result"].take());
        }
    }

    fn send(&mut self, message: &Value) -> Result<()> {
        let mut bytes = message.to_string().into_bytes();
        bytes.push(b'\n');
        let io_err = |e| BenchError::Io("writing to procdeck mcp".into(), e);
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| BenchError::Check("procdeck mcp's input is closed".into()))?;
        stdin.write_all(&bytes).map_err(io_err)?;
        stdin.flush().map_err(io_err)
    }
}

impl Drop for McpClient {
    /// Ends the session as an agent does, by closing the server's input; kills the server if it
    /// has not exited after a while.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let t = Instant::now();
        while t.elapsed() < EXIT_GRACE {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
