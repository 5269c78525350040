// A flood through the real window: a process prints 50 MB/s of coloured lines for 20 s while the
// Live view follows it, and the same flood again while Live shows an idle process (the baseline,
// measured in the same run). For each: the gaps between animation frames (a requestAnimationFrame
// probe in the page), the time from a click on another row to that row showing as selected
// (clicks as a person makes them, through the X server with xdotool, and WebDriver's element
// clicks, in turns; the page notes when each click reaches it, and the probe sees the selection
// on the frame it is drawn),
// the CPU of the app and of its WebKit web process, and the web process's resident memory.
//
// Run: tests/e2e/run.sh tests/e2e/flood.bench.mjs   (docs/benchmarks.md has the figures)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.mjs';
import { Session } from './webdriver.mjs';

const { PROCDECK_E2E_DRIVER: driver, PROCDECK_E2E_APP: app, PROCDECK_E2E_CLI: cliBin } = process.env;
const work = process.env.PROCDECK_E2E_WORK;
const wsDir = path.join(work, 'ws-flood');
const RATE = 50 * 1000 * 1000;
const SECONDS = 20;
const CLICK_EVERY_MS = 500;
const TICKS = 100; // clock ticks per second in /proc/<pid>/stat (USER_HZ)

let s;

function cli(...args) {
  return JSON.parse(execFileSync(cliBin, ['-w', wsDir, '--json', ...args], { encoding: 'utf8' }));
}

/** A process that waits for `go` to exist, then prints RATE bytes/s of coloured lines for SECONDS. */
function floodCommand(go) {
  const py = [
    'import os, sys, time',
    `go, rate, secs = ${JSON.stringify(go)}, ${RATE}, ${SECONDS}`,
    'while not os.path.exists(go): time.sleep(0.02)',
    "lines = ''.join('\\x1b[2m12:00:%02d\\x1b[0m \\x1b[1;32mINFO\\x1b[0m GET /api/items/%d \\x1b[33m200\\x1b[0m in %d ms \\x1b[36mcache=hit\\x1b[0m\\n' % (i % 60, i, i % 97) for i in range(4000)).encode()",
    'out, sent, start = sys.stdout.buffer, 0, time.monotonic()',
    'while True:',
    '    t = time.monotonic() - start',
    '    if t >= secs: break',
    '    while sent < rate * t:',
    '        out.write(lines); sent += len(lines)',
    '    out.flush(); time.sleep(0.002)',
    "print('flood done', sent, flush=True)",
  ].join('\n');
  return ['python3', '-c', py];
}

/** Cumulative CPU seconds (user + system) of `pid`. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

function parentOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The app's process and its WebKit web process (a child of the app). */
function appProcesses() {
  const appPid = h.processesWith(app).find((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0] === app;
    } catch {
      return false;
    }
  });
  if (!appPid) return undefined;
  const web = h.processesWith('WebKitWebProcess').find((p) => {
    try {
      return parentOf(p) === appPid;
    } catch {
      return false;
    }
  });
  return web ? { appPid, webPid: web } : undefined;
}

const pct = (xs, q) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
};

const rowSelector = (id) => `[data-testid="process-row"][data-process-id="${id}"]`;

/** Starts the page's probe: every animation frame's time, and the selected row's changes. */
async function startProbe() {
  await s.execute(`
    const probe = { frames: [], selections: [], clicks: [], last: null, running: true };
    window.__floodProbe = probe;
    // When each click reached the page's handlers: the rest of the wait is drawing it.
    document.addEventListener('click', () => probe.clicks.push(performance.timeOrigin + performance.now()), true);
    const tick = (now) => {
      if (!probe.running) return;
      probe.frames.push(now);
      const sel = document.querySelector('[data-testid="process-row"][aria-selected="true"]');
      const id = sel ? sel.getAttribute('data-process-id') : null;
      if (id !== probe.last) {
        probe.last = id;
        probe.selections.push([id, performance.timeOrigin + now]);
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  `);
}

async function stopProbe() {
  return s.execute(`
    const probe = window.__floodProbe;
    probe.running = false;
    return { frames: probe.frames, selections: probe.selections };
  `);
}

/** The app window's top-left corner on the screen, where its web view starts. */
function windowOrigin() {
  const ids = execFileSync('xdotool', ['search', '--onlyvisible', '--class', '^procdeck-app$'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const id = ids.find((w) => execFileSync('xdotool', ['getwindowname', w], { encoding: 'utf8' }).trim() === 'Procdeck');
  assert.ok(id, 'the app window is found');
  const geo = Object.fromEntries(
    execFileSync('xdotool', ['getwindowgeometry', '--shell', id], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('=')),
  );
  return { x: Number(geo.X), y: Number(geo.Y) };
}

/**
 * Clicks the row of `id` and waits until the probe has seen it selected; returns how long that
 * took. `how` is 'user' (the pointer moved over the row first, then a button press and release
 * through the X server, as a person clicks) or 'webdriver' (WebDriver's element click, which
 * locates and hit-tests the element with scripts in the page before it sends the click).
 */
async function clickRow(id, how) {
  let sent;
  if (how === 'user') {
    const [x, y] = await s.execute(`const r = document.querySelector(${JSON.stringify(rowSelector(id))}).getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]`);
    const origin = windowOrigin();
    execFileSync('xdotool', ['mousemove', String(Math.round(origin.x + x)), String(Math.round(origin.y + y))]);
    await new Promise((r) => setTimeout(r, 50));
    sent = Date.now();
    execFileSync('xdotool', ['click', '1']);
  } else {
    const el = await s.find(rowSelector(id));
    sent = Date.now();
    await el.click();
  }
  const [seen, dispatched] = await h.until(`row ${id} to show as selected`, async () => {
    const { selections, clicks } = await s.execute('const p = window.__floodProbe; return { selections: p.selections, clicks: p.clicks }');
    const hit = selections.find(([sid, at]) => sid === id && at >= sent - 1);
    const click = clicks.find((at) => at >= sent - 1);
    return hit && [hit[1], click ?? NaN];
  }, 30_000, 20);
  return { how, away: false, total: seen - sent, toPage: dispatched - sent, drawn: seen - dispatched };
}

/**
 * One phase: selects `shown`, starts a flood, and while it runs clicks `other` then `shown`
 * again every CLICK_EVERY_MS; returns what was measured.
 */
async function phase(name, shownId, otherId) {
  const go = path.join(work, `go-${name}`);
  const flood = cli('start', '--title', `flood-${name}`, '--', ...floodCommand(go));
  await s.waitForElement(rowSelector(flood.id));
  const shown = shownId ?? flood.id;
  await (await s.find(rowSelector(shown))).click();
  await s.waitFor(`row ${shown} to be selected`, async () => (await (await s.find(rowSelector(shown))).attribute('aria-selected')) === 'true');
  await new Promise((r) => setTimeout(r, 1000));
  const procs = appProcesses();
  assert.ok(procs, 'the app and its web process are found');
  const before = { app: cpuSeconds(procs.appPid), web: cpuSeconds(procs.webPid), rss: rssMiB(procs.webPid), at: Date.now() };
  await startProbe();
  fs.writeFileSync(go, '');
  const clicks = [];
  const end = Date.now() + SECONDS * 1000;
  for (let round = 0; Date.now() < end; round++) {
    await new Promise((r) => setTimeout(r, CLICK_EVERY_MS));
    // Both kinds of click, in turns, so that both see the whole flood.
    const how = round % 2 === 0 ? 'user' : 'webdriver';
    clicks.push({ ...(await clickRow(otherId, how)), away: true });
    clicks.push(await clickRow(shown, how));
  }
  const done = cli('wait', flood.id, '--timeout', '60');
  const wall = (Date.now() - before.at) / 1000;
  const after = { app: cpuSeconds(procs.appPid), web: cpuSeconds(procs.webPid), rss: rssMiB(procs.webPid) };
  const { frames } = await stopProbe();
  const gaps = frames.slice(1).map((t, i) => t - frames[i]);
  // Let the web view settle, then see what memory it keeps.
  await new Promise((r) => setTimeout(r, 3000));
  const settled = rssMiB(procs.webPid);
  return {
    name,
    bytes: done.outputSizeBytes,
    gaps,
    clicks,
    appCpu: (after.app - before.app) / wall,
    webCpu: (after.web - before.web) / wall,
    rssBefore: before.rss,
    rssAfter: after.rss,
    rssSettled: settled,
  };
}

function report(live, closed) {
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const row = (label, get) => console.log(`  ${label.padEnd(34)} ${get(live).padStart(22)}   ${get(closed).padStart(22)}`);
  console.log(`\n== flood: ${RATE / 1e6} MB/s of coloured lines for ${SECONDS} s, Live following it vs Live on an idle process (same run)`);
  row('', (r) => (r === live ? 'Live follows the flood' : 'Live closed (idle row)'));
  row('output written (MB)', (r) => f(r.bytes / 1e6, 0));
  row('frames', (r) => String(r.gaps.length + 1));
  row('frame gap p50 / p95 / max (ms)', (r) => `${f(pct(r.gaps, 0.5))} / ${f(pct(r.gaps, 0.95))} / ${f(Math.max(...r.gaps))}`);
  const of = (r, how, away) => r.clicks.filter((c) => c.how === how && (away === undefined || c.away === away));
  const ms = (cs, k, q) => f(pct(cs.map((c) => c[k]), q), 0);
  for (const how of ['user', 'webdriver']) {
    row(`${how === 'user' ? 'a click (X server)' : 'a WebDriver click'}→selection p50 / p95 / max`, (r) => `${ms(of(r, how), 'total', 0.5)} / ${ms(of(r, how), 'total', 0.95)} / ${f(Math.max(...of(r, how).map((c) => c.total)), 0)}`);
    row('  to the other row: p50 / p95 (ms)', (r) => `${ms(of(r, how, true), 'total', 0.5)} / ${ms(of(r, how, true), 'total', 0.95)}`);
    row('    until the page has it: p50 / p95', (r) => `${ms(of(r, how, true), 'toPage', 0.5)} / ${ms(of(r, how, true), 'toPage', 0.95)}`);
    row('    then until drawn: p50 / p95', (r) => `${ms(of(r, how, true), 'drawn', 0.5)} / ${ms(of(r, how, true), 'drawn', 0.95)}`);
    row('  back to the shown row: p50 / p95 (ms)', (r) => `${ms(of(r, how, false), 'total', 0.5)} / ${ms(of(r, how, false), 'total', 0.95)}`);
  }
  row('app CPU (% of a core)', (r) => f(r.appCpu * 100, 0));
  row('web process CPU (% of a core)', (r) => f(r.webCpu * 100, 0));
  row('web process RSS before / after (MiB)', (r) => `${f(r.rssBefore, 0)} / ${f(r.rssAfter, 0)}`);
  row('web process RSS 3 s later (MiB)', (r) => f(r.rssSettled, 0));
  const targets = [
    ['frame gap p95 < 50 ms', pct(live.gaps, 0.95) < 50],
    ['click→selection p95 < 150 ms (a click through the X server)', pct(of(live, 'user').map((c) => c.total), 0.95) < 150],
    ['web process RSS after the flood < 150 MiB above its start', live.rssAfter - live.rssBefore < 150],
  ];
  for (const [what, met] of targets) console.log(`  target ${what}: ${met ? 'met' : 'MISSED'}`);
}

before(async () => {
  fs.mkdirSync(wsDir, { recursive: true });
  s = await Session.create(driver, { 'tauri:options': { application: app, args: [wsDir] } });
  await s.waitForElement('[data-testid="workspace"]');
});

after(async () => {
  if (s) await s.delete();
});

test('a 50 MB/s flood, with Live following it and with Live closed', async () => {
  const idle = [cli('start', '--title', 'idle-a', '--', 'sleep', '600'), cli('start', '--title', 'idle-b', '--', 'sleep', '600')];
  for (const r of idle) await s.waitForElement(rowSelector(r.id));
  const live = await phase('live', undefined, idle[0].id);
  await h.shot('flood-live-after');
  const closed = await phase('closed', idle[0].id, idle[1].id);
  report(live, closed);
  for (const r of [live, closed]) assert.ok(r.bytes >= RATE * SECONDS * 0.9, `${r.name}: the flood wrote ${r.bytes} bytes`);
  for (const r of idle) cli('stop', r.id);
});
