/**
 * The whole app in jsdom against a fake backend that behaves like the real one when a process is
 * already printing as the app opens: frames through the Channel, a process event a second (here
 * much faster), workspace events. Every IPC call must come from a real change: no loop of
 * lines_before calls, and the list leaves its loading state.
 */

import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { flushSync, mount, unmount } from 'svelte';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { installDomStubs } from './test/dom';
import type { LineChunk } from './bindings/LineChunk';
import type { OutputFrame } from './bindings/OutputFrame';
import type { ProcessEvent } from './bindings/ProcessEvent';
import type { ProcessRecord } from './bindings/ProcessRecord';
import type { WorkspaceInfo } from './bindings/WorkspaceInfo';
import { PORT_REFRESH_MS } from './lib/ports';
import { USAGE_REFRESH_MS } from './lib/usage';
import { linesBefore as chunkBefore, dataFrame, textFrame } from './mock/outputBytes';
import { record } from './test/records';

const WS: WorkspaceInfo = { id: 'ws_1', path: '/home/dev/shop', name: 'shop', missing: false, running: 1, total: 2, stack: false };
const enc = new TextEncoder();

let output = '';
for (let i = 1; i <= 800; i++) output += `\x1b[32mok\x1b[0m line ${i} \x1b[1;31mERR\x1b[0m\n`;
let ticker: ProcessRecord = record({ id: 'proc_2026-11-25T1626_aaaaaa', workspaceId: WS.id, title: 'ticker', command: 'node ticker.js', startedAt: '2026-11-25T16:26:00Z' });
const old = record({ id: 'proc_2026-11-25T1500_bbbbbb', workspaceId: WS.id, title: 'old', command: 'npm test', status: 'error', exitCode: 1, startedAt: '2026-11-25T15:00:00Z' });

const calls: Record<string, number> = {};
const takePortArgs: Record<string, unknown>[] = [];
const inFlight: Record<string, number> = {};
const maxInFlight: Record<string, number> = {};
let channel: { id: number } | null = null;
let frameIndex = 0;

function linesBefore(end: number | null, n: number): LineChunk {
  return chunkBefore(enc.encode(output), end, n);
}

async function handle(cmd: string, args: Record<string, unknown>): Promise<unknown> {
  // Answers take a while, as they do through the real IPC.
  await new Promise((r) => setTimeout(r, 5));
  switch (cmd) {
    case 'list_workspaces':
      return [WS];
    case 'take_requested_workspace':
      return null;
    case 'list_processes':
      return [ticker, old];
    case 'recent_commands':
      return ['node ticker.js'];
    case 'suggestions':
      return [{ source: 'package.json', name: 'dev', command: 'npm run dev' }];
    case 'lines_before':
      return linesBefore(args.endOffset as number | null, args.lines as number);
    case 'follow_output': {
      channel = args.onFrame as { id: number };
      // What was written since `fromOffset` comes first, as the real stream does.
      const bytes = enc.encode(output);
      const from = args.fromOffset as number;
      if (from < bytes.length) sendFrame(dataFrame(bytes.subarray(from), from));
      return 1;
    }
    case 'unfollow_output':
    case 'ack_output':
      return null;
    case 'read_output':
      return { id: args.id, content: 'ok line 1\n', truncated: true, sizeBytes: 10, droppedBytes: 0, startOffset: 0, endOffset: 10 };
    case 'grep_output':
      return { id: args.id, lines: [{ lineNumber: 1, offset: 0, text: 'ok line 1', matches: [[0, 2]] }], matchingLines: 1, truncated: false, sizeBytes: 10, droppedBytes: 0 };
    case 'listening_ports':
      return [{ port: 3000, address: '0.0.0.0', pid: 1234 }];
    case 'process_usage':
      return { [ticker.id]: { cpuPercent: 4.25, rssBytes: 48 * 1024 * 1024 } };
    case 'get_prefs':
      return { quitBehavior: 'ask', notifications: true, loginShellEnv: true, colorEnv: true, toldAboutTray: false, processSort: 'started' };
    case 'port_conflict':
      return {
        port: 3000,
        portSource: 'command',
        holder: { port: 3000, address: '::', uid: 1000, pid: 99, command: 'node ticker.js' },
        process: { folder: WS.path, id: ticker.id, title: 'ticker', sameWorkspace: true },
        message: 'Port 3000 (from the command line) is held by ticker (pid 99) in this workspace',
      };
    case 'take_port':
      takePortArgs.push(args);
      return record({ id: 'proc_2026-11-25T1700_cccccc', workspaceId: WS.id, title: 'old', command: 'npm test', startedAt: '2026-11-25T17:00:00Z' });
    default:
      throw { kind: 'workspace', message: `unexpected ${cmd}` };
  }
}

function sendFrame(frame: OutputFrame) {
  if (!channel) return;
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } }).__TAURI_INTERNALS__;
  internals.runCallback(channel.id, { index: frameIndex++, message: frame });
}

/** What the real backend does while the process prints: a line, the size event, the list. */
async function printLine(i: number) {
  const text = `\x1b[32mok\x1b[0m line ${800 + i} \x1b[1;31mERR\x1b[0m\n`;
  const offset = enc.encode(output).length;
  output += text;
  sendFrame(textFrame(text, offset));
  ticker = { ...ticker, outputSizeBytes: offset + enc.encode(text).length };
  await emit('procdeck://process', { workspaceId: WS.id, event: { type: 'updated', record: ticker } } satisfies ProcessEvent);
  if (i % 5 === 0) await emit('procdeck://workspaces', [{ ...WS }]);
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for what must happen far longer than it takes on an idle machine: a loaded one never fails by timing. */
const PATIENCE = { timeout: 30_000, interval: 10 };
/** Per test: a loaded machine may take seconds just to import and compile the app. */
const TEST_TIMEOUT = 120_000;
let component: ReturnType<typeof mount> | null = null;

beforeAll(() => {
  // The app's periodic timers (the ports poll, the clock) fire only when a test advances them,
  // so what a test counts does not depend on how long the machine takes to get there.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  installDomStubs();
  mockIPC(
    async (cmd, args) => {
      calls[cmd] = (calls[cmd] ?? 0) + 1;
      inFlight[cmd] = (inFlight[cmd] ?? 0) + 1;
      maxInFlight[cmd] = Math.max(maxInFlight[cmd] ?? 0, inFlight[cmd]);
      try {
        return await handle(cmd, (args ?? {}) as Record<string, unknown>);
      } finally {
        inFlight[cmd]--;
      }
    },
    { shouldMockEvents: true },
  );
});

afterAll(() => {
  if (component) unmount(component);
  clearMocks();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('App against a process already printing', () => {
  it('lists once, opens the live view with one lines_before, and asks nothing more as output streams', async () => {
    const { default: App } = await import('./App.svelte');
    component = mount(App, { target: document.body });
    flushSync();

    await vi.waitFor(() => expect(document.querySelector('[data-testid="process-row"]')).not.toBeNull(), PATIENCE);
    // The list left its loading state.
    expect(document.querySelectorAll('.skel').length).toBe(0);
    const rows = [...document.querySelectorAll<HTMLElement>('[data-testid="process-row"]')];
    expect(rows.map((r) => [r.dataset.processId, r.dataset.status])).toEqual([
      [ticker.id, 'running'],
      [old.id, 'error'],
    ]);
    await vi.waitFor(() => expect(calls.follow_output).toBe(1), PATIENCE);
    await vi.waitFor(() => expect(document.querySelectorAll('[data-testid="log-line"]').length).toBeGreaterThan(0), PATIENCE);

    for (let i = 1; i <= 60; i++) {
      await printLine(i);
      if (i % 10 === 0) await wait(20);
    }
    const liveText = () => document.querySelector('[data-testid="live-view"]')?.textContent ?? '';
    await vi.waitFor(() => {
      flushSync();
      expect(liveText()).toContain('560 lines loaded');
    }, PATIENCE);

    expect(calls.list_workspaces).toBe(1);
    expect(calls.list_processes).toBe(1);
    expect(calls.lines_before).toBe(1);
    expect(calls.follow_output).toBe(1);
    expect(calls.recent_commands).toBe(1);
    expect(calls.suggestions).toBe(1);
    // Asked once for the running row and once for the failed one; the poll's timer has not fired.
    expect(calls.listening_ports).toBe(1);
    expect(calls.port_conflict).toBe(1);
    // What the running row costs, asked once so far; the sort order read once from the prefs.
    expect(calls.process_usage).toBe(1);
    expect(calls.get_prefs).toBe(1);
    expect(calls.read_output ?? 0).toBe(0);
    expect(calls.grep_output ?? 0).toBe(0);
    for (const n of Object.values(maxInFlight)) expect(n).toBe(1);

    // The streamed lines are there, and the row shows its port and the failed one its conflict.
    // (jsdom has no layout: the virtual list shows its first rows, the count shows the rest.)
    const text = liveText();
    expect(text).toContain('ok line 301 ERR');
    expect(text).not.toContain('\x1b[');
    expect(document.querySelector('[data-testid="port-link"]')?.textContent).toBe(':3000');
    expect(document.querySelector('[data-testid="cpu"]')?.textContent).toBe('4.3%');
    expect(document.querySelector('[data-testid="memory"]')?.textContent).toBe('48.0 MiB');
    expect(document.querySelector('[data-testid="port-conflict"]')?.textContent).toContain('Port 3000 (from the command line) is held by ticker (pid 99) in this workspace');
    expect(document.querySelector('[data-testid="take-port"]')?.textContent).toBe('Stop ticker and run this again');
    expect(document.querySelector('[data-testid="suggestion"]')?.getAttribute('data-name')).toBe('dev');

    // The poll's timer asks again for the running row only.
    vi.advanceTimersByTime(PORT_REFRESH_MS);
    await vi.waitFor(() => expect(calls.listening_ports).toBe(2), PATIENCE);
    expect(calls.port_conflict).toBe(1);
    // Usage is sampled every 2 s (the clock above went 3 s on: one tick).
    expect(USAGE_REFRESH_MS).toBe(2000);
    await vi.waitFor(() => expect(calls.process_usage).toBe(2), PATIENCE);
  }, TEST_TIMEOUT);

  it('reads the tail once and greps once (after typing), whatever streams meanwhile', async () => {
    const click = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`)!.click();
    click('tab-tail');
    await vi.waitFor(() => expect(document.querySelector('[data-testid="read-line"]')).not.toBeNull(), PATIENCE);
    for (let i = 61; i <= 80; i++) await printLine(i);
    await wait(50);
    expect(calls.read_output).toBe(1);

    click('tab-grep');
    flushSync();
    const input = document.querySelector<HTMLInputElement>('[data-testid="grep-input"]')!;
    input.value = 'ok';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await vi.waitFor(() => expect(document.querySelector('[data-testid="grep-line"]')).not.toBeNull(), PATIENCE);
    for (let i = 81; i <= 100; i++) await printLine(i);
    await wait(400); // past the debounce
    expect(calls.grep_output).toBe(1);
    expect(document.querySelector('[data-testid="grep-count"]')?.textContent).toBe('1');
    expect(calls.lines_before).toBe(1);
    expect(calls.list_processes).toBe(1);
  }, TEST_TIMEOUT);

  it('selects the process a clicked notification is about', async () => {
    const selected = () => document.querySelector<HTMLElement>('[data-testid="process-row"][aria-selected="true"]')?.dataset.processId;
    expect(selected()).toBe(ticker.id);
    await emit('procdeck://reveal', { workspaceId: WS.id, id: old.id });
    await vi.waitFor(() => expect(selected()).toBe(old.id), PATIENCE);
    expect(calls.list_processes).toBe(1);
  }, TEST_TIMEOUT);

  it('stops the holder of a failed row\'s port and runs it again with one click', async () => {
    const button = document.querySelector<HTMLButtonElement>('[data-testid="take-port"]');
    expect(button).not.toBeNull();
    button!.click();
    await vi.waitFor(() => expect(takePortArgs).toHaveLength(1), PATIENCE);
    expect(takePortArgs[0]).toEqual({ workspaceId: WS.id, id: old.id, consent: null });
    expect(calls.restart_process ?? 0).toBe(0);
  }, TEST_TIMEOUT);
});
