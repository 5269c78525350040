// The server keeps nothing of its own: killed mid-wait it loses nothing, and its processes
// outlive it unless --stop-on-exit.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';

import { cleanup, cli, connect, ok, outputLog, records, sleep, until, workspace } from './helpers.mjs';

after(cleanup);

/** Resolves once the server process has exited. */
function exited(transport) {
  return until(() => {
    try {
      process.kill(transport.pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 20000, 'the server to exit');
}

test('a server killed with SIGKILL mid-wait loses nothing', async () => {
  const dir = workspace();
  const first = await connect({ dir, name: 'first' });
  const started = await ok(first.client, 'process_start', {
    command: 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.05; done',
    title: 'ticker',
    ready: { log_regex: '^tick 3$' },
  });
  assert.equal(started.status, 'ready');
  const waiting = first.client
    .callTool({ name: 'process_wait', arguments: { id: started.id, until: 'exit', timeout_s: 30 } })
    .catch((e) => e);
  await sleep(500);
  const pid = first.transport.pid;
  process.kill(pid, 'SIGKILL');
  await exited(first.transport);
  assert.ok((await waiting) instanceof Error, 'the pending call fails with its server');
  await first.client.close().catch(() => {});

  // The process runs on, and its output keeps growing.
  const size = outputLog(dir, started.id).length;
  await until(() => outputLog(dir, started.id).length > size + 100, 20000, 'more output');
  assert.equal(records(dir).find((r) => r.id === started.id).status, 'running');

  // A new server sees it, with every byte.
  const second = await connect({ dir, name: 'second' });
  try {
    const listed = await ok(second.client, 'process_list');
    const found = listed.processes.find((p) => p.id === started.id);
    assert.equal(found.status, 'running');
    assert.deepEqual(found.started_by, { kind: 'agent', client: 'first' });
    const head = await ok(second.client, 'process_output', { id: 'ticker', mode: 'head', lines: 3 });
    assert.equal(head.text, 'tick 1\ntick 2\ntick 3\n');
    const all = await ok(second.client, 'process_output', { id: 'ticker', mode: 'since', max_bytes: 262144 });
    const lines = all.text.split('\n').filter(Boolean);
    lines.forEach((line, i) => assert.equal(line, `tick ${i + 1}`));
    const stopped = await ok(second.client, 'process_stop', { id: started.id });
    assert.equal(stopped.survivors, 0);
  } finally {
    await second.client.close();
  }
});

test('--stop-on-exit stops what the session started, and only that', async () => {
  const dir = workspace();
  const byCli = JSON.parse(cli(dir, ['--json', 'start', '--title', 'cli-one', '--', 'sleep 301']));
  const { client, transport } = await connect({ dir, args: ['--stop-on-exit'] });
  const mine = await ok(client, 'process_start', { command: 'sleep 300', title: 'mine' });
  const tree = await ok(client, 'process_start', {
    command: 'sleep 300 & sleep 300 & wait',
    title: 'tree',
  });
  const pid = transport.pid;
  await client.close();
  await until(() => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 20000, 'the server to exit');
  const after = records(dir);
  assert.equal(after.find((r) => r.id === mine.id).status, 'stopped');
  assert.equal(after.find((r) => r.id === tree.id).status, 'stopped');
  assert.equal(after.find((r) => r.id === byCli.id).status, 'running', 'not started by the session');
});

test('by default the processes outlive the agent', async () => {
  const dir = workspace();
  const { client, transport } = await connect({ dir });
  const mine = await ok(client, 'process_start', { command: 'sleep 300', title: 'stays' });
  await client.close();
  await exited(transport);
  assert.equal(records(dir).find((r) => r.id === mine.id).status, 'running');
});
