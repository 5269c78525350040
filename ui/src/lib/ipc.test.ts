import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OutputFrame } from '../bindings/OutputFrame';
import { textFrame } from '../mock/outputBytes';
import { record } from '../test/records';
import * as ipc from './ipc';

afterEach(() => clearMocks());

/** Sends a frame to a Channel the way Tauri does: through its callback, with an index. */
function sendToChannel(channel: unknown, index: number, message: OutputFrame): void {
  const id = (channel as { id: number }).id;
  (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } }).__TAURI_INTERNALS__.runCallback(id, { index, message });
}

describe('ipc', () => {
  it('calls each command with camelCase arguments', async () => {
    const calls: Array<[string, unknown]> = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'start_process') return record({ id: 'proc_2026-11-24T0408_aaaaaa' });
      if (cmd === 'list_workspaces') return [{ id: 'ws1', path: '/p', name: 'p', missing: false, running: 1, total: 2 }];
      if (cmd === 'grep_output') return { id: 'x', lines: [], matchingLines: 0, truncated: false, sizeBytes: 0, droppedBytes: 0 };
      return null;
    });
    const ws = await ipc.listWorkspaces();
    expect(ws[0].running).toBe(1);
    const rec = await ipc.startProcess('ws1', 'npm run dev', null, { PORT: '3000' });
    expect(rec.id).toBe('proc_2026-11-24T0408_aaaaaa');
    await ipc.removeWorkspace('ws1', true);
    await ipc.grepOutput('ws1', 'p1', 'err(or)?', 500);
    await ipc.linesBefore('ws1', 'p1', null, 500);
    await ipc.readOutput('ws1', 'p1', { method: 'tail', lines: 100, pattern: null, maxBytes: null });
    await ipc.unfollowOutput(7);
    expect(calls).toEqual([
      ['list_workspaces', {}],
      ['start_process', { workspaceId: 'ws1', command: 'npm run dev', title: null, env: { PORT: '3000' } }],
      ['remove_workspace', { workspaceId: 'ws1', deleteHistory: true }],
      ['grep_output', { workspaceId: 'ws1', id: 'p1', pattern: 'err(or)?', limit: 500 }],
      ['lines_before', { workspaceId: 'ws1', id: 'p1', endOffset: null, lines: 500 }],
      ['read_output', { workspaceId: 'ws1', id: 'p1', request: { method: 'tail', lines: 100, pattern: null, maxBytes: null } }],
      ['unfollow_output', { subscription: 7 }],
    ]);
  });

  it('calls the desktop commands (suggestions, ports, prefs) with their documented arguments', async () => {
    const calls: Array<[string, unknown]> = [];
    const prefs = { quitBehavior: 'stopAll', notifications: false, loginShellEnv: true, colorEnv: true, toldAboutTray: true, processSort: 'cpu' as const };
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'suggestions') return [{ source: 'Procfile', name: 'web', command: 'node server.js' }];
      if (cmd === 'listening_ports') return [{ port: 3000, address: '127.0.0.1', pid: 42 }];
      if (cmd === 'port_conflict') return null;
      if (cmd === 'process_usage') return { p1: { cpuPercent: null, rssBytes: 4096 } };
      if (cmd === 'get_prefs' || cmd === 'set_prefs') return prefs;
      return null;
    });
    expect(await ipc.suggestions('ws1')).toEqual([{ source: 'Procfile', name: 'web', command: 'node server.js' }]);
    expect(await ipc.listeningPorts('ws1', 'p1')).toEqual([{ port: 3000, address: '127.0.0.1', pid: 42 }]);
    expect(await ipc.portConflict('ws1', 'p1')).toBeNull();
    expect(await ipc.processUsage('ws1', ['p1', 'p2'])).toEqual({ p1: { cpuPercent: null, rssBytes: 4096 } });
    await ipc.openPort(3000);
    expect(await ipc.getPrefs()).toEqual(prefs);
    await ipc.setPrefs({ ...prefs, quitBehavior: 'ask' });
    expect(calls).toEqual([
      ['suggestions', { workspaceId: 'ws1' }],
      ['listening_ports', { workspaceId: 'ws1', id: 'p1' }],
      ['port_conflict', { workspaceId: 'ws1', id: 'p1' }],
      ['process_usage', { workspaceId: 'ws1', ids: ['p1', 'p2'] }],
      ['open_port', { port: 3000 }],
      ['get_prefs', {}],
      ['set_prefs', { value: { ...prefs, quitBehavior: 'ask' } }],
    ]);
  });

  it('rejects with the AppError the Rust side sent', async () => {
    mockIPC((cmd) => {
      if (cmd === 'grep_output') throw { kind: 'invalidPattern', message: 'invalid regex "(": unclosed group' };
    });
    await expect(ipc.grepOutput('ws1', 'p1', '(', null)).rejects.toEqual({ kind: 'invalidPattern', message: 'invalid regex "(": unclosed group' });
  });

  it('normalises other rejections to AppError', async () => {
    mockIPC((cmd) => {
      if (cmd === 'stop_process') return Promise.reject('plain string failure');
      if (cmd === 'kill_process') throw new Error('boom');
      if (cmd === 'remove_process') throw { unexpected: true };
    });
    await expect(ipc.stopProcess('ws1', 'p')).rejects.toEqual({ kind: 'unknown', message: 'plain string failure' });
    await expect(ipc.killProcess('ws1', 'p')).rejects.toEqual({ kind: 'unknown', message: 'boom' });
    await expect(ipc.removeProcess('ws1', 'p')).rejects.toEqual({ kind: 'unknown', message: '{"unexpected":true}' });
  });

  it('follows output through a Channel, delivering frames in index order', async () => {
    let channel: unknown = null;
    mockIPC((cmd, args) => {
      if (cmd === 'follow_output') {
        const a = args as { workspaceId: string; id: string; fromOffset: number | null; onFrame: unknown };
        expect(a.workspaceId).toBe('ws1');
        expect(a.id).toBe('p1');
        expect(a.fromOffset).toBe(42);
        channel = a.onFrame;
        return 3;
      }
    });
    const frames: OutputFrame[] = [];
    const sub = await ipc.followOutput('ws1', 'p1', 42, (f) => frames.push(f));
    expect(sub).toBe(3);
    expect(String(JSON.stringify({ c: channel }))).toMatch(/__CHANNEL__:\d+/);
    // Out of order on the wire: the Channel reorders by index.
    sendToChannel(channel, 1, textFrame('world\n', 47));
    sendToChannel(channel, 0, textFrame('hello', 42));
    sendToChannel(channel, 2, { type: 'end', record: null });
    expect(frames).toEqual([textFrame('hello', 42), textFrame('world\n', 47), { type: 'end', record: null }]);
  });

  it('delivers app events to listeners', async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const seen = vi.fn();
    const unlisten = await ipc.onProcessEvent(seen);
    const { emit } = await import('@tauri-apps/api/event');
    const payload = { workspaceId: 'ws1', event: { type: 'removed', id: 'p1', workspaceId: 'ws1' } };
    await emit(ipc.PROCESS_EVENT, payload);
    expect(seen).toHaveBeenCalledWith(payload);
    unlisten();
  });
});
