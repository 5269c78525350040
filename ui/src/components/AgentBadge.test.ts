/**
 * The agent badge in the process list and the output pane's header, in the DOM: rows an agent
 * started carry it with the agent's friendly name and its raw name in the tooltip, rows of the
 * CLI, the app and older records (no `startedBy`) do not, a name holding markup stays text, and
 * an agent's rows are stopped, restarted and removed like any other.
 */

import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { flushSync, mount, unmount } from 'svelte';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ProcessRecord } from '../bindings/ProcessRecord';
import type { WorkspaceInfo } from '../bindings/WorkspaceInfo';
import { app } from '../lib/state.svelte';
import { linesBefore } from '../mock/outputBytes';
import { click, installDomStubs } from '../test/dom';
import { record } from '../test/records';
import OutputPane from './OutputPane.svelte';
import ProcessList from './ProcessList.svelte';

const WS: WorkspaceInfo = { id: '/home/dev/shop', path: '/home/dev/shop', name: 'shop', missing: false, running: 2, total: 5, stack: false };
const rec = (id: string, title: string, over: Partial<ProcessRecord>) => record({ id: `proc_2026-11-25T16${id}_aaaaaa`, workspaceId: WS.id, title, command: `npm run ${title}`, ...over });

const claude = rec('05', 'storybook', { startedBy: { kind: 'agent', client: 'claude-code' } });
const sneaky = rec('04', 'lint', { status: 'stopped', exitCode: 0, pid: null, startedBy: { kind: 'agent', client: '<b>my-bot</b>' } });
const cli = rec('03', 'watch', { startedBy: { kind: 'cli' } });
const fromApp = rec('02', 'dev', { startedBy: { kind: 'app' } });
const legacy = rec('01', 'build', { status: 'stopped', exitCode: 0, pid: null, startedBy: null });

const calls: Array<{ cmd: string; id: unknown }> = [];
let component: ReturnType<typeof mount> | null = null;

async function handle(cmd: string, args: Record<string, unknown>): Promise<unknown> {
  calls.push({ cmd, id: args.id });
  const current = app.processes.find((p) => p.id === args.id);
  switch (cmd) {
    case 'listening_ports':
      return [];
    case 'port_conflict':
      return null;
    case 'stop_process':
      return { ...current, status: 'stopped', pid: null, stopRequested: true, stoppedAt: '2026-11-25T17:00:00Z' };
    case 'restart_process':
      // The engine runs the whole spec again, who started it included.
      return { ...current, id: 'proc_2026-11-25T1700_bbbbbb', status: 'running', startedAt: '2026-11-25T17:00:00Z' };
    case 'remove_process':
      return null;
    case 'lines_before':
      return linesBefore(new Uint8Array(), null, args.lines as number);
    case 'follow_output':
      return 1;
    case 'unfollow_output':
    case 'ack_output':
      return null;
    default:
      throw { kind: 'workspace', message: `unexpected ${cmd}` };
  }
}

const row = (r: ProcessRecord) => document.querySelector<HTMLElement>(`[data-testid="process-row"][data-process-id="${r.id}"]`)!;
const badgeOf = (el: Element) => el.querySelector<HTMLElement>('[data-testid="agent-badge"]');

beforeAll(() => {
  installDomStubs();
  mockIPC((cmd, args) => handle(cmd, (args ?? {}) as Record<string, unknown>));
});

afterEach(() => {
  if (component) unmount(component);
  component = null;
  document.body.replaceChildren();
});

afterAll(() => clearMocks());

function show(Component: typeof ProcessList | typeof OutputPane, selected: ProcessRecord | null) {
  app.workspaces = [WS];
  app.selectedWorkspaceId = WS.id;
  app.processes = [claude, sneaky, cli, fromApp, legacy];
  app.selectedProcessId = selected?.id ?? null;
  component = mount(Component, { target: document.body });
  flushSync();
}

describe('the agent badge', () => {
  it('marks the rows an agent started, and only those', () => {
    show(ProcessList, null);
    expect(document.querySelectorAll('[data-testid="process-row"]').length).toBe(5);

    const badge = badgeOf(row(claude))!;
    expect(badge).not.toBeNull();
    expect(badge.textContent?.trim()).toBe('Claude Code');
    expect(badge.title).toBe('Started by the coding agent claude-code through procdeck mcp');
    expect(badge.querySelector('svg')).not.toBeNull();

    // A name the agent made up is shown as given, as text.
    const other = badgeOf(row(sneaky))!;
    expect(other.textContent?.trim()).toBe('<b>my-bot</b>');
    expect(other.querySelector('b')).toBeNull();
    expect(other.title).toBe('Started by the coding agent <b>my-bot</b> through procdeck mcp');

    for (const r of [cli, fromApp, legacy]) expect(badgeOf(row(r)), r.title).toBeNull();
    expect(document.querySelectorAll('[data-testid="agent-badge"]').length).toBe(2);
  });

  it('leaves an agent’s rows to the user: stop, restart, remove', async () => {
    show(ProcessList, claude);
    calls.length = 0;

    click(row(claude).querySelector('[data-testid="stop-button"]'));
    await vi.waitFor(() => expect(row(claude).dataset.status).toBe('stopped'));
    expect(calls.filter((c) => c.cmd === 'stop_process')).toEqual([{ cmd: 'stop_process', id: claude.id }]);

    click(row(claude).querySelector('[data-testid="restart-button"]'));
    await vi.waitFor(() => expect(app.selectedProcessId).toBe('proc_2026-11-25T1700_bbbbbb'));
    flushSync();
    const again = document.querySelector('[data-process-id="proc_2026-11-25T1700_bbbbbb"]')!;
    expect(badgeOf(again)?.textContent?.trim()).toBe('Claude Code');

    click(row(sneaky).querySelector('[data-testid="remove-button"]'));
    await vi.waitFor(() => expect(document.querySelector(`[data-process-id="${sneaky.id}"]`)).toBeNull());
    expect(calls.filter((c) => !['listening_ports', 'port_conflict', 'process_usage'].includes(c.cmd)).map((c) => c.cmd)).toEqual(['stop_process', 'restart_process', 'remove_process']);
  });

  it('is in the output pane’s header for a process an agent started', () => {
    show(OutputPane, claude);
    const head = document.querySelector('header.head')!;
    expect(badgeOf(head)?.textContent?.trim()).toBe('Claude Code');
    expect(badgeOf(head)?.title).toBe('Started by the coding agent claude-code through procdeck mcp');
    unmount(component!);

    show(OutputPane, cli);
    expect(document.querySelector('header.head')).not.toBeNull();
    expect(badgeOf(document.querySelector('header.head')!)).toBeNull();
  });
});
