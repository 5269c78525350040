// Stacks in the real app: a folder's procdeck.toml shown above the list, started with one click
// in dependency order (each entry once what it depends on is ready, the states shown as they
// change), stopped with one click, a mistake in the file shown with its line, and what runs
// saved as a new stack.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.mjs';
import { Session } from './webdriver.mjs';

const { accepts, freePort, shot } = h;
const { PROCDECK_E2E_DRIVER: driver, PROCDECK_E2E_APP: app, PROCDECK_E2E_CLI: cliBin } = process.env;
const work = process.env.PROCDECK_E2E_WORK;
// run.sh's cleanup stops what runs in $work/ws*, should a test fail half-way.
const wsDir = path.join(work, 'ws-stack');
const stackFile = path.join(wsDir, 'procdeck.toml');
const marker = String(88_000 + (process.pid % 300) * 3);
const LONG = 60_000;

let s;
let apiPort;

function cli(...args) {
  return JSON.parse(execFileSync(cliBin, ['-w', wsDir, '--json', ...args], { encoding: 'utf8' }));
}

/** Each stack entry on screen: name, state attribute and the text shown. */
async function entries() {
  return s.execute(`
    return [...document.querySelectorAll('[data-testid="stack-entry"]')].map(e => ({
      name: e.dataset.name, state: e.dataset.state, text: e.textContent.replace(/\\s+/g, ' ').trim(),
    }));
  `);
}

async function reload() {
  await (await s.waitForElement('[data-testid="stack-reload"]')).click();
}

before(async () => {
  fs.mkdirSync(wsDir, { recursive: true });
  apiPort = await freePort();
  fs.writeFileSync(
    stackFile,
    `# The shop's processes.
[processes.web]
command = "exec sleep ${marker}1"
depends_on = ["api"]

[processes.api]
command = "exec python3 -m http.server ${apiPort} --bind 127.0.0.1"
depends_on = ["db"]
ready = { port = ${apiPort} }

[processes.db]
command = "sleep 1; echo 'database system is ready to accept connections'; exec sleep ${marker}2"
ready = { log_regex = "ready to accept connections" }
`,
  );
  s = await Session.create(driver, { 'tauri:options': { application: app, args: [wsDir] } });
  await s.waitForElement('[data-testid="workspace"][data-name="ws-stack"]', LONG);
});

after(async () => {
  if (s) {
    try {
      await shot('stack-99-last');
    } catch {
      // Nothing to show if the window is gone.
    }
    await s.delete();
  }
  try {
    execFileSync(cliBin, ['-w', wsDir, 'close']);
  } catch {
    // run.sh's cleanup ends what is left.
  }
});

test('the stack is shown above the list, every entry not started yet', async () => {
  await s.waitFor('three entries', async () => (await entries()).length === 3, LONG);
  const shown = await entries();
  assert.deepEqual(
    shown.map((e) => e.name),
    ['web', 'api', 'db'],
  );
  assert.ok(shown.every((e) => e.text.endsWith('not started')), JSON.stringify(shown));
  assert.match(await (await s.find('[data-testid="stack-bar"]')).text(), /procdeck\.toml/);
  await shot('stack-01-shown');
});

test('the first Start stack shows every command of the file and asks', async () => {
  await (await s.find('[data-testid="stack-up"]')).click();
  await s.waitForElement('[data-testid="confirm-runs"]');
  const runs = await s.execute(`
    return [...document.querySelectorAll('[data-testid="confirm-runs"] [data-testid="confirm-run"]')].map(r => ({
      name: r.dataset.name, command: r.querySelector('[data-testid="confirm-command"]').textContent,
    }));
  `);
  assert.deepEqual(
    runs.map((r) => r.name),
    ['web', 'api', 'db'],
  );
  assert.ok(runs[1].command.includes(`http.server ${apiPort}`), JSON.stringify(runs));
  await shot('stack-02-confirm');
  // Cancelled: nothing runs.
  await (await s.find('[data-testid="confirm-cancel"]')).click();
  await s.waitFor('the dialog closed', async () => (await s.findAll('[data-testid="confirm-runs"]')).length === 0);
  assert.equal(cli('list').length, 0, 'nothing was started');
});

test('Start stack starts each entry once what it depends on is ready, and shows each state', async () => {
  await (await s.find('[data-testid="stack-up"]')).click();
  await (await s.waitForElement('[data-testid="confirm-ok"]')).click();
  // web waits for api, which waits for db's line: the waiting is visible while db sleeps.
  await s.waitFor('web waiting for api', async () => (await entries()).some((e) => e.name === 'web' && e.text.includes('waiting for api')), LONG);
  await shot('stack-03-starting');
  await s.waitFor(
    'every entry up',
    async () => {
      const byName = Object.fromEntries((await entries()).map((e) => [e.name, e]));
      return byName.db?.state === 'ready' && byName.api?.state === 'ready' && byName.web?.state === 'running';
    },
    LONG,
  );
  const byName = Object.fromEntries((await entries()).map((e) => [e.name, e]));
  assert.match(byName.db.text, /ready: printed "database system is ready to accept connections"/);
  assert.match(byName.api.text, new RegExp(`ready: listening on port ${apiPort}`));
  assert.ok(await accepts(apiPort), 'the api listens');
  const records = cli('list');
  const started = Object.fromEntries(records.map((r) => [r.title, Date.parse(r.startedAt)]));
  assert.ok(started.db < started.api && started.api < started.web, JSON.stringify(started));
  assert.ok(records.every((r) => r.status === 'running' && r.startedBy?.kind === 'app'), JSON.stringify(records));
  // The rows are in the list too.
  await s.waitFor('three running rows', async () => {
    let n = 0;
    for (const r of await s.findAll('[data-testid="process-row"]')) if ((await r.attribute('data-status')) === 'running') n += 1;
    return n === 3;
  });
  await shot('stack-04-up');
});

test('Stop stack stops every entry, dependents first, and frees the port', async () => {
  await (await s.find('[data-testid="stack-down"]')).click();
  await s.waitFor('every entry stopped', async () => (await entries()).every((e) => e.state === 'stopped'), LONG);
  const records = cli('list');
  assert.ok(records.every((r) => r.status === 'stopped'), JSON.stringify(records));
  const stoppedAt = Object.fromEntries(records.map((r) => [r.title, Date.parse(r.stoppedAt)]));
  assert.ok(stoppedAt.web <= stoppedAt.api && stoppedAt.api <= stoppedAt.db, JSON.stringify(stoppedAt));
  await h.until('the port free', async () => !(await accepts(apiPort)), LONG);
  await shot('stack-05-down');
  // Confirmed once: a second start does not ask again.
  await (await s.find('[data-testid="stack-up"]')).click();
  await s.waitFor('every entry up again', async () => (await entries()).every((e) => ['ready', 'running'].includes(e.state)), LONG);
  assert.equal((await s.findAll('[data-testid="confirm-runs"]')).length, 0);
  await (await s.find('[data-testid="stack-down"]')).click();
  await s.waitFor('every entry stopped again', async () => (await entries()).every((e) => e.state === 'stopped'), LONG);
});

test('a mistake in the file is shown with its line', async () => {
  fs.writeFileSync(stackFile, '[processes.web]\ncommand = "x"\ndepends_on = ["db"]\n');
  await reload();
  const error = await s.waitForElement('[data-testid="stack-error"]');
  assert.match(await error.text(), /procdeck\.toml:1: web depends on "db", which is not in the stack/);
  assert.equal((await s.findAll('[data-testid="stack-up"]')).length, 0, 'nothing to start');
  await shot('stack-06-error');
});

test('what runs is saved as a new stack', async () => {
  fs.rmSync(stackFile);
  const solo = cli('start', '--title', 'solo', '--', `sleep ${marker}0`);
  await s.waitFor('the CLI process listed', async () => (await h.rowStatus(s, solo.id)) === 'running');
  await reload();
  const save = await s.waitForElement('[data-testid="stack-save"]');
  await save.click();
  await s.waitFor('the saved stack shown', async () => (await entries()).map((e) => e.name).join() === 'solo', LONG);
  const text = fs.readFileSync(stackFile, 'utf8');
  assert.match(text, /\[processes\.solo\]\ncommand = "sleep \d+"\n/);
  await shot('stack-07-saved');
});
