//! `procdeck-bench`: prints Procdeck's figures beside a baseline measured in the same run, as
//! ratios, because this kind of machine is shared and noisy. See docs/benchmarks.md.
//!
//! Usage: procdeck-bench [--size BYTES] [--dir DIR] [--only capture,reads,follow,stop,concurrency,mcp,usage]

mod mcp;
mod mcp_client;
mod usage;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use procdeck_engine::follow::FollowControl;
use procdeck_engine::platform::{self, ProcessTable, Signal};
use procdeck_engine::{Settings, StartRequest, StopRequest, Workspace};

const CAPTURE_ROUNDS: usize = 5;
const LINE: &str = "procdeck benchmark: the quick brown fox jumps over the lazy dog 0123456789";

#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error(transparent)]
    Engine(#[from] procdeck_engine::Error),
    #[error("{0}: {1}")]
    Io(String, io::Error),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Check(String),
}

type Result<T> = std::result::Result<T, BenchError>;

struct Opts {
    size: u64,
    dir: PathBuf,
    only: Vec<String>,
}

fn main() -> ExitCode {
    procdeck_engine::shim::run_if_requested();
    match parse_args().and_then(|o| run(&o)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("procdeck-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Opts> {
    let mut opts = Opts {
        size: 1 << 30,
        dir: std::env::temp_dir(),
        only: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| BenchError::Usage(format!("{a} needs a value")))
        };
        match a.as_str() {
            "--size" => {
                let v = value()?;
                opts.size = v
                    .parse()
                    .map_err(|_| BenchError::Usage(format!("bad --size {v}")))?;
            }
            "--dir" => opts.dir = PathBuf::from(value()?),
            "--only" => opts.only = value()?.split(',').map(str::to_owned).collect(),
            other => return Err(BenchError::Usage(format!("unknown argument {other}"))),
        }
    }
    Ok(opts)
}

fn wants(o: &Opts, what: &str) -> bool {
    o.only.is_empty() || o.only.iter().any(|w| w == what)
}

fn procdeck_bin() -> Result<PathBuf> {
    let me = std::env::current_exe().map_err(|e| BenchError::Io("current exe".into(), e))?;
    let bin = me.with_file_name("procdeck");
    if !bin.exists() {
        return Err(BenchError::Usage(format!(
            "{} is missing: build the workspace first",
            bin.display()
        )));
    }
    Ok(bin)
}

/// The engine's settings with this build's `procdeck` as the shim.
fn settings() -> Result<Settings> {
    Ok(Settings {
        shim_exe: Some(procdeck_bin()?),
        ..Settings::default()
    })
}

fn run(o: &Opts) -> Result<()> {
    let root = tempfile_dir(&o.dir)?;
    let (ws, _) = Workspace::open(&root, settings()?)?;
    println!(
        "procdeck-bench: size {} MiB, folder {}, load average {}",
        o.size >> 20,
        root.display(),
        load_average()
    );
    let result = (|| {
        let mut capture_id = None;
        if wants(o, "capture") || wants(o, "reads") {
            capture_id = Some(capture(&ws, &root, o.size)?);
        }
        if let (Some(id), true) = (&capture_id, wants(o, "reads")) {
            reads(&ws, &root, id)?;
        }
        if wants(o, "follow") {
            follow_latency(&ws)?;
        }
        if wants(o, "stop") {
            stop_time(&ws)?;
        }
        if wants(o, "concurrency") {
            concurrency(&root)?;
        }
        if wants(o, "mcp") {
            mcp::mcp(&ws, &root, o.size, capture_id.as_deref())?;
        }
        if wants(o, "usage") {
            usage::usage(&root)?;
        }
        Ok(())
    })();
    let _ = ws.close();
    let _ = std::fs::remove_dir_all(&root);
    println!("\nload average at the end {}", load_average());
    result
}

/// The 1, 5 and 15 minute load averages: on a shared machine, what the figures competed with.
fn load_average() -> String {
    platform::load_average().map_or_else(
        || "unknown".into(),
        |loads| format!("{:.2} {:.2} {:.2}", loads[0], loads[1], loads[2]),
    )
}

fn tempfile_dir(base: &Path) -> Result<PathBuf> {
    let dir = base.join(format!("procdeck-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| BenchError::Io(dir.display().to_string(), e))?;
    Ok(dir)
}

fn capture_command(size: u64) -> String {
    format!("yes '{LINE}' | head -c {size}")
}

/// The same command under Procdeck (start until exit recorded) and redirected to a file by bash,
/// alternating, each writing a fresh file after its previous one was removed and synced, so that
/// neither pays for the other's writeback. Every round is printed; the summary gives the best
/// time of each side against the other's best, and the median of the per-round ratios. Then the
/// capped path: the same command with an output cap of a quarter of its output, so that the
/// shim rotates all along.
fn capture(ws: &Workspace, root: &Path, size: u64) -> Result<String> {
    println!("\n== capture: {}", capture_command(size));
    let id = capture_rounds(ws, root, size, size * 2)?;
    let cap = (size / 4).max(1 << 20);
    println!(
        "\n== capture over the cap: the same command with --output-cap {} MiB",
        cap >> 20
    );
    let capped = capture_rounds(ws, root, size, cap)?;
    let record = ws.get(&capped)?;
    println!(
        "  kept {} MiB of {} MiB ({} MiB dropped by rotation)",
        (record.output_size_bytes - record.dropped_bytes) >> 20,
        record.output_size_bytes >> 20,
        record.dropped_bytes >> 20
    );
    ws.remove(&capped)?;
    Ok(id)
}

/// `CAPTURE_ROUNDS` rounds of the redirect and of Procdeck with output cap `cap`; returns the
/// id of the last Procdeck record (kept for the reads). Each side first removes its own previous
/// output and syncs, so both start from the same state: that output's pages freed and nothing
/// dirty left to write back. Which side goes first alternates from round to round.
fn capture_rounds(ws: &Workspace, root: &Path, size: u64, cap: u64) -> Result<String> {
    let baseline_file = root.join("baseline.log");
    let mut ratios = Vec::new();
    let mut best = (f64::MAX, f64::MAX);
    let mut id = String::new();
    for round in 0..CAPTURE_ROUNDS {
        let (base, pd) = if round % 2 == 0 {
            let base = redirect_round(&baseline_file, size)?;
            (base, procdeck_round(ws, &mut id, size, cap)?)
        } else {
            let pd = procdeck_round(ws, &mut id, size, cap)?;
            (redirect_round(&baseline_file, size)?, pd)
        };
        println!(
            "  round {round}: redirect {base:.3} s   procdeck {pd:.3} s   ratio {:.2}",
            pd / base
        );
        ratios.push(pd / base);
        best = (best.0.min(base), best.1.min(pd));
    }
    ratios.sort_by(f64::total_cmp);
    let mib = size as f64 / 1048576.0;
    println!(
        "  best vs best: redirect {:.3} s ({:.0} MiB/s), procdeck {:.3} s ({:.0} MiB/s), ratio {:.2}; median of the round ratios {:.2}",
        best.0,
        mib / best.0,
        best.1,
        mib / best.1,
        best.1 / best.0,
        ratios[ratios.len() / 2],
    );
    Ok(id)
}

/// The capture command redirected to `file` by bash; returns its wall time.
fn redirect_round(file: &Path, size: u64) -> Result<f64> {
    let _ = std::fs::remove_file(file);
    sync();
    let t = Instant::now();
    let status = Command::new("bash")
        .arg("-c")
        .arg(format!("{} > {}", capture_command(size), file.display()))
        .status()
        .map_err(|e| BenchError::Io("bash".into(), e))?;
    let secs = t.elapsed().as_secs_f64();
    if !status.success() {
        return Err(BenchError::Check("the baseline command failed".into()));
    }
    Ok(secs)
}

/// The capture command under Procdeck with output cap `cap`, from start until the exit is
/// recorded, after removing the previous record `id`; `id` becomes the new record's.
fn procdeck_round(ws: &Workspace, id: &mut String, size: u64, cap: u64) -> Result<f64> {
    if !id.is_empty() {
        ws.remove(id)?;
    }
    sync();
    let t = Instant::now();
    let record = ws.start(StartRequest {
        output_cap_bytes: Some(cap),
        ..StartRequest::new(capture_command(size))
    })?;
    let done = ws.wait(&record.id, Some(Duration::from_secs(600)))?;
    let secs = t.elapsed().as_secs_f64();
    *id = record.id;
    if done.output_size_bytes != size {
        return Err(BenchError::Check(format!(
            "captured {} bytes, expected {size}",
            done.output_size_bytes
        )));
    }
    if cap < size && done.dropped_bytes == 0 {
        return Err(BenchError::Check(format!(
            "{size} bytes under a cap of {cap} dropped nothing"
        )));
    }
    Ok(secs)
}

fn sync() {
    let _ = Command::new("sync").status();
}

/// Wall time and peak RSS of a command, best of three.
fn timed(cmd: &mut Command) -> Result<(f64, u64)> {
    let mut best = (f64::MAX, 0);
    for _ in 0..3 {
        let t = Instant::now();
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| BenchError::Io("spawn".into(), e))?;
        let peak =
            platform::wait_peak_memory(child).map_err(|e| BenchError::Io("wait".into(), e))?;
        let secs = t.elapsed().as_secs_f64();
        if secs < best.0 {
            best = (secs, peak / 1024);
        }
    }
    Ok(best)
}

/// Reads a whole file, so that it is in the page cache.
fn warm(path: &Path) -> Result<()> {
    let io_err = |e| BenchError::Io(path.display().to_string(), e);
    let mut file = std::fs::File::open(path).map_err(io_err)?;
    io::copy(&mut file, &mut io::sink()).map_err(io_err)?;
    Ok(())
}

fn reads(ws: &Workspace, root: &Path, id: &str) -> Result<()> {
    let bin = procdeck_bin()?;
    let file = root.join("baseline.log");
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    // Both files are read once first, so that both sides read from the page cache.
    warm(&file)?;
    warm(&ws.output_path(id)?)?;
    println!("\n== reads of the {} MiB output (CLI process vs GNU tool on the redirected file; both in the page cache; best of 3, wall time and peak RSS)", size >> 20);
    let pd = |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.arg("-w").arg(root).arg("output").arg(id).args(args);
        c
    };
    let gnu = |tool: &str, args: &[&str]| {
        let mut c = Command::new(tool);
        c.env("LC_ALL", "C").args(args).arg(&file);
        c
    };
    let piped = |c: Command| {
        let args: Vec<String> = std::iter::once(c.get_program())
            .chain(c.get_args())
            .map(|a| format!("'{}'", a.to_string_lossy().replace('\'', r"'\''")))
            .collect();
        let mut b = Command::new("bash");
        b.env("LC_ALL", "C")
            .arg("-c")
            .arg(format!("{} | cat > /dev/null", args.join(" ")));
        b
    };
    let cases: Vec<(&str, Command, Command)> = vec![
        ("tail 10", pd(&["--tail", "10"]), gnu("tail", &["-n", "10"])),
        ("head 10", pd(&["--head", "10"]), gnu("head", &["-n", "10"])),
        (
            "grep (no match)",
            pd(&["--grep", "ERROR [0-9]+"]),
            gnu("grep", &["-E", "ERROR [0-9]+"]),
        ),
        // Through a pipe on both sides: GNU grep stops at the first match when its output is
        // /dev/null, which would measure nothing.
        (
            "grep (every line)",
            piped(pd(&["--grep", "fox"])),
            piped(gnu("grep", &["fox"])),
        ),
    ];
    for (name, mut mine, mut theirs) in cases {
        let (t_pd, rss_pd) = timed(&mut mine)?;
        let (t_gnu, rss_gnu) = timed(&mut theirs)?;
        println!(
            "  {name:<22} procdeck {:>8.2} ms {:>7} KiB   GNU {:>8.2} ms {:>7} KiB   ratio {:.2}",
            t_pd * 1000.0,
            rss_pd,
            t_gnu * 1000.0,
            rss_gnu,
            t_pd / t_gnu
        );
    }
    // Flatness: the engine's own tail and head at 1 MiB and at the full size.
    let small = ws.start(StartRequest::new(capture_command(1 << 20)))?;
    ws.wait(&small.id, Some(Duration::from_secs(60)))?;
    for (name, req) in [
        (
            "tail 10",
            procdeck_engine::ReadRequest {
                lines: Some(10),
                ..procdeck_engine::ReadRequest::new(procdeck_engine::ReadMethod::Tail)
            },
        ),
        (
            "head 10",
            procdeck_engine::ReadRequest {
                lines: Some(10),
                ..procdeck_engine::ReadRequest::new(procdeck_engine::ReadMethod::Head)
            },
        ),
    ] {
        let time = |pid: &str| -> Result<f64> {
            let mut best = f64::MAX;
            for _ in 0..20 {
                let t = Instant::now();
                ws.read(pid, &req)?;
                best = best.min(t.elapsed().as_secs_f64());
            }
            Ok(best)
        };
        let (a, b) = (time(&small.id)?, time(id)?);
        println!(
            "  engine {name}: 1 MiB {:.3} ms   {} MiB {:.3} ms   ratio {:.2} (flat = about 1)",
            a * 1000.0,
            size >> 20,
            b * 1000.0,
            b / a
        );
    }
    ws.remove(&small.id)?;
    Ok(())
}

/// A writer prints its clock ($EPOCHREALTIME) every 5 ms; the engine's follower and GNU
/// `tail -F` on the same `output.log` note when each line reaches them.
fn follow_latency(ws: &Workspace) -> Result<()> {
    println!("\n== follow latency: writer's timestamp → line delivered (engine follow vs `tail -F` on the same file)");
    let n = 400;
    let record = ws.start(StartRequest::new(format!(
        "sleep 0.5; for i in $(seq {n}); do echo \"$EPOCHREALTIME\"; sleep 0.005; done"
    )))?;
    let path = ws.output_path(&record.id)?;
    let mut tail = Command::new("tail")
        .args(["-n", "+1", "-F"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| BenchError::Io("tail".into(), e))?;
    let tail_out = tail.stdout.take();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut latencies = Vec::new();
        if let Some(out) = tail_out {
            for line in io::BufRead::lines(io::BufReader::new(out)).map_while(|l| l.ok()) {
                let now = wall_secs();
                if let Ok(ts) = line.trim().parse::<f64>() {
                    latencies.push((now - ts) * 1000.0);
                }
                if latencies.len() == n {
                    break;
                }
            }
        }
        let _ = tx.send(latencies);
    });

    let cancel = AtomicBool::new(false);
    let mut pending = Vec::new();
    let mut engine = Vec::new();
    let followed = ws.follow(&record.id, None, &cancel, &mut |chunk| {
        let now = wall_secs();
        pending.extend_from_slice(chunk.bytes);
        while let Some(nl) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=nl).collect();
            if let Ok(ts) = String::from_utf8_lossy(&line).trim().parse::<f64>() {
                engine.push((now - ts) * 1000.0);
            }
        }
        FollowControl::Continue
    });
    // tail has seen every line by now unless it lags; then it gets a while, and is ended.
    let by_tail = rx.recv_timeout(Duration::from_secs(30));
    let _ = tail.kill();
    let _ = tail.wait();
    let by_tail = match by_tail {
        Ok(l) => l,
        Err(_) => rx.recv().unwrap_or_default(),
    };
    followed?;
    ws.remove(&record.id)?;
    for (name, mut latencies) in [("procdeck", engine), ("tail -F", by_tail)] {
        latencies.sort_by(f64::total_cmp);
        if latencies.is_empty() {
            return Err(BenchError::Check(format!("no lines reached {name}")));
        }
        println!(
            "  {name:<9} {} lines: p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms",
            latencies.len(),
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            percentile(&latencies, 1.0)
        );
    }
    Ok(())
}

/// The value at fraction `p` (0 to 1) of sorted, non-empty `values`, the nearest rank.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn wall_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A tree that escapes a plain group kill: a background sleep, a double-forked setsid sleep,
/// and a child that ignores SIGTERM. Procdeck's stop (default 2 s grace) against what a script
/// does without it: SIGTERM to the process group, SIGKILL to it once the grace has passed.
fn stop_time(ws: &Workspace) -> Result<()> {
    println!("\n== stop: the escaping tree, grace {STOP_GRACE_SECS} s (procdeck stop vs SIGTERM + SIGKILL to the process group)");
    // Sleeps of an unusual length, and started after this program: ours to count and to end.
    let mark = format!("77{:07}", std::process::id() % 10_000_000);
    let cmd = format!(
        "sleep {mark}1 & (setsid sleep {mark}2 &) ; bash -c \"trap '' TERM; exec sleep {mark}3\" & wait"
    );
    let not_before = platform::start_time(std::process::id()).unwrap_or(0);
    for round in 0..3 {
        let record = ws.start(StartRequest::new(cmd.clone()))?;
        let before = wait_for_sleeps(&mark, not_before)?;
        let t = Instant::now();
        let done = ws.stop(&record.id, StopRequest::default())?;
        let secs = t.elapsed().as_secs_f64();
        let after = sleeps_of(&mark, not_before).len();
        ws.remove(&record.id)?;
        end_sleeps(&mark, not_before);

        let (plain_secs, plain_after) = plain_group_stop(&cmd, &mark, not_before)?;
        println!(
            "  round {round}: {before} sleeps; procdeck {secs:.3} s, {after} left ({});   group kill {plain_secs:.3} s, {plain_after} left",
            done.status.as_str()
        );
    }
    Ok(())
}

const STOP_GRACE_SECS: f64 = 2.0;

/// The tree in its own process group, ended as a script would: SIGTERM to the group, then
/// SIGKILL once the group is still there after the grace. Returns the time until the group was
/// gone and how many sleeps were left.
fn plain_group_stop(cmd: &str, mark: &str, not_before: u64) -> Result<(f64, usize)> {
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = platform::in_new_group(&mut bash)
        .spawn()
        .map_err(|e| BenchError::Io("bash".into(), e))?;
    let group = child.id();
    wait_for_sleeps(mark, not_before)?;
    let t = Instant::now();
    // The group is the one our unreaped child leads, so its id is not reused.
    platform::signal_group(group, Signal::Terminate);
    let group_alive = |child: &mut std::process::Child| {
        let _ = child.try_wait();
        ProcessTable::read()
            .iter()
            .any(|(_, s)| i64::from(s.pgrp) == i64::from(group) && !s.has_exited())
    };
    while group_alive(&mut child) && t.elapsed().as_secs_f64() < STOP_GRACE_SECS {
        std::thread::sleep(Duration::from_millis(5));
    }
    // As above: the leader is not reaped until `wait` below.
    platform::signal_group(group, Signal::Kill);
    let _ = child.wait();
    while group_alive(&mut child) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let secs = t.elapsed().as_secs_f64();
    let left = sleeps_of(mark, not_before).len();
    end_sleeps(mark, not_before);
    Ok((secs, left))
}

/// Waits until the tree's three sleeps run; returns how many do.
fn wait_for_sleeps(mark: &str, not_before: u64) -> Result<usize> {
    let t = Instant::now();
    loop {
        let n = sleeps_of(mark, not_before).len();
        if n == 3 {
            return Ok(n);
        }
        if t.elapsed() > Duration::from_secs(30) {
            return Err(BenchError::Check(format!(
                "{n} of the tree's 3 sleeps started"
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The living sleeps of this run's trees, with their start times: `sleep <mark>N`, started
/// after this program.
fn sleeps_of(mark: &str, not_before: u64) -> Vec<(u32, u64)> {
    ProcessTable::read()
        .iter()
        .filter(|(_, s)| s.start_time >= not_before && !s.has_exited())
        .filter(|&(pid, _)| {
            platform::cmdline(pid).is_some_and(|args| {
                args.first().is_some_and(|a| a == "sleep")
                    && args
                        .get(1)
                        .is_some_and(|a| a.to_string_lossy().starts_with(mark))
            })
        })
        .map(|(pid, s)| (pid, s.start_time))
        .collect()
}

/// Ends what a stop left of this run's trees: each a sleep this run started (its unusual
/// length and its start after this program), still the process with that start time.
fn end_sleeps(mark: &str, not_before: u64) {
    for (pid, start_time) in sleeps_of(mark, not_before) {
        platform::signal_verified(pid, start_time, Signal::Kill);
    }
}

/// 100 CLI processes starting at once in one workspace: every record must survive. Against 100
/// plain background jobs (`bash -c COMMAND > file &`) spawned at once.
fn concurrency(root: &Path) -> Result<()> {
    const N: usize = 100;
    println!(
        "\n== concurrency: {N} `procdeck start` processes at once vs {N} plain background jobs"
    );
    let bin = procdeck_bin()?;
    let dir = root.join("concurrency");
    std::fs::create_dir_all(&dir).map_err(|e| BenchError::Io("mkdir".into(), e))?;
    let (secs, ok) = all_at_once(N, |i| {
        let mut c = Command::new(&bin);
        c.arg("-w")
            .arg(&dir)
            .args(["start", "--", &format!("echo {i}")]);
        c
    });
    let (ws, _) = Workspace::open(&dir, settings()?)?;
    let records = ws.list()?;
    for r in &records {
        ws.wait(&r.id, Some(Duration::from_secs(60)))?;
    }
    println!(
        "  procdeck: {ok}/{N} starts succeeded in {secs:.2} s; {} records in index.json",
        records.len()
    );
    let jobs = root.join("jobs");
    std::fs::create_dir_all(&jobs).map_err(|e| BenchError::Io("mkdir".into(), e))?;
    let (secs, ok) = all_at_once(N, |i| {
        let mut c = Command::new("bash");
        c.arg("-c")
            .arg(format!("echo {i} > {}/{i}.log &", jobs.display()));
        c
    });
    println!("  plain:    {ok}/{N} background jobs started in {secs:.2} s");
    let _ = io::stdout().flush();
    Ok(())
}

/// Spawns `n` commands at once and waits for each to exit; returns the time and how many
/// succeeded.
fn all_at_once(n: usize, command: impl Fn(usize) -> Command) -> (f64, usize) {
    let t = Instant::now();
    let children: Vec<_> = (0..n)
        .map(|i| {
            command(i)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
        })
        .collect();
    let ok = children
        .into_iter()
        .flatten()
        .filter_map(|mut c| c.wait().ok())
        .filter(|s| s.success())
        .count();
    (t.elapsed().as_secs_f64(), ok)
}
