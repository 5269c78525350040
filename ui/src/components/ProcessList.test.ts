/**
 * One row per service, in the DOM: the runs of one service (records sharing the engine's
 * `service` key) are one row showing the latest run, with a "N runs" control that lists the
 * earlier runs under it; an earlier run can be selected (its output shows in the pane), the
 * keyboard moves over the rows on screen, and a restart leaves one row whose new run is selected.
 */

import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { flushSync, mount, unmount } from 'svelte';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Prefs } from '../bindings/Prefs';
import type { ProcessRecord } from '../bindings/ProcessRecord';
import type { Usage } from '../bindings/Usage';
import type { WorkspaceInfo } from '../bindings/WorkspaceInfo';
import { formatStart } from '../lib/format';
import { app } from '../lib/state.svelte';
import { linesBefore } from '../mock/outputBytes';
import { click, installDomStubs } from '../test/dom';
import { record } from '../test/records';
import OutputPane from './OutputPane.svelte';
import ProcessList from './ProcessList.svelte';

const WS: WorkspaceInfo = { id: '/home/dev/shop', path: '/home/dev/shop', name: 'shop', missing: false, running: 1, total: 4, stack: false };
const run = (id: string, title: string, start: string, over: Partial<ProcessRecord> = {}) =>
  record({ id: `proc_2026-11-25T${start.replace(':', '')}_${id}`, workspaceId: WS.id, cwd: WS.path, service: `${WS.path}\u0000${title}`, title, command: `npm run ${title}`, startedAt: `2026-11-25T${start}:00Z`, ...over });
const ended = (stoppedAt: string, over: Partial<ProcessRecord>): Partial<ProcessRecord> => ({ status: 'stopped', pid: null, stoppedAt: `2026-11-25T${stoppedAt}Z`, ...over });

const dev1 = run('aaaaa1', 'dev', '16:10', ended('16:10:30', { status: 'error', exitCode: 1 }));
const dev2 = run('aaaaa2', 'dev', '16:20', ended('16:22:05', { signal: 15, stopRequested: true }));
const dev3 = run('aaaaa3', 'dev', '16:30');
const lint = run('bbbbbb', 'lint', '16:25', ended('16:25:09', { exitCode: 0 }));
const OUTPUT: Record<string, string> = {
  [dev1.id]: 'dev1: Cannot find module vite\n',
  [dev2.id]: 'dev2: ready in 400 ms\n',
  [dev3.id]: 'dev3: ready in 380 ms\n',
  [lint.id]: 'lint: 0 problems\n',
};
const enc = new TextEncoder();

const api = run('dddddd', 'api', '16:05');
const MIB = 1024 * 1024;
/** What process_usage answers, for the processes it is asked about. */
const COSTS: Record<string, Usage> = {
  [dev3.id]: { cpuPercent: 2.5, rssBytes: 150 * MIB },
  [api.id]: { cpuPercent: 50, rssBytes: 20 * MIB },
};
let prefs: Prefs = { quitBehavior: 'ask', notifications: true, loginShellEnv: true, colorEnv: true, toldAboutTray: false, processSort: 'started' };

const calls: Array<{ cmd: string; id: unknown }> = [];
let restarted = 0;
const mounted: Array<ReturnType<typeof mount>> = [];

async function handle(cmd: string, args: Record<string, unknown>): Promise<unknown> {
  calls.push({ cmd, id: args.id });
  const current = app.processes.find((p) => p.id === args.id);
  switch (cmd) {
    case 'listening_ports':
      return [];
    case 'port_conflict':
      return null;
    case 'process_usage':
      return Object.fromEntries((args.ids as string[]).filter((id) => COSTS[id]).map((id) => [id, COSTS[id]]));
    case 'get_prefs':
      return { ...prefs };
    case 'set_prefs':
      prefs = { ...(args.value as Prefs) };
      return { ...prefs };
    case 'restart_process':
      // The engine stops the run (its event says so), then answers with the new run: the same
      // spec, so the same service.
      restarted++;
      if (current?.status === 'running') app.applyRecord({ ...current, status: 'stopped', pid: null, signal: 15, stopRequested: true, stoppedAt: '2026-11-25T17:00:00Z' });
      return { ...current, id: `proc_2026-11-25T1700_ccccc${restarted}`, status: 'running', pid: 2000 + restarted, startedAt: `2026-11-25T17:0${restarted}:00Z`, stoppedAt: null, exitCode: null, signal: null };
    case 'remove_process':
      return null;
    case 'lines_before':
      return linesBefore(enc.encode(OUTPUT[String(args.id)] ?? ''), (args.endOffset as number | null) ?? null, args.lines as number);
    case 'follow_output':
      return 1;
    case 'unfollow_output':
    case 'ack_output':
      return null;
    default:
      throw { kind: 'workspace', message: `unexpected ${cmd}` };
  }
}

const rows = () => [...document.querySelectorAll<HTMLElement>('[data-testid="process-row"]')];
const runRows = () => [...document.querySelectorAll<HTMLElement>('[data-testid="run-row"]')];
const rowOf = (title: string) => rows().find((r) => r.querySelector('[data-testid="process-title"]')?.textContent === title)!;
const toggleOf = (title: string) => rowOf(title).querySelector<HTMLButtonElement>('[data-testid="runs-toggle"]');
/** Every option of the listbox, in order: service rows and earlier-run rows. */
const options = () => [...document.querySelectorAll<HTMLElement>('[role="option"]')].map((o) => o.dataset.processId ?? o.dataset.runId);
const key = (k: string) => {
  document.querySelector('[role="listbox"]')!.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
  flushSync();
};

beforeAll(() => {
  installDomStubs();
  mockIPC((cmd, args) => handle(cmd, (args ?? {}) as Record<string, unknown>));
});

afterEach(() => {
  while (mounted.length > 0) unmount(mounted.pop()!);
  document.body.replaceChildren();
  calls.length = 0;
  app.processSort = 'started';
  app.usage = {};
});

afterAll(() => clearMocks());

function show(withPane: boolean, selected: ProcessRecord | null = dev3, processes = [dev3, lint, dev2, dev1]) {
  app.workspaces = [WS];
  app.selectedWorkspaceId = WS.id;
  app.expanded = new Set();
  app.processes = processes;
  app.selectedProcessId = selected?.id ?? null;
  const list = document.createElement('div');
  document.body.append(list);
  mounted.push(mount(ProcessList, { target: list }));
  if (withPane) {
    const pane = document.createElement('div');
    document.body.append(pane);
    mounted.push(mount(OutputPane, { target: pane }));
  }
  flushSync();
}

describe('one row per service', () => {
  it('shows each service once, as its latest run, with how many runs it has', () => {
    show(false);
    expect(rows().map((r) => [r.dataset.processId, r.dataset.status])).toEqual([
      [dev3.id, 'running'],
      [lint.id, 'stopped'],
    ]);
    expect(toggleOf('dev')?.textContent?.trim()).toBe('3 runs');
    expect(toggleOf('dev')?.getAttribute('aria-expanded')).toBe('false');
    expect(toggleOf('lint')).toBeNull();
    expect(runRows()).toEqual([]);
    expect(document.querySelector('[data-testid="process-counts"]')?.textContent?.replace(/\s+/g, ' ').trim()).toBe('1 running · 2 services · 4 runs');
  });

  it('expands the earlier runs under their row, with start, duration and how each ended, and collapses them', () => {
    show(false);
    click(toggleOf('dev'));
    expect(toggleOf('dev')?.getAttribute('aria-expanded')).toBe('true');
    expect(options()).toEqual([dev3.id, dev2.id, dev1.id, lint.id]);
    const [second, first] = runRows();
    expect(second.dataset.status).toBe('stopped');
    expect(second.textContent).toContain('Stopped · SIGTERM');
    expect(second.textContent).toContain('Run 2');
    expect(second.textContent).toContain(`started ${formatStart(dev2.startedAt, new Date(app.now))}`);
    expect(second.querySelector('[data-testid="run-duration"]')?.textContent).toBe('2m 05s');
    expect(first.dataset.status).toBe('error');
    expect(first.textContent).toContain('Error · exit 1');
    expect(first.textContent).toContain('Run 1');
    expect(first.querySelector('[data-testid="run-duration"]')?.textContent).toBe('30s');
    // Earlier runs are not services: no ports, no conflicts, no second title.
    expect(rows().length).toBe(2);

    click(toggleOf('dev'));
    expect(runRows()).toEqual([]);
    expect(options()).toEqual([dev3.id, lint.id]);
  });

  it('selects an earlier run, and the pane shows its output; collapsing hands the selection back to the row', async () => {
    show(true);
    await vi.waitFor(() => expect(document.querySelector('[data-testid="live-view"]')?.textContent).toContain('dev3: ready in 380 ms'));
    click(toggleOf('dev'));
    click(runRows().find((r) => r.dataset.runId === dev1.id));
    expect(app.selectedProcessId).toBe(dev1.id);
    expect(runRows().find((r) => r.dataset.runId === dev1.id)?.getAttribute('aria-selected')).toBe('true');
    expect(rowOf('dev').getAttribute('aria-selected')).toBe('false');
    await vi.waitFor(() => expect(document.querySelector('[data-testid="live-view"]')?.textContent).toContain('dev1: Cannot find module vite'));
    expect(document.querySelector('header.head')?.textContent).toContain('exit 1');
    expect(calls.some((c) => c.cmd === 'lines_before' && c.id === dev1.id)).toBe(true);

    click(toggleOf('dev'));
    expect(app.selectedProcessId).toBe(dev3.id);
    await vi.waitFor(() => expect(document.querySelector('[data-testid="live-view"]')?.textContent).toContain('dev3: ready in 380 ms'));
  });

  it('moves the keyboard selection over the rows on screen only', () => {
    show(false);
    key('j');
    expect(app.selectedProcessId).toBe(lint.id);
    key('j');
    expect(app.selectedProcessId).toBe(lint.id);
    key('k');
    expect(app.selectedProcessId).toBe(dev3.id);
    // `e` opens the selected service's runs; the keys then go through them.
    key('e');
    expect(runRows().length).toBe(2);
    key('ArrowDown');
    expect(app.selectedProcessId).toBe(dev2.id);
    key('j');
    expect(app.selectedProcessId).toBe(dev1.id);
    expect(document.querySelector('[role="listbox"]')?.getAttribute('aria-activedescendant')).toBe(`proc-${dev1.id}`);
    key('j');
    expect(app.selectedProcessId).toBe(lint.id);
    key('Home');
    expect(app.selectedProcessId).toBe(dev3.id);
    key('End');
    expect(app.selectedProcessId).toBe(lint.id);
  });

  it('keeps one row through a restart: the new run is the latest and stays selected', async () => {
    show(false);
    restarted = 0;
    click(rowOf('dev').querySelector('[data-testid="restart-button"]'));
    await vi.waitFor(() => expect(app.selectedProcessId).toBe('proc_2026-11-25T1700_ccccc1'));
    flushSync();
    expect(rows().map((r) => r.dataset.processId)).toEqual(['proc_2026-11-25T1700_ccccc1', lint.id]);
    expect(rowOf('dev').getAttribute('aria-selected')).toBe('true');
    expect(rowOf('dev').dataset.status).toBe('running');
    expect(toggleOf('dev')?.textContent?.trim()).toBe('4 runs');

    // Restarting the stopped service: again one row.
    click(rowOf('lint').querySelector('[data-testid="restart-button"]'));
    await vi.waitFor(() => expect(app.selectedProcessId).toBe('proc_2026-11-25T1700_ccccc2'));
    flushSync();
    expect(rows().map((r) => r.dataset.processId)).toEqual(['proc_2026-11-25T1700_ccccc2', 'proc_2026-11-25T1700_ccccc1']);
    expect(toggleOf('lint')?.textContent?.trim()).toBe('2 runs');
    expect(document.querySelector('[data-testid="process-counts"]')?.textContent?.replace(/\s+/g, ' ').trim()).toBe('2 running · 2 services · 6 runs');
  });

  it('asks for the ports of a restarted service’s new run once its row is on screen', async () => {
    // An observer that sees every row it is given as on screen.
    const seen: string[] = [];
    globalThis.IntersectionObserver = class {
      constructor(private readonly cb: IntersectionObserverCallback) {}
      observe(el: Element) {
        seen.push((el as HTMLElement).dataset.processId ?? '');
        queueMicrotask(() => this.cb([{ target: el, isIntersecting: true } as IntersectionObserverEntry], this as unknown as IntersectionObserver));
      }
      unobserve() {}
      disconnect() {}
    } as unknown as typeof IntersectionObserver;
    try {
      show(false);
      await vi.waitFor(() => expect(calls.some((c) => c.cmd === 'listening_ports' && c.id === dev3.id)).toBe(true));
      restarted = 0;
      click(rowOf('dev').querySelector('[data-testid="restart-button"]'));
      await vi.waitFor(() => expect(calls.some((c) => c.cmd === 'listening_ports' && c.id === 'proc_2026-11-25T1700_ccccc1')).toBe(true));
      expect(seen).toContain('proc_2026-11-25T1700_ccccc1');
    } finally {
      delete (globalThis as { IntersectionObserver?: unknown }).IntersectionObserver;
    }
  });

  it('follows its row when a newer run of the selected service arrives from elsewhere, and shows an earlier one still running', () => {
    show(false);
    // Started again from a terminal while the selected run still runs.
    const dev4 = run('aaaaa4', 'dev', '16:40');
    app.applyRecord(dev4);
    flushSync();
    expect(app.selectedProcessId).toBe(dev4.id);
    expect(rows().map((r) => r.dataset.processId)).toEqual([dev4.id, lint.id]);
    expect(toggleOf('dev')?.textContent?.replace(/\s+/g, ' ').trim()).toBe('4 runs · 1 earlier running');

    // A selected earlier run stays selected when its service gets a newer run.
    click(toggleOf('dev'));
    click(runRows().find((r) => r.dataset.runId === dev1.id));
    app.applyRecord(run('aaaaa5', 'dev', '16:50'));
    flushSync();
    expect(app.selectedProcessId).toBe(dev1.id);
  });

  it('after removing a selected earlier run, selects its service’s row', async () => {
    show(true);
    click(toggleOf('dev'));
    click(runRows().find((r) => r.dataset.runId === dev2.id));
    click(document.querySelector('[data-testid="pane-remove"]'));
    await vi.waitFor(() => expect(app.selectedProcessId).toBe(dev3.id));
    flushSync();
    expect(calls.filter((c) => c.cmd === 'remove_process').map((c) => c.id)).toEqual([dev2.id]);
    expect(runRows().map((r) => r.dataset.runId)).toEqual([dev1.id]);
    expect(toggleOf('dev')?.textContent?.trim()).toBe('2 runs');
  });

  it('opens the service of an earlier run a notification is about', async () => {
    show(false);
    await app.reveal(WS.id, dev1.id);
    flushSync();
    expect(toggleOf('dev')?.getAttribute('aria-expanded')).toBe('true');
    expect(runRows().find((r) => r.dataset.runId === dev1.id)?.getAttribute('aria-selected')).toBe('true');
  });

  it('renders 1000 runs of 100 services as 100 rows', () => {
    const many: ProcessRecord[] = [];
    for (let i = 0; i < 1000; i++) {
      const t = new Date(Date.UTC(2026, 10, 25, 12, 0, 1000 - i)).toISOString();
      many.push(record({ id: `proc_2026-11-25T1200_${String(i).padStart(6, '0')}`, workspaceId: WS.id, title: `svc ${i % 100}`, service: `${WS.path}\u0000svc ${i % 100}`, status: 'stopped', pid: null, exitCode: 0, startedAt: t }));
    }
    show(false);
    app.processes = many;
    flushSync();
    expect(rows().length).toBe(100);
    expect(new Set(rows().map((r) => r.querySelector('[data-testid="runs-toggle"]')?.textContent?.trim()))).toEqual(new Set(['10 runs']));
    expect(document.querySelector('[data-testid="process-counts"]')?.textContent?.replace(/\s+/g, ' ').trim()).toBe('0 running · 100 services · 1000 runs');
  });
});

describe('what each process costs', () => {
  const titles = () => rows().map((r) => r.querySelector('[data-testid="process-title"]')?.textContent);
  const cell = (title: string, what: 'cpu' | 'memory') => rowOf(title).querySelector(`[data-testid="${what}"]`)?.textContent;

  it('shows CPU and memory of each running row, asked in one request', async () => {
    show(false, dev3, [dev3, lint, dev2, dev1, api]);
    await vi.waitFor(() => {
      flushSync();
      expect(cell('dev', 'cpu')).toBe('2.5%');
    });
    expect(cell('dev', 'memory')).toBe('150 MiB');
    expect(cell('api', 'cpu')).toBe('50.0%');
    expect(cell('api', 'memory')).toBe('20.0 MiB');
    expect(cell('lint', 'cpu')).toBe('');
    expect(cell('lint', 'memory')).toBe('');
    expect(calls.filter((c) => c.cmd === 'process_usage')).toHaveLength(1);
  });

  it('sorts by CPU or memory from the menu or the headers, and back, and remembers the choice', async () => {
    show(false, dev3, [dev3, lint, dev2, dev1, api]);
    await vi.waitFor(() => {
      flushSync();
      expect(cell('api', 'cpu')).toBe('50.0%');
    });
    expect(titles()).toEqual(['dev', 'lint', 'api']);
    const select = document.querySelector<HTMLSelectElement>('[data-testid="sort-select"]')!;
    select.value = 'cpu';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    expect(titles()).toEqual(['api', 'dev', 'lint']);
    // The keyboard follows the order on screen.
    app.selectedProcessId = api.id;
    key('ArrowDown');
    expect(app.selectedProcessId).toBe(dev3.id);
    await vi.waitFor(() => expect(prefs.processSort).toBe('cpu'));

    click(document.querySelector('[data-testid="sort-memory"]'));
    expect(titles()).toEqual(['dev', 'api', 'lint']);
    expect(select.value).toBe('memory');
    click(document.querySelector('[data-testid="sort-memory"]'));
    expect(titles()).toEqual(['dev', 'lint', 'api']);
    await vi.waitFor(() => expect(prefs.processSort).toBe('started'));
  });
});
