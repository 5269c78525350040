// What the end-to-end test files share: screenshots, /proc, ports, polling, and the process
// rows of the app's list.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A screenshot of the whole X display: WebKitWebDriver's own screenshot can stall. */
export async function shot(name) {
  const artifacts = process.env.PROCDECK_E2E_ARTIFACTS;
  execFileSync('import', ['-window', 'root', path.join(artifacts, `${name}.png`)], { timeout: 20_000 });
}

/** Living processes (not zombies) whose command line contains `needle`. */
export function processesWith(needle) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (cmd.includes(needle) && state !== 'Z') found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** A TCP port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts connections on `port` of 127.0.0.1. */
export function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * Polls `fn` until it returns a truthy value (or stops throwing), up to `timeout` ms, and returns
 * that value; `fail` makes the error when time runs out.
 */
export async function until(what, fn, timeout, every = 150, fail = (message) => new Error(message)) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, every));
  }
  throw fail(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** Process `id`'s row in the app's list, or undefined. */
export async function row(session, id) {
  for (const r of await session.findAll('[data-testid="process-row"]')) {
    if ((await r.attribute('data-process-id')) === id) return r;
  }
  return undefined;
}

/** The status process `id`'s row shows, or undefined when it has no row. */
export async function rowStatus(session, id) {
  const r = await row(session, id);
  return r ? r.attribute('data-status') : undefined;
}
