//! `procdeck mcp` over stdio, as an agent uses it: the cost of a tail of a large output, the
//! round trip of a start, and the server's memory over many calls, each beside its baseline.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use procdeck_engine::{StartRequest, Workspace};

use super::mcp_client::McpClient;
use super::{capture_command, percentile, procdeck_bin, settings, warm, BenchError, Result};

const CLIENT: &str = "procdeck-bench";
const TAIL_CALLS: usize = 50;
const TAIL_CLI_RUNS: usize = 20;
const START_CALLS: usize = 200;
const MEMORY_CALLS: usize = 10_000;
/// After how many calls the server's memory is read: the growth's shape, not just its ends.
const MEMORY_SAMPLES: [usize; 6] = [100, 1_000, 2_500, 5_000, 7_500, MEMORY_CALLS];

/// The three measurements. `output` is a record of `size` bytes of output already made (by the
/// capture part), else one is made here and removed afterwards.
pub fn mcp(ws: &Workspace, root: &Path, size: u64, output: Option<&str>) -> Result<()> {
    let big = match output {
        Some(id) => id.to_owned(),
        None => written(ws, size)?,
    };
    let tailed = tail(ws, root, &big, size);
    if output.is_none() {
        ws.remove(&big)?;
    }
    tailed?;
    start_round_trip(root)?;
    memory(root)
}

/// A record whose output is `size` bytes of the capture command, ended.
fn written(ws: &Workspace, size: u64) -> Result<String> {
    let record = ws.start(StartRequest::new(capture_command(size)))?;
    let done = ws.wait(&record.id, Some(Duration::from_secs(600)))?;
    if done.output_size_bytes != size {
        return Err(BenchError::Check(format!(
            "wrote {} bytes of output, expected {size}",
            done.output_size_bytes
        )));
    }
    Ok(record.id)
}

/// `process_output tail` of the last 10 lines: of the large output and of a 1 MiB one (flat in
/// the size = a ratio of about 1), against `procdeck output ID --tail 10` on the same outputs.
/// Both outputs are in the page cache; the calls on the two alternate.
fn tail(ws: &Workspace, root: &Path, big: &str, size: u64) -> Result<()> {
    println!(
        "\n== mcp: process_output tail (10 lines) over stdio, {TAIL_CALLS} calls, vs the CLI process `procdeck output ID --tail 10` ({TAIL_CLI_RUNS} runs), on {} MiB and 1 MiB of output",
        size >> 20
    );
    let small = written(ws, 1 << 20)?;
    let measured = (|| {
        warm(&ws.output_path(big)?)?;
        warm(&ws.output_path(&small)?)?;
        let mut client = McpClient::spawn(&procdeck_bin()?, root, CLIENT)?;
        let (mut on_big, mut on_small) = (Vec::new(), Vec::new());
        for _ in 0..TAIL_CALLS {
            on_small.push(mcp_tail(&mut client, &small)?);
            on_big.push(mcp_tail(&mut client, big)?);
        }
        let (mut cli_big, mut cli_small) = (Vec::new(), Vec::new());
        for _ in 0..TAIL_CLI_RUNS {
            cli_small.push(cli_tail(root, &small)?);
            cli_big.push(cli_tail(root, big)?);
        }
        let rows = [
            (format!("{} MiB", size >> 20), on_big, cli_big),
            ("1 MiB".to_owned(), on_small, cli_small),
        ];
        let mut medians = Vec::new();
        for (name, mut mcp, mut cli) in rows {
            mcp.sort_by(f64::total_cmp);
            cli.sort_by(f64::total_cmp);
            let (m, c) = (percentile(&mcp, 0.5), percentile(&cli, 0.5));
            println!(
                "  {name:<9} mcp median {:>7.3} ms  best {:>7.3} ms   CLI median {:>7.3} ms  best {:>7.3} ms   mcp/CLI {:.2}",
                m * 1e3,
                mcp[0] * 1e3,
                c * 1e3,
                cli[0] * 1e3,
                m / c
            );
            medians.push((m, c));
        }
        println!(
            "  {} MiB / 1 MiB (medians): mcp {:.2}, CLI {:.2} (flat = about 1)",
            size >> 20,
            medians[0].0 / medians[1].0,
            medians[0].1 / medians[1].1
        );
        Ok(())
    })();
    ws.remove(&small)?;
    measured
}

/// One `process_output` tail call's round trip, in seconds; checks it returned 10 lines.
fn mcp_tail(client: &mut McpClient, id: &str) -> Result<f64> {
    let t = Instant::now();
    let out = client.call(
        "process_output",
        json!({"id": id, "mode": "tail", "lines": 10}),
    )?;
    let secs = t.elapsed().as_secs_f64();
    let lines = out["text"].as_str().map_or(0, |t| t.lines().count());
    if lines != 10 {
        return Err(BenchError::Check(format!(
            "process_output tail gave {lines} lines"
        )));
    }
    Ok(secs)
}

/// One `procdeck output ID --tail 10`, from spawn to exit, in seconds.
fn cli_tail(root: &Path, id: &str) -> Result<f64> {
    cli_run(root, &["output", id, "--tail", "10"])
}

/// Runs the CLI in workspace `dir` with `args`, output discarded; its wall time in seconds.
fn cli_run(dir: &Path, args: &[&str]) -> Result<f64> {
    let bin = procdeck_bin()?;
    let t = Instant::now();
    let status = Command::new(&bin)
        .arg("-w")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| BenchError::Io(bin.display().to_string(), e))?;
    let secs = t.elapsed().as_secs_f64();
    if !status.success() {
        return Err(BenchError::Check(format!(
            "procdeck {} failed: {status}",
            args.join(" ")
        )));
    }
    Ok(secs)
}

/// `process_start` of `true` (answered at once, without `ready`) against `procdeck start --
/// true`, alternating, each in a workspace of its own. `reuse: false`, as the CLI has no reuse:
/// every call starts a process.
fn start_round_trip(root: &Path) -> Result<()> {
    println!(
        "\n== mcp: process_start of `true` over stdio vs the CLI process `procdeck start -- true`, {START_CALLS} calls each, alternating"
    );
    let (by_mcp, by_cli) = (root.join("mcp-start"), root.join("cli-start"));
    for dir in [&by_mcp, &by_cli] {
        std::fs::create_dir_all(dir).map_err(|e| BenchError::Io(dir.display().to_string(), e))?;
    }
    let measured = (|| {
        let mut client = McpClient::spawn(&procdeck_bin()?, &by_mcp, CLIENT)?;
        let (mut mcp, mut cli) = (Vec::new(), Vec::new());
        for _ in 0..START_CALLS {
            let t = Instant::now();
            let started =
                client.call("process_start", json!({"command": "true", "reuse": false}))?;
            mcp.push(t.elapsed().as_secs_f64());
            if started["reused"] != json!(false) || started["id"].as_str().is_none() {
                return Err(BenchError::Check(format!(
                    "process_start of true answered {started}"
                )));
            }
            cli.push(cli_run(&by_cli, &["start", "--", "true"])?);
        }
        for (name, times) in [("mcp", &mut mcp), ("CLI", &mut cli)] {
            times.sort_by(f64::total_cmp);
            println!(
                "  {name:<4} median {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
                percentile(times, 0.5) * 1e3,
                percentile(times, 0.99) * 1e3,
                percentile(times, 1.0) * 1e3
            );
        }
        println!(
            "  mcp/CLI: median {:.2}, p99 {:.2}",
            percentile(&mcp, 0.5) / percentile(&cli, 0.5),
            percentile(&mcp, 0.99) / percentile(&cli, 0.99)
        );
        Ok(())
    })();
    // Every `true` has ended (or ends now): their records are complete before the folders go.
    for dir in [&by_mcp, &by_cli] {
        let (ws, _) = Workspace::open(dir, settings()?)?;
        for r in ws.list()? {
            ws.wait(&r.id, Some(Duration::from_secs(60)))?;
        }
    }
    measured
}

/// The server's resident memory after 100 to 10,000 calls in one session: `process_list`
/// and `process_output` tail in turn on a workspace of one record, with every 100 calls a
/// `process_start` of `true`, a `process_wait` for its exit and its `process_remove`, so that
/// the workspace stays small and records come and go. The baseline is the figure after 100.
fn memory(root: &Path) -> Result<()> {
    println!("\n== mcp: resident memory (VmRSS) of `procdeck mcp` over {MEMORY_CALLS} calls in one session (list, output tail; a start, wait and remove every 100)");
    let dir = root.join("mcp-memory");
    std::fs::create_dir_all(&dir).map_err(|e| BenchError::Io(dir.display().to_string(), e))?;
    let mut client = McpClient::spawn(&procdeck_bin()?, &dir, CLIENT)?;
    let kept = client.call("process_start", json!({"command": "seq 1000"}))?;
    let kept = id_of(&kept)?;
    client.call("process_wait", json!({"id": kept, "until": "exit"}))?;
    let mut calls = 2;
    let mut samples = Vec::new();
    let mut started = String::new();
    let t = Instant::now();
    while calls < MEMORY_CALLS {
        match calls % 100 {
            50 => {
                started = id_of(
                    &client.call("process_start", json!({"command": "true", "reuse": false}))?,
                )?
            }
            51 => {
                client.call("process_wait", json!({"id": started, "until": "exit"}))?;
            }
            52 => {
                client.call("process_remove", json!({"id": started}))?;
            }
            n if n % 2 == 0 => {
                client.call("process_list", json!({}))?;
            }
            _ => {
                client.call(
                    "process_output",
                    json!({"id": kept, "mode": "tail", "lines": 10}),
                )?;
            }
        }
        calls += 1;
        if MEMORY_SAMPLES.contains(&calls) {
            samples.push((calls, client.rss_kib()?));
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let line: Vec<String> = samples
        .iter()
        .map(|(n, kib)| format!("{n}: {kib} KiB"))
        .collect();
    println!("  after N calls: {}", line.join(", "));
    let at = |n: usize| samples.iter().find(|s| s.0 == n).map_or(0, |s| s.1);
    let (first, half, last) = (at(100), at(MEMORY_CALLS / 2), at(MEMORY_CALLS));
    println!(
        "  after {MEMORY_CALLS} / after 100: {:.2} (flat = about 1); from {} to {MEMORY_CALLS} calls: {:+} KiB; {:.0} calls/s",
        last as f64 / first as f64,
        MEMORY_CALLS / 2,
        last as i64 - half as i64,
        (MEMORY_CALLS - 2) as f64 / secs
    );
    Ok(())
}

fn id_of(result: &Value) -> Result<String> {
    result["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| BenchError::Check(format!("no id in {result}")))
}
