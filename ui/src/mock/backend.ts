/**
 * A fake Procdeck backend for looking at the UI in a browser (dev only, `VITE_PROCDECK_MOCK=1`).
 *
 * It installs `@tauri-apps/api/mocks`' IPC so that `invoke`, `Channel` and `listen` work as they
 * do in the app, and simulates a few workspaces whose processes print coloured output.
 */

import type { Channel } from '@tauri-apps/api/core';
import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import type { AppError } from '../bindings/AppError';
import type { GrepLine } from '../bindings/GrepLine';
import type { GrepResult } from '../bindings/GrepResult';
import type { LineChunk } from '../bindings/LineChunk';
import type { ListeningPort } from '../bindings/ListeningPort';
import type { OutputFrame } from '../bindings/OutputFrame';
import type { PortConflict } from '../bindings/PortConflict';
import type { Prefs } from '../bindings/Prefs';
import type { ProcessEvent } from '../bindings/ProcessEvent';
import type { ProcessRecord } from '../bindings/ProcessRecord';
import type { ReadRequest } from '../bindings/ReadRequest';
import type { ReadResult } from '../bindings/ReadResult';
import type { StartedBy } from '../bindings/StartedBy';
import type { Suggestion } from '../bindings/Suggestion';
import type { Usage } from '../bindings/Usage';
import type { WorkspaceInfo } from '../bindings/WorkspaceInfo';
import { utf8Length } from '../lib/utf8';
import { linesBefore as chunkBefore, dataFrame } from './outputBytes';

const enc = new TextEncoder();
const dec = new TextDecoder();

const E = '\x1b[';
const c = {
  reset: `${E}0m`,
  bold: `${E}1m`,
  dim: `${E}2m`,
  red: `${E}31m`,
  green: `${E}32m`,
  yellow: `${E}33m`,
  blue: `${E}34m`,
  magenta: `${E}35m`,
  cyan: `${E}36m`,
  gray: `${E}90m`,
  brRed: `${E}91m`,
  def: `${E}39m`,
};

class Output {
  buf = new Uint8Array(4096);
  len = 0;
  append(text: string): number {
    const bytes = enc.encode(text);
    if (this.len + bytes.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + bytes.length));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    const at = this.len;
    this.buf.set(bytes, at);
    this.len += bytes.length;
    return at;
  }
  text(from: number, to: number): string {
    return dec.decode(this.buf.subarray(from, to));
  }
}

interface Proc {
  rec: ProcessRecord;
  out: Output;
  timer: ReturnType<typeof setInterval> | null;
  tick: number;
  script: (p: Proc) => string | null;
  slowStop: boolean;
  /** Ports it listens on while running. */
  ports: number[];
  /** What port_conflict says once it has failed. */
  conflict: PortConflict | null;
  lastEmit: number;
}

interface Ws {
  info: WorkspaceInfo;
  procs: Map<string, Proc>;
  recent: string[];
  suggestions: Suggestion[];
}

const workspaces = new Map<string, Ws>();
let prefs: Prefs = { quitBehavior: 'ask', notifications: true, loginShellEnv: true, colorEnv: true, toldAboutTray: false, processSort: 'started' };
const subs = new Map<number, { proc: Proc; channel: Channel<OutputFrame>; offset: number }>();
let nextSub = 1;

function hex6(): string {
  return Math.floor(Math.random() * 0xffffff)
    .toString(16)
    .padStart(6, '0');
}

function makeId(at: Date): string {
  const iso = at.toISOString();
  return `proc_${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}_${hex6()}`;
}

function fail(kind: string, message: string): never {
  throw { kind, message } satisfies AppError;
}

function ts(): string {
  const d = new Date();
  return `${c.gray}${d.toTimeString().slice(0, 8)}${c.reset}`;
}

const scripts: Record<string, (p: Proc) => string | null> = {
  vite: (p) => {
    const files = ['src/App.tsx', 'src/routes/cart.tsx', 'src/components/Button.tsx', 'src/styles/theme.css', 'src/api/client.ts'];
    const f = files[p.tick % files.length];
    if (p.tick % 7 === 3) return `${ts()} ${c.yellow}${c.bold}[vite]${c.reset} ${c.yellow}warning:${c.def} ${f} imports a deprecated API (useLegacyCart)\n`;
    if (p.tick % 11 === 5) return `${ts()} ${c.cyan}${c.bold}[vite]${c.reset} page reload ${c.dim}${f}${c.reset}\n`;
    return `${ts()} ${c.cyan}${c.bold}[vite]${c.reset} ${c.green}hmr update${c.reset} ${c.dim}/${f}${c.reset}\n`;
  },
  vitest: (p) => {
    const n = p.tick % 6;
    if (n === 0) return `\n ${c.bold}${c.blue}RERUN${c.reset} ${c.gray}src/cart.test.ts${c.reset}\n\n`;
    if (n === 4) return ` ${c.red}×${c.reset} src/cart.test.ts ${c.gray}>${c.reset} applies the coupon ${c.gray}12ms${c.reset}\n   ${c.red}→ expected 90 to be 81${c.reset}\n`;
    return ` ${c.green}✓${c.reset} src/cart.test.ts ${c.gray}>${c.reset} case ${p.tick} ${c.gray}(${(p.tick * 7) % 40}ms)${c.reset}\n`;
  },
  cargo: (p) => {
    const crates = ['serde', 'tokio', 'hyper', 'regex', 'clap', 'tracing', 'notify', 'memchr'];
    const total = 312;
    const done = Math.min(total, p.tick * 3);
    const width = 30;
    const filled = Math.round((done / total) * width);
    const bar = '='.repeat(Math.max(0, filled - 1)) + '>' + ' '.repeat(width - filled);
    if (p.tick % 9 === 0) return `\r${c.green}${c.bold}   Compiling${c.reset} ${crates[p.tick % crates.length]} v1.${p.tick % 40}.0\n`;
    return `\r${c.cyan}${c.bold}    Building${c.reset} [${bar}] ${done}/${total}: ${crates[p.tick % crates.length]}`;
  },
  docker: (p) => {
    const svc = ['db-1', 'redis-1', 'api-1', 'worker-1'];
    const colors = [c.cyan, c.yellow, c.green, c.magenta];
    const k = p.tick % svc.length;
    return `${colors[k]}${svc[k].padEnd(9)}|${c.reset} ${new Date().toISOString()} INFO request_id=${hex6()} GET /v1/orders/${1000 + p.tick} 200 ${3 + (p.tick % 17)}ms\n`;
  },
  plain: (p) => `tick ${p.tick}\n`,
  ticker: (p) => `${c.green}ok${c.reset} line ${p.tick + 800} ${c.bold}${c.red}ERR${c.reset} ${c.dim}${new Date().toISOString()}${c.reset}\n`,
};

function emitProcess(p: Proc): void {
  p.rec.outputSizeBytes = p.out.len;
  const payload: ProcessEvent = { workspaceId: p.rec.workspaceId, event: { type: 'updated', record: { ...p.rec } } };
  void emit('procdeck://process', payload);
}

function emitWorkspaces(): void {
  void emit('procdeck://workspaces', listWorkspaces());
}

function write(p: Proc, text: string): void {
  const offset = p.out.append(text);
  p.rec.outputSizeBytes = p.out.len;
  for (const [, s] of subs) {
    if (s.proc === p) {
      s.channel.onmessage(dataFrame(p.out.buf.slice(offset, p.out.len), offset));
      s.offset = p.out.len;
    }
  }
  const now = Date.now();
  if (now - p.lastEmit >= 1000) {
    p.lastEmit = now;
    emitProcess(p);
  }
}

function run(p: Proc, everyMs: number): void {
  p.timer = setInterval(() => {
    p.tick++;
    const text = p.script(p);
    if (text) write(p, text);
  }, everyMs);
}

function finish(p: Proc, fields: Partial<ProcessRecord>): void {
  if (p.timer) clearInterval(p.timer);
  p.timer = null;
  Object.assign(p.rec, { status: 'stopped', stoppedAt: new Date().toISOString(), stoppingSince: null }, fields);
  for (const [id, s] of subs) {
    if (s.proc === p) {
      s.channel.onmessage({ type: 'end', record: { ...p.rec } });
      subs.delete(id);
    }
  }
  emitProcess(p);
  emitWorkspaces();
}

function baseRecord(ws: Ws, command: string, title: string | null, startedAt: Date): ProcessRecord {
  return {
    id: makeId(startedAt),
    workspaceId: ws.info.id,
    title: title ?? command,
    command,
    cwd: ws.info.path,
    status: 'running',
    pid: 10_000 + Math.floor(Math.random() * 50_000),
    startedAt: startedAt.toISOString(),
    stoppedAt: null,
    exitCode: null,
    signal: null,
    outputSizeBytes: 0,
    droppedBytes: 0,
    stopRequested: false,
    stoppingSince: null,
    env: {},
    stopGraceMs: 2000,
    outputCapBytes: 256 * 1024 * 1024,
    origin: 'own',
    startedBy: { kind: 'app' },
    service: `${ws.info.path}\u0000${title ?? command}`,
  };
}

function addProc(ws: Ws, command: string, title: string | null, minutesAgo: number, script: keyof typeof scripts, opts: { everyMs?: number; pre?: string; ended?: Partial<ProcessRecord>; slowStop?: boolean; ports?: number[]; conflict?: PortConflict; startedBy?: StartedBy } = {}): Proc {
  const started = new Date(Date.now() - minutesAgo * 60_000);
  const p: Proc = { rec: baseRecord(ws, command, title, started), out: new Output(), timer: null, tick: 0, script: scripts[script], slowStop: !!opts.slowStop, lastEmit: 0, ports: opts.ports ?? [], conflict: opts.conflict ?? null };
  if (opts.startedBy) p.rec.startedBy = opts.startedBy;
  if (opts.pre) p.out.append(opts.pre);
  p.rec.outputSizeBytes = p.out.len;
  if (opts.ended) {
    Object.assign(p.rec, { status: 'stopped', stoppedAt: new Date(started.getTime() + 45_000).toISOString() }, opts.ended);
  } else {
    run(p, opts.everyMs ?? 900);
  }
  ws.procs.set(p.rec.id, p);
  return p;
}

function addWs(path: string, missing = false): Ws {
  const name = path.split('/').filter(Boolean).pop() ?? path;
  const id = missing ? `missing:${path}` : `ws_${hex6()}`;
  const ws: Ws = { info: { id, path, name, missing, running: 0, total: 0, stack: false }, procs: new Map(), recent: [], suggestions: [] };
  workspaces.set(id, ws);
  return ws;
}

function listWorkspaces(): WorkspaceInfo[] {
  return [...workspaces.values()].map((ws) => {
    const procs = [...ws.procs.values()];
    return { ...ws.info, running: procs.filter((p) => p.rec.status === 'running').length, total: procs.length };
  });
}

function seed(): void {
  const shop = addWs('/home/dev/code/web-shop');
  const viteBanner =
    `\n> web-shop@0.4.2 dev\n> vite\n\n` +
    `  ${c.green}${c.bold}VITE${c.reset}${c.green} v5.4.10${c.reset}  ${c.dim}ready in ${c.reset}${c.bold}412${c.reset}${c.dim} ms${c.reset}\n\n` +
    `  ${c.green}➜${c.reset}  ${c.bold}Local${c.reset}:   ${c.cyan}http://localhost:${c.bold}5173${c.reset}${c.cyan}/${c.reset}\n` +
    `  ${c.green}➜${c.reset}  ${c.bold}Network${c.reset}: ${c.dim}use ${c.reset}${c.bold}--host${c.reset}${c.dim} to expose${c.reset}\n` +
    `${ts()} ${c.yellow}${c.bold}[vite]${c.reset} a component printed: <img src=x onerror=alert(1)> (shown as text, never HTML)\n` +
    `${ts()} ${c.cyan}${c.bold}[vite]${c.reset} i18n: café · naïve · 日本語のテキスト · emoji 🚀 ok\n` +
    `${E}38;5;208m256-colour orange${c.reset} ${E}38;2;120;90;255mtruecolour violet${c.reset} ${E}4munderlined${c.reset} ${E}1mbold${c.reset} ${E}2mdim${c.reset}\n`;
  // One service, three runs: a crash, a stop, and the run going now.
  addProc(shop, 'npm run dev', 'vite dev server', 240, 'vite', {
    pre: `${viteBanner}${c.red}error${c.reset} when starting dev server:\nError: Cannot find module '@vitejs/plugin-react'\n`,
    ended: { status: 'error', exitCode: 1 },
  });
  addProc(shop, 'npm run dev', 'vite dev server', 130, 'vite', { pre: viteBanner, ended: { status: 'stopped', signal: 15, stopRequested: true } });
  addProc(shop, 'npm run dev', 'vite dev server', 42, 'vite', { everyMs: 1400, pre: viteBanner, ports: [5173, 24678] });
  addProc(shop, 'npx vitest --watch', 'tests (watch)', 38, 'vitest', { everyMs: 2500, pre: ` ${c.bold}${c.blue}DEV${c.reset} v2.1.4 /home/dev/code/web-shop\n\n` });
  addProc(shop, 'cargo build --release --manifest-path native/Cargo.toml', 'native addon build', 3, 'cargo', { everyMs: 250 });
  addProc(shop, 'npx tsc --noEmit -p .', 'typecheck', 55, 'plain', {
    pre:
      `${c.cyan}src/routes/cart.tsx${c.reset}:${c.yellow}42${c.reset}:${c.yellow}7${c.reset} - ${c.red}error${c.reset}${c.gray} TS2322: ${c.reset}Type 'string' is not assignable to type 'number'.\n\n` +
      `${c.cyan}src/api/client.ts${c.reset}:${c.yellow}13${c.reset}:${c.yellow}3${c.reset} - ${c.red}error${c.reset}${c.gray} TS2554: ${c.reset}Expected 2 arguments, but got 1.\n\n` +
      `Found 2 errors in 2 files.\n`,
    ended: { status: 'error', exitCode: 2 },
  });
  addProc(shop, 'python3 -m http.server 8000', 'static preview', 120, 'plain', {
    pre: 'Serving HTTP on 0.0.0.0 port 8000 (http://0.0.0.0:8000/) ...\n127.0.0.1 - - "GET / HTTP/1.1" 200 -\n',
    ended: { status: 'stopped', signal: 15, stopRequested: true },
    ports: [8000],
  });
  addProc(shop, 'node server.js', 'api mock server', 30, 'plain', {
    pre:
      `Starting api mock on :3000…\n` +
      `node:events:497\n      throw er; // Unhandled 'error' event\n      ^\n\n` +
      `Error: listen EADDRINUSE: address already in use :::3000\n    at Server.setupListenHandle [as _listen2] (node:net:1817:16)\n`,
    ended: { status: 'error', exitCode: 1 },
    conflict: {
      port: 3000,
      portSource: 'output',
      holder: { port: 3000, address: '::', uid: 1000, pid: 48213, command: 'node /home/dev/code/legacy-api/server.js --port 3000' },
      process: null,
      message: 'Port 3000 is held by pid 48213 (node /home/dev/code/legacy-api/server.js --port 3000), outside Procdeck',
    },
  });
  // The scenario of a real bug: a process already printing coloured lines five times a second,
  // with a long backlog, selected as the app opens (it is the newest).
  let backlog = '';
  for (let i = 1; i <= 800; i++) backlog += `${c.green}ok${c.reset} line ${i} ${c.bold}${c.red}ERR${c.reset}\n`;
  addProc(shop, 'node scripts/ticker.js', 'ticker', 1, 'ticker', { everyMs: 200, pre: backlog });
  addProc(shop, './scripts/seed-db.sh --fixtures=large', 'seed database', 200, 'plain', { pre: 'seeding 10000 rows…\n', ended: { status: 'lost', stoppedAt: null } });
  // Started by a coding agent through `procdeck mcp`.
  addProc(shop, 'npm run storybook -- --port 6006 --no-open', 'storybook', 6, 'plain', {
    everyMs: 5000,
    pre: `${c.bold}storybook v8.4.7${c.reset}\n\n${c.green}info${c.reset} => Serving static files from ./public at /\n${c.green}info${c.reset} => Starting manager..\n\n  Storybook 8.4.7 for ${c.bold}react-vite${c.reset} started\n  Local: ${c.cyan}http://localhost:6006/${c.reset}\n\n`,
    ports: [6006],
    startedBy: { kind: 'agent', client: 'claude-code' },
  });
  // A record that came with the repository's `.procdeck`, not started by this user.
  addProc(shop, 'make deploy', 'deploy (shipped)', 300, 'plain', { ended: { status: 'stopped', exitCode: 0, origin: 'foreign', env: { BASH_ENV: './scripts/env.sh', PATH: './bin:/usr/bin' } } });
  shop.suggestions = [
    { source: 'package.json', name: 'dev', command: 'npm run dev' },
    { source: 'package.json', name: 'build', command: 'npm run build' },
    { source: 'package.json', name: 'test', command: 'npm run test' },
    { source: 'package.json', name: 'lint', command: 'npm run lint' },
    { source: 'package.json', name: 'preview', command: 'npm run preview' },
    { source: 'package.json', name: 'storybook', command: 'npm run storybook' },
    { source: 'Procfile', name: 'web', command: 'node server.js' },
    { source: 'Procfile', name: 'worker', command: 'node worker.js --queue default' },
    { source: 'Makefile', name: 'db-up', command: 'make db-up' },
    { source: 'Makefile', name: 'seed', command: 'make seed' },
  ];
  shop.recent = ['npm run dev', 'npx vitest --watch', 'npm run build', 'npx tsc --noEmit -p .', 'python3 -m http.server 8000'];

  const api = addWs('/home/dev/code/api-gateway');
  let pre = '';
  for (let i = 0; i < 3000; i++) {
    const k = i % 4;
    pre += `${[c.cyan, c.yellow, c.green, c.magenta][k]}${['db-1', 'redis-1', 'api-1', 'worker-1'][k].padEnd(9)}|${c.reset} line ${i + 1}: ${i % 50 === 0 ? `${c.red}ERROR${c.reset} connection reset by peer` : 'INFO ok'}\n`;
  }
  const compose = addProc(api, 'docker compose up', 'compose stack', 95, 'docker', { everyMs: 600, pre, slowStop: true, ports: [5432, 6379, 8080] });
  addProc(api, 'go run ./cmd/server', 'server', 15, 'plain', {
    pre: `${c.green}INFO${c.reset} starting\n${c.red}FATAL${c.reset} listen tcp :8080: bind: address already in use\nexit status 1\n`,
    ended: { status: 'error', exitCode: 1 },
    conflict: {
      port: 8080,
      portSource: 'output',
      holder: { port: 8080, address: '0.0.0.0', uid: 1000, pid: 7301, command: 'docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.18.0.4 -container-port 8080' },
      process: { folder: api.info.path, id: compose.rec.id, title: compose.rec.title, sameWorkspace: true },
      message: `Port 8080 is held by ${compose.rec.title} (pid 7301) in this workspace`,
    },
  });
  addProc(api, 'python3 metrics.py', 'metrics exporter', 12, 'plain', {
    pre: `OSError: [Errno 98] Address already in use\n`,
    ended: { status: 'error', exitCode: 1 },
    conflict: { port: null, portSource: null, holder: null, process: null, message: 'The address is already in use, and neither the output nor the command names the port' },
  });
  api.suggestions = [
    { source: 'Makefile', name: 'run', command: 'make run' },
    { source: 'Makefile', name: 'test', command: 'make test' },
    { source: 'Procfile', name: 'api', command: 'go run ./cmd/server' },
    { source: 'Cargo.toml', name: 'gateway-cli', command: 'cargo run --bin gateway-cli' },
  ];
  api.recent = ['docker compose up', 'go run ./cmd/server', 'go test ./...'];

  addWs('/home/dev/code/old-prototype', true);
}

function ws(workspaceId: unknown): Ws {
  const w = workspaces.get(String(workspaceId));
  if (!w) fail('workspace', `unknown workspace ${String(workspaceId)}`);
  if (w.info.missing) fail('missingFolder', `workspace folder ${w.info.path} does not exist`);
  return w;
}

function proc(w: Ws, id: unknown): Proc {
  const p = w.procs.get(String(id));
  if (!p) fail('notFound', `no process with id ${String(id)} in this workspace`);
  return p;
}

function linesBefore(p: Proc, endOffset: number | null, lines: number): LineChunk {
  return chunkBefore(p.out.buf.subarray(0, p.out.len), endOffset, lines);
}

function read(p: Proc, req: ReadRequest): ReadResult {
  const all = p.out.text(0, p.out.len);
  const lines = all.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const n = req.lines ?? 10;
  let picked: string[];
  if (req.method === 'head') picked = lines.slice(0, n);
  else if (req.method === 'tail') picked = lines.slice(Math.max(0, lines.length - n));
  else picked = lines;
  const content = picked.join('\n') + (picked.length ? '\n' : '');
  return { id: p.rec.id, content, truncated: picked.length < lines.length, sizeBytes: p.out.len, droppedBytes: 0, startOffset: 0, endOffset: p.out.len };
}

function grep(p: Proc, pattern: string, limit: number | null): GrepResult {
  if (!pattern) fail('missingPattern', 'grep needs a pattern');
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'gu');
  } catch (e) {
    fail('invalidPattern', `invalid regex ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  const all = p.out.text(0, p.out.len);
  const lines = all.split('\n');
  const out: GrepLine[] = [];
  let matching = 0;
  let offset = 0;
  lines.forEach((text, k) => {
    const matches: Array<[number, number]> = [];
    for (const m of text.matchAll(re)) {
      if (m[0] === '') continue;
      const s = utf8Length(text.slice(0, m.index));
      matches.push([s, s + utf8Length(m[0])]);
    }
    if (matches.length > 0) {
      matching++;
      if (limit === null || out.length < limit) out.push({ lineNumber: k + 1, offset, text, matches });
    }
    offset += utf8Length(text) + 1;
  });
  return { id: p.rec.id, lines: out, matchingLines: matching, truncated: out.length < matching, sizeBytes: p.out.len, droppedBytes: 0 };
}

function start(w: Ws, command: string, title: string | null, env: Record<string, string>, startedBy: StartedBy | null = { kind: 'app' }): ProcessRecord {
  if (!command.trim()) fail('emptyCommand', 'the command is empty');
  const kind = /vite|npm run dev/.test(command) ? 'vite' : /docker/.test(command) ? 'docker' : /cargo/.test(command) ? 'cargo' : /test/.test(command) ? 'vitest' : 'plain';
  const p = addProc(w, command, title && title.trim() ? title.trim() : null, 0, kind, { everyMs: kind === 'cargo' ? 250 : 800, pre: `${c.gray}$ ${command}${c.reset}\n` });
  p.rec.env = env;
  p.rec.startedBy = startedBy;
  const port = /(?:npm run dev|vite)/.test(command) ? 5173 : /server\.js/.test(command) ? 3000 : Number(/(?:port|:|\s)(\d{4,5})\b/.exec(command)?.[1] ?? 0);
  if (port > 0) p.ports = [port];
  w.recent = [command, ...w.recent.filter((x) => x !== command)];
  emitProcess(p);
  emitWorkspaces();
  return { ...p.rec };
}

function stop(p: Proc, kill = false): Promise<ProcessRecord> {
  if (p.rec.status !== 'running') return Promise.resolve({ ...p.rec });
  if (kill) {
    finish(p, { signal: 9, stopRequested: true });
    return Promise.resolve({ ...p.rec });
  }
  p.rec.stoppingSince = new Date().toISOString();
  p.rec.stopRequested = true;
  emitProcess(p);
  const wait = p.slowStop ? p.rec.stopGraceMs : 300;
  return new Promise((resolve) => {
    const check = setInterval(() => {
      if (p.rec.status !== 'running') {
        clearInterval(check);
        resolve({ ...p.rec });
      }
    }, 100);
    setTimeout(() => {
      if (p.rec.status === 'running') finish(p, { signal: p.slowStop ? 9 : 15 });
    }, wait);
  });
}

async function handle(cmd: string, a: Record<string, unknown>): Promise<unknown> {
  await new Promise((r) => setTimeout(r, 60 + Math.random() * 120));
  switch (cmd) {
    case 'list_workspaces':
      return listWorkspaces();
    case 'take_requested_workspace':
      return null;
    case 'add_workspace': {
      const path = String(a.path);
      const existing = [...workspaces.values()].find((w) => w.info.path === path);
      const w = existing ?? addWs(path);
      emitWorkspaces();
      return listWorkspaces().find((x) => x.id === w.info.id);
    }
    case 'pick_workspace': {
      const w = addWs(`/home/dev/code/new-project-${workspaces.size}`);
      emitWorkspaces();
      return listWorkspaces().find((x) => x.id === w.info.id);
    }
    case 'remove_workspace': {
      const w = workspaces.get(String(a.workspaceId));
      if (!w) fail('workspace', 'unknown workspace');
      for (const p of w.procs.values()) if (p.rec.status === 'running') finish(p, { signal: 15, stopRequested: true });
      workspaces.delete(w.info.id);
      emitWorkspaces();
      return null;
    }
    case 'list_processes':
      return [...ws(a.workspaceId).procs.values()].map((p) => ({ ...p.rec, outputSizeBytes: p.out.len }));
    case 'start_process':
      return start(ws(a.workspaceId), String(a.command ?? ''), (a.title as string | null) ?? null, (a.env as Record<string, string>) ?? {});
    case 'stop_process':
      return stop(proc(ws(a.workspaceId), a.id));
    case 'kill_process':
      return stop(proc(ws(a.workspaceId), a.id), true);
    case 'restart_process': {
      const w = ws(a.workspaceId);
      const p = proc(w, a.id);
      // As the engine: a record the user did not start runs only with consent to what it runs.
      const consent = a.consent as { command: string; env: Record<string, string> } | null;
      if (p.rec.origin === 'foreign' && !(consent?.command === p.rec.command && JSON.stringify(consent.env) === JSON.stringify(p.rec.env))) fail('foreignRecord', `process ${p.rec.id} was not started by you in this folder`);
      await stop(p);
      // As the engine: the new run keeps the whole spec, who started it included.
      return start(w, p.rec.command, p.rec.title === p.rec.command ? null : p.rec.title, p.rec.env, p.rec.startedBy);
    }
    case 'take_port': {
      const w = ws(a.workspaceId);
      const p = proc(w, a.id);
      const holder = p.rec.status === 'error' ? p.conflict?.process : null;
      if (!holder) fail('noPortHolder', `${p.rec.id} cannot take its port: only a process Procdeck started can be stopped for it`);
      const owner = [...workspaces.values()].find((x) => x.info.path === holder.folder)?.procs.get(holder.id);
      if (owner && owner.rec.status === 'running') await stop(owner);
      return start(w, p.rec.command, p.rec.title === p.rec.command ? null : p.rec.title, p.rec.env);
    }
    case 'remove_process': {
      const w = ws(a.workspaceId);
      const p = proc(w, a.id);
      if (p.rec.status === 'running') await stop(p);
      w.procs.delete(p.rec.id);
      void emit('procdeck://process', { workspaceId: w.info.id, event: { type: 'removed', id: p.rec.id, workspaceId: w.info.id } } satisfies ProcessEvent);
      emitWorkspaces();
      return null;
    }
    case 'read_output':
      return read(proc(ws(a.workspaceId), a.id), a.request as ReadRequest);
    case 'grep_output':
      return grep(proc(ws(a.workspaceId), a.id), String(a.pattern ?? ''), (a.limit as number | null) ?? null);
    case 'lines_before':
      return linesBefore(proc(ws(a.workspaceId), a.id), (a.endOffset as number | null) ?? null, Number(a.lines));
    case 'follow_output': {
      const p = proc(ws(a.workspaceId), a.id);
      const channel = a.onFrame as Channel<OutputFrame>;
      const from = (a.fromOffset as number | null) ?? p.out.len;
      const id = nextSub++;
      subs.set(id, { proc: p, channel, offset: p.out.len });
      // The backlog since `fromOffset` first, then live frames from write().
      if (from < p.out.len) channel.onmessage(dataFrame(p.out.buf.slice(from, p.out.len), from));
      if (p.rec.status !== 'running') {
        channel.onmessage({ type: 'end', record: { ...p.rec } });
        subs.delete(id);
      }
      return id;
    }
    case 'unfollow_output':
      subs.delete(Number(a.subscription));
      return null;
    case 'ack_output':
      return null;
    case 'recent_commands':
      return ws(a.workspaceId).recent;
    case 'open_output_file':
    case 'reveal_output_file':
      proc(ws(a.workspaceId), a.id);
      return null;
    case 'suggestions':
      return ws(a.workspaceId).suggestions;
    case 'listening_ports': {
      const p = proc(ws(a.workspaceId), a.id);
      if (p.rec.status !== 'running') return [];
      return p.ports.flatMap((port): ListeningPort[] => [
        { port, address: '0.0.0.0', pid: p.rec.pid ?? 0 },
        { port, address: '::', pid: p.rec.pid ?? 0 },
      ]);
    }
    case 'process_usage': {
      // Figures that differ per process and move a little between samples.
      const w = ws(a.workspaceId);
      const out: Record<string, Usage> = {};
      for (const id of a.ids as string[]) {
        const p = w.procs.get(id);
        if (p?.rec.status !== 'running') continue;
        const seed = [...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 997, 7);
        out[id] = { cpuPercent: (seed % 60) / 2 + Math.random() * 3, rssBytes: (24 + (seed % 400)) * 1024 * 1024 };
      }
      return out;
    }
    case 'port_conflict': {
      const p = proc(ws(a.workspaceId), a.id);
      return p.rec.status === 'error' ? p.conflict : null;
    }
    case 'open_port': {
      const port = Number(a.port);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) fail('workspace', `port ${String(a.port)} cannot be opened`);
      stats.opened.push(port);
      return null;
    }
    case 'get_prefs':
      return { ...prefs };
    case 'set_prefs':
      prefs = { ...(a.value as Prefs) };
      return { ...prefs };
    case 'stack_show':
      ws(a.workspaceId);
      return null;
    case 'stack_up':
    case 'stack_down':
    case 'stack_save':
      ws(a.workspaceId);
      return fail('stack', 'the mock backend has no stack files');
    default:
      fail('workspace', `mock backend: unknown command ${cmd}`);
  }
}

/** Calls per command, for checking in a browser that the UI only asks when it needs to. */
interface MockStats {
  calls: Record<string, number>;
  inFlight: Record<string, number>;
  maxInFlight: Record<string, number>;
  /** Ports open_port was asked to open. */
  opened: number[];
}
const stats: MockStats = { calls: {}, inFlight: {}, maxInFlight: {}, opened: [] };

/** Installs the fake backend (idempotent); its call counts are on `globalThis.__procdeckMock`. */
export function installMockBackend(): void {
  if (workspaces.size > 0) return;
  mockIPC(
    async (cmd, payload) => {
      stats.calls[cmd] = (stats.calls[cmd] ?? 0) + 1;
      stats.inFlight[cmd] = (stats.inFlight[cmd] ?? 0) + 1;
      stats.maxInFlight[cmd] = Math.max(stats.maxInFlight[cmd] ?? 0, stats.inFlight[cmd]);
      try {
        return await handle(cmd, (payload ?? {}) as Record<string, unknown>);
      } finally {
        stats.inFlight[cmd]--;
      }
    },
    { shouldMockEvents: true },
  );
  (globalThis as unknown as { __procdeckMock: MockStats }).__procdeckMock = stats;
  seed();
  // eslint-disable-next-line no-console
  console.info('[procdeck] mock backend installed');
}

/** Ends every fake process's output timer and removes the mock, so that nothing it scheduled
 * runs after a test file has finished. */
export function uninstallMockBackend(): void {
  for (const ws of workspaces.values()) {
    for (const p of ws.procs.values()) {
      if (p.timer) clearInterval(p.timer);
      p.timer = null;
    }
  }
  workspaces.clear();
  subs.clear();
  clearMocks();
}
