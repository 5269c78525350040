// Every tool through the SDK client, against real processes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  accepts,
  cleanup,
  cli,
  connect,
  fails,
  freePort,
  ok,
  outputLog,
  records,
  sleep,
  until,
  workspace,
} from './helpers.mjs';

after(cleanup);

describe('tools', () => {
  let dir;
  let client;
  before(async () => {
    dir = workspace();
    ({ client } = await connect({ dir, name: 'tools-client' }));
  });
  after(async () => {
    await client?.close();
  });

  test('every tool is listed with an input and an output schema', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, [
      'process_list',
      'process_output',
      'process_remove',
      'process_restart',
      'process_start',
      'process_stop',
      'process_wait',
    ]);
    for (const t of tools) {
      assert.equal(t.inputSchema.type, 'object', t.name);
      assert.equal(t.outputSchema?.type, 'object', t.name);
      assert.ok(t.outputSchema.properties.events, `${t.name} declares events`);
    }
  });

  test('start waits for a log line and records the agent as its starter', async () => {
    const started = await ok(client, 'process_start', {
      command: 'echo booting; sleep 0.3; printf "\\033[32mready\\033[0m on 1\\n"; sleep 60',
      title: 'logready',
      ready: { log_regex: 'ready on \\d', timeout_s: 20 },
    });
    assert.equal(started.status, 'ready');
    assert.equal(started.ready_reason, 'log_regex');
    assert.equal(started.reused, false);
    assert.ok(started.pid > 0);
    assert.match(started.matched_line, /ready on 1/);
    assert.equal(started.output_tail, 'booting\nready on 1\n', 'ANSI stripped');
    const rec = records(dir).find((r) => r.id === started.id);
    assert.deepEqual(rec.startedBy, { kind: 'agent', client: 'tools-client' });
    const listed = await ok(client, 'process_list');
    const mine = listed.processes.find((p) => p.id === started.id);
    assert.deepEqual(mine.started_by, { kind: 'agent', client: 'tools-client' });
    assert.equal(mine.status, 'running');
  });

  test('start waits for a port, stop frees it', async () => {
    const port = await freePort();
    const started = await ok(client, 'process_start', {
      command: `exec python3 -m http.server ${port} --bind 127.0.0.1`,
      title: 'http',
      ready: { port, timeout_s: 30 },
    });
    assert.equal(started.status, 'ready');
    assert.equal(started.ready_reason, 'port');
    assert.deepEqual(started.ports, [port]);
    assert.equal(await accepts(port), true);
    const listed = await ok(client, 'process_list', { include_ended: false });
    assert.deepEqual(listed.processes.find((p) => p.id === started.id).ports, [port]);
    const stopped = await ok(client, 'process_stop', { id: started.id, grace_s: 2 });
    assert.equal(stopped.survivors, 0);
    assert.deepEqual(stopped.ports_freed, [port]);
    assert.equal(stopped.status, 'stopped');
    assert.equal(await accepts(port), false);
  });

  test('readiness says when the process exits or the time is up first', async () => {
    const exited = await ok(client, 'process_start', {
      command: 'echo nope; exit 4',
      ready: { log_regex: 'never', timeout_s: 20 },
    });
    assert.equal(exited.status, 'failed');
    assert.equal(exited.ready_reason, 'exit');
    assert.equal(exited.exit_code, 4);
    const slow = await ok(client, 'process_start', {
      command: 'sleep 60',
      title: 'slow',
      ready: { log_regex: 'never', timeout_s: 0.5 },
    });
    assert.equal(slow.status, 'timed_out');
    assert.equal(slow.ready_reason, 'timeout');
    await ok(client, 'process_stop', { title: 'slow' });
  });

  test('reuse returns the running process instead of a second one', async () => {
    const first = await ok(client, 'process_start', { command: 'sleep 60', title: 'twin' });
    assert.equal(first.status, 'running');
    const again = await ok(client, 'process_start', { command: 'sleep 61', title: 'twin' });
    assert.equal(again.reused, true);
    assert.equal(again.id, first.id);
    // The same command in the same folder, without a title.
    const byCommand = await ok(client, 'process_start', { command: 'sleep 60' });
    assert.equal(byCommand.id, first.id);
    const fresh = await ok(client, 'process_start', {
      command: 'sleep 60',
      title: 'twin',
      reuse: false,
    });
    assert.equal(fresh.reused, false);
    assert.notEqual(fresh.id, first.id);
    await ok(client, 'process_stop', { id: first.id });
    await ok(client, 'process_stop', { id: fresh.id });
  });

  test('since cursors read every byte once, in many small reads', async () => {
    const started = await ok(client, 'process_start', {
      command:
        'for i in $(seq 1 400); do echo "line $i héllo wörld 😀 €"; if [ $((i % 50)) = 0 ]; then sleep 0.05; fi; done; printf "tail without newline é"',
      title: 'cursor',
    });
    let cursor = 0;
    const parts = [];
    let reads = 0;
    for (;;) {
      const r = await ok(client, 'process_output', {
        id: started.id,
        mode: 'since',
        cursor,
        max_bytes: 97,
        strip_ansi: false,
      });
      reads += 1;
      assert.ok(r.next_cursor >= cursor);
      assert.equal(r.skipped_bytes, 0);
      parts.push(r.text);
      cursor = r.next_cursor;
      if (r.status !== 'running' && !r.truncated) break;
    }
    assert.ok(reads > 100, `many reads (${reads})`);
    const log = outputLog(dir, started.id);
    assert.equal(cursor, log.length);
    assert.ok(Buffer.from(parts.join(''), 'utf8').equals(log), 'the reads together are output.log');
    // Reading never consumes: the start is still there.
    const head = await ok(client, 'process_output', { id: 'cursor', mode: 'head', lines: 2 });
    assert.equal(head.text, 'line 1 héllo wörld 😀 €\nline 2 héllo wörld 😀 €\n');
    assert.equal(head.truncated, true);
    const tail = await ok(client, 'process_output', { id: started.id, mode: 'tail', lines: 2 });
    assert.equal(tail.text, 'line 400 héllo wörld 😀 €\ntail without newline é');
    assert.equal(tail.total_bytes, log.length);
    assert.equal(tail.dropped_bytes, 0);
    const grep = await ok(client, 'process_output', {
      id: started.id,
      mode: 'grep',
      pattern: '^line 39\\d ',
    });
    assert.equal(grep.text.split('\n').filter(Boolean).length, 10);
    assert.equal(grep.truncated, false);
    const limited = await ok(client, 'process_output', {
      id: started.id,
      mode: 'grep',
      pattern: '^line 39\\d ',
      lines: 3,
    });
    assert.equal(limited.text, ['390', '391', '392'].map((n) => `line ${n} héllo wörld 😀 €\n`).join(''));
    assert.equal(limited.truncated, true);
    const capped = await ok(client, 'process_output', {
      id: started.id,
      mode: 'tail',
      lines: 100000,
      max_bytes: 10000000,
    });
    assert.ok(Buffer.byteLength(capped.text) <= 256 * 1024);
  });

  test('progress redraws collapse and ANSI goes, unless asked to keep it', async () => {
    const started = await ok(client, 'process_start', {
      command: 'printf "10%%\\r50%%\\r100%%\\n\\033[1mbold\\033[0m\\tcol\\n"',
      ready: { timeout_s: 10 },
    });
    assert.equal(started.status, 'exited');
    const clean = await ok(client, 'process_output', { id: started.id, mode: 'since' });
    assert.equal(clean.text, '100%\nbold\tcol\n');
    const raw = await ok(client, 'process_output', {
      id: started.id,
      mode: 'tail',
      strip_ansi: false,
    });
    assert.equal(raw.text, '100%\n\u001b[1mbold\u001b[0m\tcol\n');
    // grep matches what shows, unless asked for the raw bytes.
    const shown = await ok(client, 'process_output', {
      id: started.id,
      mode: 'grep',
      pattern: 'bold\tcol',
    });
    assert.equal(shown.text, 'bold\tcol\n');
    const rawGrep = await ok(client, 'process_output', {
      id: started.id,
      mode: 'grep',
      pattern: '1mbold',
      strip_ansi: false,
    });
    assert.equal(rawGrep.text, '\u001b[1mbold\u001b[0m\tcol\n');
  });

  test('wait: until exit with progress, a log line, a port, ready', async () => {
    const started = await ok(client, 'process_start', {
      command: 'sleep 2.5; echo finished; exit 0',
      title: 'waiter',
    });
    const progress = [];
    const waited = await ok(
      client,
      'process_wait',
      { id: 'waiter', until: 'exit', timeout_s: 20 },
      { onprogress: (p) => progress.push(p) },
    );
    assert.equal(waited.satisfied, true);
    assert.equal(waited.reason, 'exit');
    assert.equal(waited.status, 'stopped');
    assert.equal(waited.exit_code, 0);
    assert.equal(waited.output_tail, 'finished\n');
    assert.ok(progress.length >= 1, 'progress notifications');
    assert.ok(progress.every((p) => p.total === 20));

    const logger = await ok(client, 'process_start', {
      command: 'sleep 0.5; echo step one; sleep 0.5; echo step two; sleep 60',
    });
    const line = await ok(client, 'process_wait', {
      id: logger.id,
      until: { log_regex: 'step t.o' },
      timeout_s: 20,
    });
    assert.deepEqual([line.satisfied, line.reason, line.matched_line], [true, 'log_regex', 'step two']);
    const late = await ok(client, 'process_wait', {
      id: logger.id,
      until: { log_regex: 'step t.o', cursor: 1000 },
      timeout_s: 0.3,
    });
    assert.deepEqual([late.satisfied, late.reason], [false, 'timeout']);

    const port = await freePort();
    const server = await ok(client, 'process_start', {
      command: `sleep 0.5; exec python3 -m http.server ${port} --bind 127.0.0.1`,
    });
    const listening = await ok(client, 'process_wait', {
      id: server.id,
      until: { port },
      timeout_s: 30,
    });
    assert.deepEqual([listening.satisfied, listening.reason, listening.port], [true, 'port', port]);
    const ready = await ok(client, 'process_wait', { id: server.id, until: 'ready', timeout_s: 5 });
    assert.equal(ready.satisfied, true);
    await ok(client, 'process_stop', { id: server.id });
    await ok(client, 'process_stop', { id: logger.id });
    assert.ok(started.id);
  });

  test('a cancelled wait ends, and the server goes on', async () => {
    const sleeper = await ok(client, 'process_start', { command: 'sleep 60', title: 'sleeper' });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const started = Date.now();
    await assert.rejects(
      client.callTool(
        { name: 'process_wait', arguments: { id: sleeper.id, until: 'exit', timeout_s: 30 } },
        undefined,
        { signal: abort.signal },
      ),
    );
    assert.ok(Date.now() - started < 5000);
    const listed = await ok(client, 'process_list');
    assert.equal(listed.processes.find((p) => p.id === sleeper.id).status, 'running');
    await ok(client, 'process_stop', { id: sleeper.id });
  });

  test('events: a failure is reported once, at the next call, whatever it is', async () => {
    const failing = await ok(client, 'process_start', {
      command: 'echo about to fail; sleep 0.5; echo boom >&2; exit 3',
      title: 'failing',
    });
    await until(
      () => records(dir).find((r) => r.id === failing.id && r.status !== 'running'),
      20000,
      'the failure',
    );
    const listed = await ok(client, 'process_list', { limit: 1 });
    assert.equal(listed.processes.length, 1);
    const event = listed.events.find((e) => e.id === failing.id);
    assert.deepEqual(
      { ...event, last_lines: undefined },
      { id: failing.id, title: 'failing', status: 'error', exit_code: 3, last_lines: undefined },
    );
    assert.equal(event.last_lines, 'about to fail\nboom\n');
    const again = await ok(client, 'process_list');
    assert.equal(again.events.find((e) => e.id === failing.id), undefined, 'reported once');
    // A process the CLI started and that failed is an event too.
    const other = JSON.parse(cli(dir, ['--json', 'start', '--title', 'cli-fail', '--', 'exit 9']));
    await until(() => records(dir).find((r) => r.id === other.id && r.status !== 'running'));
    const seen = await ok(client, 'process_output', { id: failing.id, mode: 'tail' });
    assert.equal(seen.events.find((e) => e.id === other.id)?.exit_code, 9);
  });

  test('remove and restart', async () => {
    const started = await ok(client, 'process_start', { command: 'sleep 60', title: 'again' });
    const restarted = await ok(client, 'process_restart', { title: 'again' });
    assert.equal(restarted.previous_id, started.id);
    assert.notEqual(restarted.id, started.id);
    assert.equal(restarted.status, 'running');
    const old = records(dir).find((r) => r.id === started.id);
    assert.equal(old.status, 'stopped');
    const removed = await ok(client, 'process_remove', { id: restarted.id });
    assert.deepEqual([removed.id, removed.removed], [restarted.id, true]);
    assert.equal(records(dir).find((r) => r.id === restarted.id), undefined);
    await sleep(0);
  });
});
