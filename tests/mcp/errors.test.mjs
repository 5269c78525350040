// Bad inputs are isError results with one clear sentence, and the server keeps serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';

import { cleanup, cli, connect, fails, ok, workspace, XDG } from './helpers.mjs';

after(cleanup);

describe('bad input', () => {
  let dir;
  let client;
  before(async () => {
    dir = workspace();
    ({ client } = await connect({ dir }));
  });
  after(async () => {
    await client?.close();
  });

  test('unknown id or title', async () => {
    assert.match(
      await fails(client, 'process_output', { id: 'proc_2026-01-01T0000_abcdef', mode: 'tail' }),
      /no process with id proc_2026-01-01T0000_abcdef/,
    );
    assert.match(await fails(client, 'process_stop', { id: 'nothing' }), /no process with id, start of an id or title "nothing"/);
    assert.match(await fails(client, 'process_remove', { title: 'nothing' }), /no process titled "nothing"/);
    assert.match(await fails(client, 'process_stop', {}), /give the process's id or title/);
    assert.match(await fails(client, 'process_stop', { id: 'a', title: 'b' }), /either id or title, not both/);
  });

  test('ambiguous title', async () => {
    const a = await ok(client, 'process_start', { command: 'sleep 60', title: 'dup' });
    const b = await ok(client, 'process_start', { command: 'sleep 61', title: 'dup', reuse: false });
    const byId = await fails(client, 'process_wait', { id: 'dup', until: 'exit', timeout_s: 1 });
    assert.match(byId, /"dup" names 2 processes/);
    assert.ok(byId.includes(a.id) && byId.includes(b.id));
    assert.match(await fails(client, 'process_restart', { title: 'dup' }), /"dup" is the title of 2 processes/);
    await ok(client, 'process_stop', { id: a.id });
    await ok(client, 'process_stop', { id: b.id });
  });

  test('invalid regex', async () => {
    assert.match(
      await fails(client, 'process_start', { command: 'sleep 1', ready: { log_regex: '(' } }),
      /invalid regex "\(":/,
    );
    const started = await ok(client, 'process_start', { command: 'echo hi', title: 'rx' });
    assert.match(await fails(client, 'process_output', { id: started.id, mode: 'grep', pattern: '[' }), /invalid regex/);
    assert.match(await fails(client, 'process_output', { id: started.id, mode: 'grep' }), /grep needs a pattern/);
    assert.match(
      await fails(client, 'process_wait', { id: started.id, until: { log_regex: 'a{99999999}' } }),
      /invalid regex/,
    );
  });

  test('cwd outside the workspace', async () => {
    assert.match(await fails(client, 'process_start', { command: 'pwd', cwd: '..' }), /is outside the workspace/);
    assert.match(await fails(client, 'process_start', { command: 'pwd', cwd: '/' }), /is outside the workspace/);
    // A link inside the workspace that leads out of it.
    symlinkSync('/tmp', path.join(dir, 'out'));
    assert.match(await fails(client, 'process_start', { command: 'pwd', cwd: 'out' }), /is outside the workspace/);
    assert.match(await fails(client, 'process_start', { command: 'pwd', cwd: 'missing' }), /does not exist/);
    mkdirSync(path.join(dir, 'sub'));
    const inside = await ok(client, 'process_start', { command: 'pwd', cwd: 'sub', ready: { timeout_s: 10 } });
    assert.equal(inside.output_tail, `${path.join(dir, 'sub')}\n`);
  });

  test('empty command', async () => {
    assert.match(await fails(client, 'process_start', { command: '' }), /the command is empty/);
    assert.match(await fails(client, 'process_start', { command: '  \t ' }), /the command is empty/);
  });

  test('timeouts too large, bad ports, bad cursors, bad env', async () => {
    assert.match(
      await fails(client, 'process_start', { command: 'sleep 1', ready: { timeout_s: 121 } }),
      /ready.timeout_s must be a number of seconds from 0 to 120, not 121/,
    );
    const s = await ok(client, 'process_start', { command: 'sleep 30', title: 'tt' });
    assert.match(
      await fails(client, 'process_wait', { id: s.id, until: 'exit', timeout_s: 51 }),
      /timeout_s must be a number of seconds from 0 to 50/,
    );
    assert.match(await fails(client, 'process_wait', { id: s.id, until: 'exit', timeout_s: -1 }), /timeout_s must be/);
    assert.match(await fails(client, 'process_stop', { id: s.id, grace_s: 61 }), /grace_s must be/);
    assert.match(await fails(client, 'process_wait', { id: s.id, until: { port: 70000 } }), /port must be from 1 to 65535/);
    assert.match(await fails(client, 'process_start', { command: 'x', ready: { port: 0 } }), /port must be/);
    assert.match(
      await fails(client, 'process_output', { id: s.id, mode: 'since', cursor: 10 ** 9 }),
      /cursor 1000000000 is past the end of the output/,
    );
    assert.match(
      await fails(client, 'process_start', { command: 'true', env: { 'BAD NAME': '1' } }),
      /invalid environment variable/,
    );
    await ok(client, 'process_stop', { id: s.id });
  });

  test('restarting a record this user did not start needs the user', async () => {
    // Started under another user's record key: foreign to the server's user.
    const other = JSON.parse(
      cli(dir, ['--json', 'start', '--title', 'theirs', '--', 'sleep 60'], {
        XDG_DATA_HOME: path.join(XDG, 'someone-else'),
      }),
    );
    const refused = await fails(client, 'process_restart', { id: other.id });
    assert.match(refused, /was not started by this user/);
    assert.ok(refused.includes(`procdeck restart ${other.id} --yes`), refused);
    assert.ok(refused.includes('Procdeck app'));
    const listed = await ok(client, 'process_list');
    assert.equal(listed.processes.find((p) => p.id === other.id).status, 'running', 'nothing stopped');
    await ok(client, 'process_stop', { id: other.id });
  });

  test('wrong argument types are errors too, an unknown tool a protocol error', async () => {
    assert.match(
      await fails(client, 'process_output', { id: 1, mode: 'sideways' }),
      /failed to deserialize parameters: invalid type: integer `1`, expected a string/,
    );
    assert.match(await fails(client, 'process_output', { id: 'x', mode: 'sideways' }), /unknown variant `sideways`/);
    assert.match(await fails(client, 'process_list', { limits: 3 }), /unknown field `limits`/);
    await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), /-32602/);
    const listed = await ok(client, 'process_list');
    assert.ok(Array.isArray(listed.processes));
  });
});
