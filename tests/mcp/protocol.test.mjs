// The wire: protocol versions, malformed JSON-RPC, and where the workspace comes from.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import { BIN, cleanup, connect, env, ok, records, workspace } from './helpers.mjs';

after(cleanup);

/** `procdeck mcp` spoken to line by line, without an SDK. */
function raw(dir) {
  const child = spawn(BIN, ['-w', dir, 'mcp'], { env: env(), stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const queue = [];
  const waiting = [];
  lines.on('line', (line) => {
    const message = JSON.parse(line);
    const next = waiting.shift();
    if (next) next(message);
    else queue.push(message);
  });
  return {
    child,
    send: (line) => child.stdin.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`),
    next: () =>
      new Promise((resolve, reject) => {
        if (queue.length) return resolve(queue.shift());
        const timer = setTimeout(() => reject(new Error('no message from the server')), 15000);
        waiting.push((m) => {
          clearTimeout(timer);
          resolve(m);
        });
      }),
  };
}

function initialize(version) {
  return {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
  };
}

for (const version of ['2025-06-18', '2025-11-25']) {
  test(`protocol version ${version} is spoken`, async () => {
    const server = raw(workspace());
    try {
      server.send(initialize(version));
      const init = await server.next();
      assert.equal(init.result.protocolVersion, version);
      assert.equal(init.result.serverInfo.name, 'procdeck');
      server.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      server.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'process_list', arguments: {} } });
      const listed = await server.next();
      assert.deepEqual(listed.result.structuredContent, { processes: [], events: [] });
    } finally {
      server.child.kill('SIGKILL');
    }
  });
}

test('malformed JSON-RPC gets the protocol error and the server keeps serving', async () => {
  const server = raw(workspace());
  try {
    server.send(initialize('2025-11-25'));
    assert.equal((await server.next()).id, 1);
    server.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    server.send('{"jsonrpc": "2.0", "id": 5, "method": ');
    const parse = await server.next();
    assert.deepEqual([parse.id, parse.error.code], [null, -32700]);
    server.send('this is not json at all');
    assert.equal((await server.next()).error.code, -32700);
    server.send({ jsonrpc: '2.0', id: 6, params: {} });
    const invalid = await server.next();
    assert.equal(invalid.error.code, -32600);
    server.send({ jsonrpc: '2.0', id: 7, method: 'tools/list' });
    const tools = await server.next();
    assert.equal(tools.id, 7);
    assert.equal(tools.result.tools.length, 7);
  } finally {
    server.child.kill('SIGKILL');
  }
});

test("the workspace is the client's first root when it offers roots", async () => {
  const rootDir = realpathSync(workspace('root'));
  const second = workspace('second');
  const elsewhere = workspace('cwd');
  const { client } = await connect({ roots: [rootDir, second], cwd: elsewhere });
  try {
    const started = await ok(client, 'process_start', { command: 'pwd', ready: { timeout_s: 10 } });
    assert.equal(started.output_tail, `${rootDir}\n`);
    assert.equal(records(rootDir).length, 1);
    assert.equal(existsSync(path.join(elsewhere, '.procdeck')), false);
  } finally {
    await client.close();
  }
});

test('without -w or roots, the workspace is the current folder', async () => {
  const here = realpathSync(workspace('here'));
  const { client } = await connect({ cwd: here });
  try {
    const started = await ok(client, 'process_start', { command: 'pwd', ready: { timeout_s: 10 } });
    assert.equal(started.output_tail, `${here}\n`);
    assert.equal(records(here).length, 1);
  } finally {
    await client.close();
  }
});
