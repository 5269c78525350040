import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProcessRecord } from '../bindings/ProcessRecord';
import type { Usage } from '../bindings/Usage';
import { record } from '../test/records';
import { groupServices } from './services';
import { formatCpu, sortServices, UsageWatcher } from './usage';

const all = () => true;
const use = (cpuPercent: number | null, rssBytes = 1000): Usage => ({ cpuPercent, rssBytes });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('UsageWatcher', () => {
  function setup(answer: (ids: string[]) => Record<string, Usage> = (ids) => Object.fromEntries(ids.map((id) => [id, use(1.5)]))) {
    const fetch = vi.fn(async (_ws: string, ids: string[]) => answer(ids));
    const w = new UsageWatcher(fetch, 2000);
    const changes = vi.fn();
    w.onChange = changes;
    return { w, fetch, changes };
  }

  it('asks at once for the running rows in one request, then every 2 s, and not on other updates', async () => {
    const { w, fetch, changes } = setup();
    const a = record({ id: 'a' });
    const b = record({ id: 'b' });
    const done = record({ id: 'c', status: 'stopped' });
    w.update([a, b, done], all);
    expect(fetch.mock.calls).toEqual([['ws1', ['a', 'b']]]);
    await vi.advanceTimersByTimeAsync(0);
    expect(w.usage.get('a')).toEqual(use(1.5));
    expect(changes).toHaveBeenCalledTimes(1);
    // Size updates of the same records (every event while they write) ask nothing.
    for (let i = 0; i < 5; i++) w.update([{ ...a, outputSizeBytes: i }, b, done], all);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1999);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(fetch.mock.calls[1]).toEqual(['ws1', ['a', 'b']]);
    expect(changes).toHaveBeenCalledTimes(1); // the same figures: no change reported
    w.dispose();
  });

  it('samples only the rows on screen, and asks at once, for all of them, when one comes on screen', async () => {
    const { w, fetch } = setup();
    const rows = [record({ id: 'a' }), record({ id: 'b' }), record({ id: 'c' })];
    let shown = new Set(['a']);
    w.update(rows, (id) => shown.has(id));
    expect(fetch.mock.calls.map((c) => c[1])).toEqual([['a']]);
    await vi.advanceTimersByTimeAsync(0);
    shown = new Set(['a', 'b']);
    w.update(rows, (id) => shown.has(id));
    expect(fetch.mock.calls.map((c) => c[1])).toEqual([['a'], ['a', 'b']]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(fetch.mock.calls.map((c) => c[1])).toEqual([['a'], ['a', 'b'], ['a', 'b']]);
    // A row that goes off screen is no longer asked for, and keeps its last figures.
    shown = new Set(['b']);
    w.update(rows, (id) => shown.has(id));
    await vi.advanceTimersByTimeAsync(2000);
    expect(fetch.mock.calls.at(-1)?.[1]).toEqual(['b']);
    expect(w.usage.has('a')).toBe(true);
    w.dispose();
  });

  it('drops the figures of a process that stops, and stops sampling when nothing runs', async () => {
    const { w, fetch, changes } = setup();
    const a = record({ id: 'a' });
    w.update([a], all);
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toHaveBeenCalledTimes(1);
    w.update([{ ...a, status: 'stopped', stoppedAt: '2026-01-01T00:00:01Z' }], all);
    expect(w.usage.has('a')).toBe(false);
    expect(changes).toHaveBeenCalledTimes(2);
    expect(w.polling).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('keeps the last CPU figure while a new first sample has none', async () => {
    let cpu: number | null = null;
    const { w } = setup((ids) => Object.fromEntries(ids.map((id) => [id, use(cpu, 5000)])));
    w.update([record({ id: 'a' })], all);
    await vi.advanceTimersByTimeAsync(0);
    expect(w.usage.get('a')).toEqual(use(null, 5000));
    cpu = 42;
    await vi.advanceTimersByTimeAsync(2000);
    expect(w.usage.get('a')).toEqual(use(42, 5000));
    cpu = null;
    await vi.advanceTimersByTimeAsync(2000);
    expect(w.usage.get('a')).toEqual(use(42, 5000));
    w.dispose();
  });

  it('pauses while the window is hidden and catches up when it shows again', async () => {
    const { w, fetch } = setup();
    w.update([record({ id: 'a' })], all);
    expect(fetch).toHaveBeenCalledTimes(1);
    w.setActive(false);
    expect(w.polling).toBe(false);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(fetch).toHaveBeenCalledTimes(1);
    w.setActive(true);
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(w.polling).toBe(true);
    w.dispose();
    expect(w.polling).toBe(false);
  });

  it('keeps one request in flight, whatever comes on screen meanwhile', async () => {
    let release: () => void = () => {};
    const fetch = vi.fn((_ws: string, ids: string[]) => new Promise<Record<string, Usage>>((r) => (release = () => r(Object.fromEntries(ids.map((id) => [id, use(3)]))))));
    const w = new UsageWatcher(fetch, 1000);
    w.update([record({ id: 'a' })], all);
    await vi.advanceTimersByTimeAsync(5000); // the first answer is slow: no pile-up
    w.update([record({ id: 'a' }), record({ id: 'b' })], all);
    expect(fetch).toHaveBeenCalledTimes(1);
    release();
    await vi.advanceTimersByTimeAsync(1000);
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(fetch.mock.calls[1][1]).toEqual(['a', 'b']);
    w.dispose();
  });

  it('ignores an answer for another workspace than the one now shown', async () => {
    let release: () => void = () => {};
    const fetch = vi.fn((_ws: string, ids: string[]) => new Promise<Record<string, Usage>>((r) => (release = () => r(Object.fromEntries(ids.map((id) => [id, use(3)]))))));
    const w = new UsageWatcher(fetch, 1000);
    w.update([record({ id: 'a', workspaceId: 'one' })], all);
    w.update([record({ id: 'b', workspaceId: 'two' })], all);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(w.usage.size).toBe(0);
    w.dispose();
  });
});

describe('sortServices', () => {
  const rec = (id: string, title: string, over: Partial<ProcessRecord> = {}) => record({ id, title, startedAt: `2026-01-01T00:0${id.length}:00Z`, ...over });
  // Newest first, as the list comes.
  const services = groupServices([
    rec('newest', 'web'),
    rec('idle', 'idle'),
    rec('ended', 'lint', { status: 'stopped', stoppedAt: '2026-01-01T00:09:00Z' }),
    rec('busy', 'busy'),
    rec('fresh', 'fresh'),
  ]);
  const usage: Record<string, Usage> = {
    newest: use(12, 300),
    idle: use(0, 900),
    busy: use(95, 100),
    fresh: use(null, 500),
    // A stale figure of a stopped run never orders it.
    ended: use(99, 10_000),
  };
  const order = (by: 'started' | 'cpu' | 'memory') => sortServices(services, by, usage).map((s) => s.latest.id);

  it('keeps the list as it comes by default', () => {
    expect(order('started')).toEqual(['newest', 'idle', 'ended', 'busy', 'fresh']);
    expect(sortServices(services, 'started', usage)).toBe(services);
  });

  it('puts the busiest first, then those without a figure in their usual order', () => {
    expect(order('cpu')).toEqual(['busy', 'newest', 'idle', 'ended', 'fresh']);
  });

  it('puts the largest first by memory', () => {
    expect(order('memory')).toEqual(['idle', 'fresh', 'newest', 'busy', 'ended']);
  });
});

describe('formatCpu', () => {
  it('shows one decimal below 100 and none above, and a dash without a figure', () => {
    expect(formatCpu(0)).toBe('0.0%');
    expect(formatCpu(3.24)).toBe('3.2%');
    expect(formatCpu(99.94)).toBe('99.9%');
    expect(formatCpu(215.4)).toBe('215%');
    expect(formatCpu(null)).toBe('–');
    expect(formatCpu(undefined)).toBe('–');
    expect(formatCpu(Number.NaN)).toBe('–');
  });
});
