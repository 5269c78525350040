// Shared by the suites: the procdeck binary, throwaway workspaces that are always cleaned up,
// and clients of `procdeck mcp` made with the official TypeScript SDK.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The debug `procdeck` cargo built: $PROCDECK_BIN, else the target folder cargo reports. */
function findBinary() {
  if (process.env.PROCDECK_BIN) return process.env.PROCDECK_BIN;
  const meta = JSON.parse(
    execFileSync('cargo', ['metadata', '--format-version', '1', '--no-deps'], {
      cwd: root,
      encoding: 'utf8',
    }),
  );
  return path.join(meta.target_directory, 'debug', 'procdeck');
}

export const BIN = findBinary();
if (!existsSync(BIN)) {
  throw new Error(`${BIN} is missing: build it with \`cargo build -p procdeck-cli\``);
}

const scratch = mkdtempSync(path.join(tmpdir(), 'procdeck-mcp-'));
/** The record key of the tests' user, apart from the real user's. */
export const XDG = path.join(scratch, 'xdg');
const workspaces = [];

/** The environment every procdeck the tests run gets. */
export function env(extra = {}) {
  return { ...process.env, XDG_DATA_HOME: XDG, ...extra };
}

/** A new, empty workspace folder, cleaned up by `cleanup`. */
export function workspace(name = 'ws') {
  const dir = mkdtempSync(path.join(scratch, `${name}-`));
  workspaces.push(dir);
  return dir;
}

/** Runs the CLI; returns its stdout (throws on failure). */
export function cli(dir, args, extraEnv = {}) {
  return execFileSync(BIN, ['-w', dir, ...args], { env: env(extraEnv), encoding: 'utf8' });
}

export function records(dir) {
  return JSON.parse(cli(dir, ['--json', 'list', '--all']));
}

/**
 * Stops every process the tests started, through the CLI (whole trees), then kills whatever is
 * left in the shims' sessions, and deletes the scratch folder. Safe to call more than once.
 */
/**
 * Whether `shim`'s pid now belongs to another program. While anything is left in the shim's
 * session the kernel keeps its pid from being reused, so a living process with that pid that is
 * not a shim leads a session of its own, which is not ours to end.
 */
function reusedByOther(shim) {
  try {
    return !readFileSync(`/proc/${shim}/cmdline`, 'utf8').includes('__procdeck-shim');
  } catch {
    return false;
  }
}

export function cleanup() {
  for (const dir of workspaces) {
    if (existsSync(path.join(dir, '.procdeck'))) {
      spawnSync(BIN, ['-w', dir, 'close'], { env: env(), stdio: 'ignore' });
    }
    const procs = path.join(dir, '.procdeck', 'processes');
    if (!existsSync(procs)) continue;
    for (const id of readdirSync(procs)) {
      let shim;
      try {
        shim = JSON.parse(readFileSync(path.join(procs, id, 'shim.json'), 'utf8')).shimPid;
      } catch {
        continue;
      }
      if (Number.isInteger(shim) && shim > 1 && !reusedByOther(shim)) {
        spawnSync('pkill', ['-KILL', '-s', String(shim)], { stdio: 'ignore' });
      }
    }
  }
  rmSync(scratch, { recursive: true, force: true });
}

/**
 * A connected SDK client of `procdeck mcp`. `args` go after `mcp`; without `dir`, no `-w`.
 * `roots` (file paths) makes the client offer roots.
 */
export async function connect({ dir, args = [], name = 'procdeck-tests', roots, cwd } = {}) {
  const transport = new StdioClientTransport({
    command: BIN,
    args: [...(dir ? ['-w', dir] : []), 'mcp', ...args],
    env: env({ PROCDECK_LOG: 'procdeck=debug' }),
    cwd,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d) => {
    stderr += d;
  });
  const client = new Client(
    { name, version: '1.0.0' },
    { capabilities: roots ? { roots: { listChanged: false } } : {} },
  );
  if (roots) {
    const { ListRootsRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
    client.setRequestHandler(ListRootsRequestSchema, async () => ({
      roots: roots.map((r) => ({ uri: `file://${r}`, name: path.basename(r) })),
    }));
  }
  await client.connect(transport);
  return { client, transport, stderr: () => stderr };
}

/** Calls a tool; asserts it succeeded and returns its structured content. */
export async function ok(client, name, args = {}, options) {
  const result = await client.callTool({ name, arguments: args }, undefined, options);
  assert.notEqual(result.isError, true, `${name} failed: ${JSON.stringify(result.content)}`);
  assert.ok(result.content[0].text.length > 0, `${name} has a text`);
  assert.ok(result.structuredContent, `${name} has structured content`);
  assert.ok(Array.isArray(result.structuredContent.events), `${name} has events`);
  return result.structuredContent;
}

/** Calls a tool that must fail; returns its one sentence. */
export async function fails(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name} should fail: ${JSON.stringify(result)}`);
  const text = result.content[0].text;
  assert.ok(text.length > 0 && !text.includes('\n'), `one sentence: ${text}`);
  return text;
}

// Ports: the same helpers as the end-to-end tests.
export { accepts, freePort } from '../e2e/helpers.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value, for up to `ms`. */
export async function until(check, ms = 20000, what = 'a condition') {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The bytes of a process's output.log. */
export function outputLog(dir, id) {
  return readFileSync(path.join(dir, '.procdeck', 'processes', id, 'output.log'));
}
