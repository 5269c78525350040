//! The cost of measuring what processes cost: one sampling round of the CPU and memory of 20
//! running trees, as the app does every 2 s for the rows on screen, against `ps` listing the
//! same figures for every process, as a script would.

use std::process::{Command, Stdio};
use std::time::Instant;

use procdeck_engine::platform;
use procdeck_engine::{StartRequest, UsageSampler, Workspace};

use crate::{settings, BenchError, Result};

const TREES: usize = 20;
const ROUNDS: usize = 200;
const PS_ROUNDS: usize = 50;
/// How often the app samples the rows on screen.
const INTERVAL_SECS: f64 = 2.0;

pub fn usage(root: &std::path::Path) -> Result<()> {
    println!("\n== usage: one sampling round of {TREES} running trees (CPU and memory) vs `ps -e -o pid,ppid,rss,time`");
    let dir = root.join("usage");
    std::fs::create_dir_all(&dir).map_err(|e| BenchError::Io("mkdir".into(), e))?;
    let (ws, _) = Workspace::open(&dir, settings()?)?;
    let result = rounds(&ws);
    let _ = ws.close();
    result
}

fn rounds(ws: &Workspace) -> Result<()> {
    let mut ids = Vec::with_capacity(TREES);
    for _ in 0..TREES {
        ids.push(ws.start(StartRequest::new("sleep 600"))?.id);
    }
    let hz = platform::clock_ticks_per_second()
        .ok_or_else(|| BenchError::Check("no clock tick rate".into()))?;
    let me = std::process::id();
    let cpu_ticks = || platform::stat(me).map_or(0, |s| s.cpu_ticks);
    let mut sampler = UsageSampler::new();
    let first = ws.usage(&mut sampler, &ids)?;
    if first.len() != TREES {
        return Err(BenchError::Check(format!(
            "{} of {TREES} trees measured",
            first.len()
        )));
    }
    let mut walls = Vec::with_capacity(ROUNDS);
    let ticks_before = cpu_ticks();
    let t = Instant::now();
    for _ in 0..ROUNDS {
        let round = Instant::now();
        ws.usage(&mut sampler, &ids)?;
        walls.push(round.elapsed().as_secs_f64() * 1000.0);
    }
    let total = t.elapsed().as_secs_f64();
    let cpu_ms = (cpu_ticks() - ticks_before) as f64 / hz as f64 * 1000.0 / ROUNDS as f64;
    walls.sort_by(f64::total_cmp);
    let processes = procdeck_engine::platform::pids().len();
    println!(
        "  procdeck: {ROUNDS} rounds in {total:.2} s; per round median {:.2} ms, p99 {:.2} ms wall, {cpu_ms:.2} ms CPU ({processes} processes on the machine)",
        crate::percentile(&walls, 0.5),
        crate::percentile(&walls, 0.99),
    );
    println!(
        "  one round every {INTERVAL_SECS} s: {:.3} % of one core",
        cpu_ms / 1000.0 / INTERVAL_SECS * 100.0
    );

    let mut ps = Vec::with_capacity(PS_ROUNDS);
    for _ in 0..PS_ROUNDS {
        let round = Instant::now();
        let status = Command::new("ps")
            .args(["-e", "-o", "pid=,ppid=,rss=,time="])
            .stdout(Stdio::null())
            .status()
            .map_err(|e| BenchError::Io("ps".into(), e))?;
        if !status.success() {
            return Err(BenchError::Check(format!("ps failed: {status}")));
        }
        ps.push(round.elapsed().as_secs_f64() * 1000.0);
    }
    ps.sort_by(f64::total_cmp);
    println!(
        "  ps:       per run median {:.2} ms, p99 {:.2} ms wall",
        crate::percentile(&ps, 0.5),
        crate::percentile(&ps, 0.99),
    );
    Ok(())
}
