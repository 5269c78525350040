// The real app, end to end: a workspace given on the command line, a coloured process started
// from the UI and followed live, grep, a process started by the CLI appearing by itself, a stop
// from the UI that ends the whole tree (checked in /proc), a removal that deletes the folder, a
// command run twice shown as one row whose earlier run is stopped from the output pane, and a port
// conflict named and resolved with one click.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.mjs';
import { Key, Session } from './webdriver.mjs';

const { accepts, freePort, processesWith, shot } = h;
const row = (id) => h.row(s, id);
const rowStatus = (id) => h.rowStatus(s, id);

const { PROCDECK_E2E_DRIVER: driver, PROCDECK_E2E_APP: app, PROCDECK_E2E_CLI: cliBin } = process.env;
const work = process.env.PROCDECK_E2E_WORK;
const wsDir = path.join(work, 'ws-shop');
const marker = String(86_000 + (process.pid % 300) * 3);

let s;
let colourId;

function cli(...args) {
  return JSON.parse(execFileSync(cliBin, ['-w', wsDir, '--json', ...args], { encoding: 'utf8' }));
}

before(async () => {
  fs.mkdirSync(wsDir, { recursive: true });
  s = await Session.create(driver, { 'tauri:options': { application: app, args: [wsDir] } });
});

after(async () => {
  if (s) {
    try {
      await shot('99-last');
    } catch {
      // Nothing to show if the window is gone.
    }
    await s.delete();
  }
});

test('opens the workspace given on the command line, with its empty state', async () => {
  const ws = await s.waitForElement('[data-testid="workspace"]');
  assert.equal(await ws.attribute('data-name'), 'ws-shop');
  await s.waitForElement('[data-testid="empty-processes"]');
  await shot('01-empty-workspace');
});

test('starts a command from the UI and shows its coloured lines live', async () => {
  const input = await s.waitForElement('[data-testid="command-input"]');
  await input.click();
  await input.type(
    `(setsid sleep ${marker}1 &); sleep ${marker}2 & for i in $(seq 1 40); do printf '\\033[32mready\\033[0m line %d \\033[1;31mwarn\\033[0m\\n' $i; sleep 0.05; done; wait`,
  );
  await input.type(Key.Enter);
  const running = await s.waitFor('a running row', async () => {
    for (const r of await s.findAll('[data-testid="process-row"]')) {
      if ((await r.attribute('data-status')) === 'running') return r;
    }
    return undefined;
  });
  colourId = await running.attribute('data-process-id');
  assert.match(colourId, /^proc_\d{4}-\d{2}-\d{2}T\d{4}_[0-9a-f]{6}$/);
  await running.click();
  const tab = await s.waitForElement('[data-testid="tab-live"]');
  await tab.click();
  // The list is virtual: while it follows, only the lines on screen (and a few above) are in the
  // page, so the last of them is line 40 once everything has arrived.
  await s.waitFor('line 40, live', async () => {
    const lines = await s.findAll('[data-testid="log-line"]');
    return lines.length > 0 && (await lines[lines.length - 1].text()).includes('line 40');
  });
  const styled = await s.execute(`
    const line = [...document.querySelectorAll('[data-testid="log-line"]')].find(l => l.textContent.includes('line 40 '));
    if (!line) return null;
    return [...line.querySelectorAll('span')].map(sp => ({ text: sp.textContent, color: getComputedStyle(sp).color, cls: sp.className }));
  `);
  assert.ok(styled, 'line 40 is rendered');
  const ready = styled.find((sp) => sp.text === 'ready');
  const warn = styled.find((sp) => sp.text === 'warn');
  assert.ok(ready && warn, `coloured spans: ${JSON.stringify(styled)}`);
  assert.notEqual(ready.color, warn.color, 'green and red render differently');
  const raw = await s.execute(`return document.querySelector('[data-testid="live-view"]').textContent`);
  assert.ok(!raw.includes('\u001b['), 'no raw escape codes are shown');
  await shot('02-live-output');
});

test('greps the output, with the matches counted and an invalid pattern shown inline', async () => {
  await (await s.find('[data-testid="tab-grep"]')).click();
  const input = await s.waitForElement('[data-testid="grep-input"]');
  await input.click();
  await input.type('line 1[0-9]\\b');
  await s.waitFor('10 matching lines', async () => (await s.findAll('[data-testid="grep-line"]')).length === 10);
  const count = await (await s.find('[data-testid="grep-count"]')).text();
  assert.match(count, /\b10\b/);
  await shot('03-grep');
  await input.clear();
  await input.type('line (');
  const error = await s.waitForElement('[data-testid="grep-error"]');
  assert.match(await error.text(), /unclosed group|regex/i);
  await shot('04-grep-invalid');
  await input.clear();
});

test('a process started by the CLI appears in the list by itself', async () => {
  const record = cli('start', '--title', 'from the cli', '--', `sleep ${marker}5`);
  await s.waitFor('the CLI process listed', async () => (await rowStatus(record.id)) === 'running');
  await shot('05-cli-process');
  cli('stop', record.id);
  await s.waitFor('the CLI stop shown', async () => (await rowStatus(record.id)) === 'stopped');
});

test('stopping from the UI ends the whole tree', async () => {
  const before = processesWith(`sleep ${marker}`);
  assert.ok(before.length >= 2, `the tree's sleeps are running: ${before}`);
  const r = await row(colourId);
  await (await r.find('[data-testid="stop-button"]')).click();
  await s.waitFor('the process stopped', async () => (await rowStatus(colourId)) === 'stopped', 20000);
  assert.deepEqual(processesWith(`sleep ${marker}1`), [], 'the setsid child is gone');
  assert.deepEqual(processesWith(`sleep ${marker}2`), [], 'the background child is gone');
  const record = cli('list').find((p) => p.id === colourId);
  assert.equal(record.status, 'stopped');
  assert.equal(record.stopRequested, true);
  await shot('06-stopped');
});

test('removing a process deletes its record and its folder', async () => {
  const dir = path.join(wsDir, '.procdeck', 'processes', colourId);
  assert.ok(fs.existsSync(dir));
  const r = await row(colourId);
  await (await r.find('[data-testid="remove-button"]')).click();
  const confirm = (await s.findAll('[data-testid="confirm-ok"]'))[0];
  if (confirm) await confirm.click();
  await s.waitFor('the row gone', async () => (await row(colourId)) === undefined);
  assert.ok(!fs.existsSync(dir), 'the process folder is deleted');
  assert.ok(!cli('list').some((p) => p.id === colourId), 'the record is deleted');
  await shot('07-removed');
});

test('a command run twice is one row with "2 runs"; its earlier run is listed, selected and stopped from the pane', async () => {
  const command = `sleep ${marker}8`;
  const runs = () => cli('list', '--all').filter((p) => p.command === command);
  const input = await s.waitForElement('[data-testid="command-input"]');
  for (let n = 1; n <= 2; n++) {
    await input.click();
    await input.type(command);
    await input.type(Key.Enter);
    await s.waitFor(`run ${n} running`, () => runs().filter((p) => p.status === 'running').length === n, 20000);
  }
  const [second, first] = runs().sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
  assert.equal(first.service, second.service, 'the engine makes them one service');
  const rowsTitled = async (title) => {
    const found = [];
    for (const r of await s.findAll('[data-testid="process-row"]')) {
      if ((await (await r.find('[data-testid="process-title"]')).textContent()) === title) found.push(r);
    }
    return found;
  };
  await s.waitFor('one row, showing the second run', async () => {
    const found = await rowsTitled(command);
    return found.length === 1 && (await found[0].attribute('data-process-id')) === second.id;
  });
  const toggle = await (await row(second.id)).find('[data-testid="runs-toggle"]');
  assert.equal(await toggle.text(), '2 runs · 1 earlier running');
  await shot('11-two-runs');

  await toggle.click();
  const earlier = await s.waitFor('the earlier run listed', async () => {
    for (const r of await s.findAll('[data-testid="run-row"]')) {
      if ((await r.attribute('data-run-id')) === first.id) return r;
    }
    return undefined;
  });
  assert.equal(await earlier.attribute('data-status'), 'running');
  assert.match(await earlier.text(), /Run 1/);
  await earlier.click();
  await s.waitFor('the earlier run selected', async () => (await earlier.attribute('aria-selected')) === 'true');
  assert.equal(await (await s.waitForElement('[data-testid="pane-run"]')).text(), 'run 1 of 2', 'the pane says which run it shows');
  await shot('12-earlier-run');

  assert.equal(processesWith(command).length, 2, 'both runs are running');
  await (await s.waitForElement('[data-testid="pane-stop"]')).click();
  await s.waitFor('the earlier run stopped', async () => (await earlier.attribute('data-status')) === 'stopped', 20000);
  assert.equal(processesWith(command).length, 1, 'one sleep is left');
  const after = runs();
  assert.equal(after.find((p) => p.id === first.id).status, 'stopped');
  assert.equal(after.find((p) => p.id === first.id).stopRequested, true);
  assert.equal(after.find((p) => p.id === second.id).status, 'running', 'the latest run was left alone');
  assert.equal(await rowStatus(second.id), 'running');
  await shot('13-stopped-from-pane');

  // Restarting from the pane keeps one row, whose new run is selected.
  await (await row(second.id)).click();
  await (await s.waitForElement('[data-testid="pane-restart"]')).click();
  let third;
  await s.waitFor('the third run on the row', async () => {
    third = runs().find((p) => p.id !== first.id && p.id !== second.id);
    if (!third) return false;
    const found = await rowsTitled(command);
    return found.length === 1 && (await found[0].attribute('data-process-id')) === third.id && (await found[0].attribute('aria-selected')) === 'true';
  }, 20000);
  assert.equal(await (await (await row(third.id)).find('[data-testid="runs-toggle"]')).text(), '3 runs');
  await s.waitFor('the second run stopped by the restart', async () => runs().find((p) => p.id === second.id).status === 'stopped', 20000);
  await (await s.waitForElement('[data-testid="pane-stop"]')).click();
  await s.waitFor('the third run stopped', async () => (await rowStatus(third.id)) === 'stopped', 20000);
  assert.deepEqual(processesWith(command), []);
  await shot('14-three-runs');
});

test('a failed start names the process holding its port, and one click stops it and runs this again', async () => {
  const port = await freePort();
  // Python's "Address already in use" names no port: the command line does.
  const server = `exec python3 -m http.server ${port} --bind 127.0.0.1`;
  const web = cli('start', '--title', 'web', '--', server);
  await s.waitFor('the server listens', () => accepts(port), 20000);
  const again = cli('start', '--title', 'web again', '--', server);
  await s.waitFor('the second server failed', async () => (await rowStatus(again.id)) === 'error', 20000);
  let message = '';
  await s.waitFor('the conflict shown', async () => {
    const found = await (await row(again.id))?.findAll('[data-testid="port-conflict"]');
    message = found && found.length > 0 ? await found[0].textContent() : '';
    return message.includes('held by');
  });
  assert.match(message, new RegExp(`Port ${port} \\(from the command line\\) is held by web \\(pid ${web.pid}\\) in this workspace`));
  await shot('08-port-conflict');
  const take = await (await row(again.id)).find('[data-testid="take-port"]');
  assert.equal(await take.text(), 'Stop web and run this again');
  await take.click();
  await s.waitFor('the holder stopped', async () => (await rowStatus(web.id)) === 'stopped', 20000);
  let rerun;
  await s.waitFor('the new run listens', async () => {
    rerun = cli('list').find((p) => p.title === 'web again' && p.id !== again.id);
    return rerun !== undefined && (await rowStatus(rerun.id)) === 'running' && (await accepts(port));
  }, 20000);
  await shot('09-port-taken');
  cli('stop', rerun.id);
});

test('a second launch hands its folder to the running window and exits', async () => {
  const other = path.join(work, 'ws-api');
  fs.mkdirSync(other, { recursive: true });
  const started = Date.now();
  execFileSync(app, [other], { timeout: 30000, stdio: 'ignore' });
  assert.ok(Date.now() - started < 30000, 'the second instance exited by itself');
  await s.waitFor('the new workspace in the sidebar', async () => {
    for (const w of await s.findAll('[data-testid="workspace"]')) {
      if ((await w.attribute('data-name')) === 'ws-api') return true;
    }
    return false;
  });
  await shot('10-second-instance');
});
