//! `procdeck-bench`: prints Procdeck's figures beside a baseline measured in the same run, as
//! ratios, because this kind of machine is shared and noisy. See docs/benchmarks.md.
//!
//! Usage: procdeck-bench [--size BYTES] [--dir DIR] [--only capture,reads,follow,stop,concurrency]

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use procdeck_engine::follow::FollowControl;
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

fn run(o: &Opts) -> Result<()> {
    let root = tempfile_dir(&o.dir)?;
    let settings = Settings {
        shim_exe: Some(procdeck_bin()?),
        ..Settings::default()
    };
    let (ws, _) = Workspace::open(&root, settings)?;
    println!(
        "procdeck-bench: size {} MiB, folder {}",
        o.size >> 20,
        root.display()
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
        Ok(())
    })();
    let _ = ws.close();
    let _ = std::fs::remove_dir_all(&root);
    result
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
/// alternating, each writing a fresh file after the previous one was removed and synced, so that
/// neither pays for the other's writeback. Reports the median and the best of the per-round ratios.
fn capture(ws: &Workspace, root: &Path, size: u64) -> Result<String> {
    println!("\n== capture: {}", capture_command(size));
    let baseline_file = root.join("baseline.log");
    let mut ratios = Vec::new();
    let mut best = (f64::MAX, f64::MAX);
    let mut id = String::new();
    for round in 0..CAPTURE_ROUNDS {
        if !id.is_empty() {
            ws.remove(&id)?;
        }
        let _ = std::fs::remove_file(&baseline_file);
        sync();
        let t = Instant::now();
        let status = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "{} > {}",
                capture_command(size),
                baseline_file.display()
            ))
            .status()
            .map_err(|e| BenchError::Io("bash".into(), e))?;
        let base = t.elapsed().as_secs_f64();
        if !status.success() {
            return Err(BenchError::Check("the baseline command failed".into()));
        }
        sync();
        let t = Instant::now();
        let record = ws.start(StartRequest {
            output_cap_bytes: Some(size * 2),
            ..StartRequest::new(capture_command(size))
        })?;
        let done = ws.wait(&record.id, Some(Duration::from_secs(600)))?;
        let pd = t.elapsed().as_secs_f64();
        if done.output_size_bytes != size {
            return Err(BenchError::Check(format!(
                "captured {} bytes, expected {size}",
                done.output_size_bytes
            )));
        }
        println!(
            "  round {round}: redirect {base:.3} s   procdeck {pd:.3} s   ratio {:.2}",
            pd / base
        );
        ratios.push(pd / base);
        best = (best.0.min(base), best.1.min(pd));
        id = record.id;
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "  median ratio {:.2}; best times: redirect {:.3} s ({:.0} MiB/s), procdeck {:.3} s ({:.0} MiB/s), ratio {:.2} (target ≤ 1.10)",
        ratios[ratios.len() / 2],
        best.0,
        size as f64 / 1048576.0 / best.0,
        best.1,
        size as f64 / 1048576.0 / best.1,
        best.1 / best.0
    );
    Ok(id)
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
        let mut status = 0;
        // SAFETY: an all-zero rusage is valid, and wait4 fills it for our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waiting for our own child with valid out-pointers.
        let rc = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
        let secs = t.elapsed().as_secs_f64();
        if rc < 0 {
            return Err(BenchError::Io("wait4".into(), io::Error::last_os_error()));
        }
        if secs < best.0 {
            best = (secs, usage.ru_maxrss as u64);
        }
    }
    Ok(best)
}

fn reads(ws: &Workspace, root: &Path, id: &str) -> Result<()> {
    let bin = procdeck_bin()?;
    let file = root.join("baseline.log");
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    println!("\n== reads of the {} MiB output (CLI process vs GNU tool on the redirected file; best of 3, wall time and peak RSS)", size >> 20);
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

/// A writer prints its clock ($EPOCHREALTIME) every 5 ms; the follower notes when each line arrives.
fn follow_latency(ws: &Workspace) -> Result<()> {
    println!("\n== follow latency: writer's timestamp → line delivered to the follower");
    let n = 400;
    let record = ws.start(StartRequest::new(format!(
        "sleep 0.3; for i in $(seq {n}); do echo \"$EPOCHREALTIME\"; sleep 0.005; done"
    )))?;
    let cancel = AtomicBool::new(false);
    let mut pending = Vec::new();
    let mut latencies = Vec::new();
    ws.follow(&record.id, None, &cancel, &mut |chunk| {
        let now = wall_secs();
        pending.extend_from_slice(chunk.bytes);
        while let Some(nl) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=nl).collect();
            if let Ok(ts) = String::from_utf8_lossy(&line).trim().parse::<f64>() {
                latencies.push((now - ts) * 1000.0);
            }
        }
        FollowControl::Continue
    })?;
    latencies.sort_by(f64::total_cmp);
    if latencies.is_empty() {
        return Err(BenchError::Check("no lines arrived".into()));
    }
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "  {} lines: p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms (target p99 ≤ 20 ms; the reference polled: p50 550 ms)",
        latencies.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    ws.remove(&record.id)?;
    Ok(())
}

fn wall_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The escaping tree from issue 2: a background sleep, a double-forked setsid sleep, and a child
/// that ignores SIGTERM.
fn stop_time(ws: &Workspace) -> Result<()> {
    println!("\n== stop: the escaping tree, grace 2 s");
    let mark = 1000 + (std::process::id() % 1000);
    let cmd = format!(
        "sleep {mark}1 & (setsid sleep {mark}2 &) ; bash -c \"trap '' TERM; exec sleep {mark}3\" & wait"
    );
    for round in 0..3 {
        let record = ws.start(StartRequest::new(cmd.clone()))?;
        std::thread::sleep(Duration::from_millis(300));
        let before = survivors(mark);
        let t = Instant::now();
        let done = ws.stop(&record.id, StopRequest::default())?;
        let secs = t.elapsed().as_secs_f64();
        let after = survivors(mark);
        println!(
            "  round {round}: {} processes before, stop took {secs:.3} s (grace + {:.3} s), {} survivors, status {}",
            before,
            secs - 2.0,
            after,
            done.status.as_str()
        );
        ws.remove(&record.id)?;
    }
    println!("  (the reference: 5 s, with the setsid child surviving)");
    Ok(())
}

fn survivors(mark: u32) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&format!("sleep\0{mark}")))
                .unwrap_or(false)
        })
        .count()
}

/// 100 CLI processes starting at once in one workspace: every record must survive.
fn concurrency(root: &Path) -> Result<()> {
    println!("\n== concurrency: 100 `procdeck start` processes at once");
    let bin = procdeck_bin()?;
    let dir = root.join("concurrency");
    std::fs::create_dir_all(&dir).map_err(|e| BenchError::Io("mkdir".into(), e))?;
    let t = Instant::now();
    let children: Vec<_> = (0..100)
        .map(|i| {
            Command::new(&bin)
                .arg("-w")
                .arg(&dir)
                .args(["start", "--", &format!("echo {i}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
        })
        .collect();
    let mut ok = 0;
    for mut c in children.into_iter().flatten() {
        if c.wait().map(|s| s.success()).unwrap_or(false) {
            ok += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let (ws, _) = Workspace::open(
        &dir,
        Settings {
            shim_exe: Some(bin),
            ..Settings::default()
        },
    )?;
    let records = ws.list()?;
    println!(
        "  {ok}/100 starts succeeded in {secs:.2} s; {} records in index.json (the reference kept 0–1 of 50)",
        records.len()
    );
    let _ = io::stdout().flush();
    Ok(())
}
