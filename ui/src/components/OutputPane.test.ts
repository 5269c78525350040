/**
 * The output pane's header carries the shown process's controls: Stop while it runs (while it is
 * stopping, the countdown and Kill now), Restart or Run again, Remove; they act on the process the
 * pane shows, an earlier run of a service included, through the app's own actions.
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

const WS: WorkspaceInfo = { id: '/home/dev/shop', path: '/home/dev/shop', name: 'shop', missing: false, running: 2, total: 3, stack: false };
const run = (id: string, start: string, over: Partial<ProcessRecord> = {}) =>
  record({ id: `proc_2026-11-25T${start}_${id}`, workspaceId: WS.id, cwd: WS.path, service: `${WS.path}\u0000web`, title: 'web', command: 'node server.js', startedAt: `2026-11-25T${start.slice(0, 2)}:${start.slice(2)}:00Z`, ...over });

const latest = run('aaaaa3', '1630', { pid: 301 });
// Started again while it still ran: the earlier run runs too.
const earlier = run('aaaaa2', '1620', { pid: 201 });
const oldest = run('aaaaa1', '1610', { status: 'error', pid: null, exitCode: 1, stoppedAt: '2026-11-25T16:10:05Z' });

const calls: Array<{ cmd: string; id: unknown }> = [];
let failStop = false;
let mounted: ReturnType<typeof mount> | null = null;

async function handle(cmd: string, args: Record<string, unknown>): Promise<unknown> {
  calls.push({ cmd, id: args.id });
  const current = app.processes.find((p) => p.id === args.id);
  switch (cmd) {
    case 'stop_process':
      if (failStop) throw { kind: 'workspace', message: `could not signal the supervisor of ${String(args.id)}` };
      return { ...current, status: 'stopped', pid: null, signal: 15, stopRequested: true, stoppingSince: null, stoppedAt: '2026-11-25T17:00:00Z' };
    case 'kill_process':
      return { ...current, status: 'stopped', pid: null, signal: 9, stopRequested: true, stoppingSince: null, stoppedAt: '2026-11-25T17:00:00Z' };
    case 'restart_process':
      return { ...current, id: 'proc_2026-11-25T1700_bbbbbb', status: 'running', pid: 400, startedAt: '2026-11-25T17:00:00Z', stoppedAt: null, exitCode: null, signal: null };
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

const head = () => document.querySelector<HTMLElement>('header.head')!;
const control = (id: string) => head().querySelector<HTMLButtonElement>(`[data-testid="${id}"]`);
const actions = () => calls.filter((c) => !['lines_before', 'follow_output', 'unfollow_output', 'ack_output'].includes(c.cmd));

beforeAll(() => {
  installDomStubs();
  mockIPC((cmd, args) => handle(cmd, (args ?? {}) as Record<string, unknown>));
});

afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = null;
  document.body.replaceChildren();
  calls.length = 0;
  failStop = false;
});

afterAll(() => clearMocks());

function show(selected: ProcessRecord, records: ProcessRecord[] = [latest, earlier, oldest]) {
  app.workspaces = [WS];
  app.selectedWorkspaceId = WS.id;
  app.processes = records;
  app.rowErrors = {};
  app.selectedProcessId = selected.id;
  mounted = mount(OutputPane, { target: document.body });
  flushSync();
}

describe('the output pane’s controls', () => {
  it('stops the process it shows, an earlier run of a service too, then offers to run it again', async () => {
    show(earlier);
    expect(head().querySelector('[data-testid="pane-run"]')?.textContent).toBe('run 2 of 3');
    expect(control('pane-stop')?.textContent?.trim()).toBe('Stop');
    expect(control('pane-restart')?.textContent?.trim()).toBe('Restart');
    expect(control('pane-remove')).not.toBeNull();
    expect(control('pane-kill')).toBeNull();

    click(control('pane-stop'));
    await vi.waitFor(() => expect(app.processes.find((p) => p.id === earlier.id)?.status).toBe('stopped'));
    flushSync();
    expect(actions()).toEqual([{ cmd: 'stop_process', id: earlier.id }]);
    // The latest run was left alone.
    expect(app.processes.find((p) => p.id === latest.id)?.status).toBe('running');
    expect(control('pane-stop')).toBeNull();
    expect(control('pane-restart')?.textContent?.trim()).toBe('Run again');
  });

  it('while stopping: the countdown and Kill now, nothing else', async () => {
    app.now = Date.parse('2026-11-25T16:40:00Z');
    show(latest, [{ ...latest, stoppingSince: '2026-11-25T16:39:58Z', stopGraceMs: 5000 }, oldest]);
    expect(head().querySelector('[data-testid="pane-stopping"]')?.textContent).toBe('Stopping · 3s');
    expect(control('pane-stop')).toBeNull();
    expect(control('pane-restart')).toBeNull();
    expect(control('pane-remove')).toBeNull();

    click(control('pane-kill'));
    await vi.waitFor(() => expect(app.processes.find((p) => p.id === latest.id)?.signal).toBe(9));
    flushSync();
    expect(actions()).toEqual([{ cmd: 'kill_process', id: latest.id }]);
    expect(control('pane-kill')).toBeNull();
    expect(control('pane-restart')?.textContent?.trim()).toBe('Run again');
  });

  it('runs an earlier run again: the new run is the service’s latest, selected and shown', async () => {
    show(oldest);
    expect(head().querySelector('[data-testid="pane-run"]')?.textContent).toBe('run 1 of 3');
    click(control('pane-restart'));
    await vi.waitFor(() => expect(app.selectedProcessId).toBe('proc_2026-11-25T1700_bbbbbb'));
    flushSync();
    // The new run is the latest: no "run n of m".
    expect(head().querySelector('[data-testid="pane-run"]')).toBeNull();
    expect(actions()).toEqual([{ cmd: 'restart_process', id: oldest.id }]);
    expect(app.services.map((s) => [s.latest.id, s.earlier.length])).toEqual([['proc_2026-11-25T1700_bbbbbb', 3]]);
    expect(control('pane-stop')).not.toBeNull();
  });

  it('removes what it shows, asking first while it runs', async () => {
    show(oldest);
    click(control('pane-remove'));
    await vi.waitFor(() => expect(app.processes.some((p) => p.id === oldest.id)).toBe(false));
    expect(actions()).toEqual([{ cmd: 'remove_process', id: oldest.id }]);

    unmount(mounted!);
    show(latest, [latest, earlier]);
    click(control('pane-remove'));
    expect(app.confirm?.confirmLabel).toBe('Stop and remove');
    app.confirm!.resolve({ ok: false, checked: false });
    await Promise.resolve();
    expect(actions()).toEqual([{ cmd: 'remove_process', id: oldest.id }]);
    click(control('pane-remove'));
    app.confirm!.resolve({ ok: true, checked: false });
    await vi.waitFor(() => expect(app.processes.map((p) => p.id)).toEqual([earlier.id]));
    expect(actions()).toEqual([
      { cmd: 'remove_process', id: oldest.id },
      { cmd: 'remove_process', id: latest.id },
    ]);
    // The service's remaining run takes the selection.
    expect(app.selectedProcessId).toBe(earlier.id);
  });

  it('shows why an action failed', async () => {
    failStop = true;
    show(latest);
    click(control('pane-stop'));
    await vi.waitFor(() => expect(head().querySelector('[data-testid="pane-error"]')?.textContent).toBe(`could not signal the supervisor of ${latest.id}`));
    expect(control('pane-stop')?.disabled).toBe(false);
  });
});
