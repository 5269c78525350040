// A coding agent and the person at the app, on one workspace: a process started through
// `procdeck mcp` by a client named "claude-code" shows in the app's list with its agent badge,
// the person stops it from the app, and the agent's next call sees it stopped (and /proc shows
// it gone).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as h from './helpers.mjs';
import { Session } from './webdriver.mjs';

const { processesWith, shot } = h;
const row = (id) => h.row(s, id);

// The official SDK, from the MCP suite's own packages (scripts/deps.sh installs them).
const sdk = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '../mcp/package.json'));
const load = (name) => import(pathToFileURL(sdk.resolve(name)).href);
const { Client } = await load('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = await load('@modelcontextprotocol/sdk/client/stdio.js');

const { PROCDECK_E2E_DRIVER: driver, PROCDECK_E2E_APP: app, PROCDECK_E2E_CLI: cliBin } = process.env;
const work = process.env.PROCDECK_E2E_WORK;
const wsDir = path.join(work, 'ws-agent');
// A sleep of a length nothing else on the machine uses, to find it in /proc.
const marker = String(93_000_000 + (process.pid % 100_000));

let s;
let client;
let started;

/**
 * The rendered text of the element `testid` in process `id`'s row. Read in the page:
 * WebKitWebDriver's element text comes back empty for the text inside a row.
 */
async function rowText(id, testid) {
  const text = await s.execute(
    'const el = document.querySelector(`[data-testid="process-row"][data-process-id="${arguments[0]}"] [data-testid="${arguments[1]}"]`); return el ? el.innerText : null;',
    [id, testid],
  );
  return text?.trim();
}

/** Calls a tool; asserts it succeeded and returns its structured content. */
async function call(name, args) {
  const result = await client.callTool({ name, arguments: args });
  assert.notEqual(result.isError, true, `${name} failed: ${JSON.stringify(result.content)}`);
  assert.ok(result.structuredContent, `${name} has structured content`);
  return result.structuredContent;
}

before(async () => {
  fs.mkdirSync(wsDir, { recursive: true });
  s = await Session.create(driver, { 'tauri:options': { application: app, args: [wsDir] } });
  // The whole environment, so that the server records processes under the same user's key as
  // the app's (else the app would show them as not the user's).
  const transport = new StdioClientTransport({
    command: cliBin,
    args: ['-w', wsDir, 'mcp'],
    env: { ...process.env },
    stderr: 'ignore',
  });
  client = new Client({ name: 'claude-code', version: '2.0.0' });
  await client.connect(transport);
});

after(async () => {
  try {
    await client?.close();
  } finally {
    if (s) {
      try {
        await shot('mcp-99-last');
      } catch {
        // Nothing to show if the window is gone.
      }
      await s.delete();
    }
    // Whatever the tests left running in the workspace, whole trees.
    if (fs.existsSync(path.join(wsDir, '.procdeck'))) {
      execFileSync(cliBin, ['-w', wsDir, 'close'], { stdio: 'ignore', timeout: 30000 });
    }
  }
});

test('a process an agent starts through procdeck mcp appears in the app with its badge', async () => {
  // The app opens on the workspace last shown (an earlier file's), with this one added: show it.
  const ws = await s.waitFor('ws-agent in the sidebar', async () => {
    for (const w of await s.findAll('[data-testid="workspace"]')) {
      if ((await w.attribute('data-name')) === 'ws-agent') return w;
    }
    return undefined;
  });
  await ws.click();
  await s.waitFor('ws-agent shown', async () => (await ws.attribute('aria-current')) === 'true');
  started = await call('process_start', { command: `sleep ${marker}` });
  assert.equal(started.status, 'running');
  assert.equal(started.reused, false);
  // The pid is known from the fork: the sleep's command line shows once it has executed.
  await s.waitFor('the sleep running as the pid given', () => {
    const found = processesWith(`sleep ${marker}`);
    return found.length === 1 && found[0] === started.pid;
  }, 5000);

  const r = await s.waitFor('the agent\'s process listed as running', async () => {
    const found = await row(started.id);
    return found && (await found.attribute('data-status')) === 'running' ? found : undefined;
  });
  const badges = await r.findAll('[data-testid="agent-badge"]');
  assert.equal(badges.length, 1, 'the row has one agent badge');
  assert.equal(await rowText(started.id, 'agent-badge'), 'Claude Code');
  assert.match(await badges[0].attribute('title'), /coding agent claude-code through procdeck mcp/);
  assert.equal((await r.findAll('[data-testid="foreign-badge"]')).length, 0, 'the agent\'s process is the user\'s own');
  assert.equal(await rowText(started.id, 'process-title'), `sleep ${marker}`);
  await r.click();
  await shot('mcp-01-agent-process');
});

test('stopped from the app, the agent\'s next list shows it stopped, and it is gone', async () => {
  assert.ok(started, 'the agent started a process');
  const r = await row(started.id);
  await (await r.find('[data-testid="stop-button"]')).click();
  await s.waitFor('the row stopped', async () => (await (await row(started.id))?.attribute('data-status')) === 'stopped', 20000);

  const listed = await call('process_list', {});
  const record = listed.processes.find((p) => p.id === started.id);
  assert.ok(record, `the agent lists ${started.id}`);
  assert.equal(record.status, 'stopped');
  assert.deepEqual(record.started_by, { kind: 'agent', client: 'claude-code' });
  const event = listed.events.find((e) => e.id === started.id);
  assert.ok(event, `the agent hears that it ended: ${JSON.stringify(listed.events)}`);
  assert.equal(event.status, 'stopped');
  assert.deepEqual(processesWith(`sleep ${marker}`), [], 'the sleep is gone from /proc');
  await shot('mcp-02-stopped-from-the-app');
});
