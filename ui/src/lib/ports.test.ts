import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ListeningPort } from '../bindings/ListeningPort';
import type { PortConflict } from '../bindings/PortConflict';
import { record } from '../test/records';
import { ConflictWatcher, distinctPorts, PortWatcher } from './ports';

const lp = (port: number, address = '0.0.0.0', pid = 10): ListeningPort => ({ port, address, pid });
const all = () => true;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PortWatcher', () => {
  function setup(answer: (id: string) => ListeningPort[] = () => [lp(3000)]) {
    const fetch = vi.fn(async (_ws: string, id: string) => answer(id));
    const w = new PortWatcher(fetch, 3000);
    const changes = vi.fn();
    w.onChange = changes;
    return { w, fetch, changes };
  }

  it('asks at once for a running row, then every interval, and not on other updates', async () => {
    const { w, fetch, changes } = setup();
    const a = record({ id: 'a' });
    w.update([a], all);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(w.ports.get('a')).toEqual([lp(3000)]);
    expect(changes).toHaveBeenCalledTimes(1);
    // A size update of the same running record (every event while it writes) asks nothing.
    for (let i = 0; i < 5; i++) w.update([{ ...a, outputSizeBytes: i * 100 }], all);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(2999);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetch).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(3000);
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(changes).toHaveBeenCalledTimes(1); // same ports: no change reported
    w.dispose();
  });

  it('asks again on a status change, and stops (dropping the ports) when the process ends', async () => {
    const { w, fetch, changes } = setup();
    const a = record({ id: 'a' });
    w.update([a], all);
    await vi.advanceTimersByTimeAsync(0);
    w.update([{ ...a, stoppingSince: '2026-01-01T00:00:00Z' }], all);
    expect(fetch).toHaveBeenCalledTimes(2);
    w.update([{ ...a, status: 'stopped', stoppedAt: '2026-01-01T00:00:01Z' }], all);
    expect(w.ports.has('a')).toBe(false);
    expect(changes).toHaveBeenCalledTimes(2);
    expect(w.polling).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('only watches rows on screen, and asks for a row when it comes on screen', async () => {
    const { w, fetch } = setup();
    const rows = [record({ id: 'a' }), record({ id: 'b' }), record({ id: 'c', status: 'stopped' })];
    let shown = new Set(['a']);
    w.update(rows, (id) => shown.has(id));
    expect(fetch.mock.calls.map((c) => c[1])).toEqual(['a']);
    shown = new Set(['a', 'b', 'c']);
    w.update(rows, (id) => shown.has(id));
    expect(fetch.mock.calls.map((c) => c[1])).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(3000);
    expect(fetch.mock.calls.map((c) => c[1])).toEqual(['a', 'b', 'a', 'b']);
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

  it('keeps one request per process in flight', async () => {
    let release: () => void = () => {};
    const fetch = vi.fn(() => new Promise<ListeningPort[]>((r) => (release = () => r([lp(8080)]))));
    const w = new PortWatcher(fetch, 1000);
    w.update([record({ id: 'a' })], all);
    await vi.advanceTimersByTimeAsync(5000); // the first answer is slow: no pile-up
    expect(fetch).toHaveBeenCalledTimes(1);
    release();
    await vi.advanceTimersByTimeAsync(1000);
    expect(fetch).toHaveBeenCalledTimes(2);
    w.dispose();
  });

  it('lists each port number once', () => {
    expect(distinctPorts([lp(5173, '::'), lp(3000), lp(5173)])).toEqual([3000, 5173]);
  });
});

describe('ConflictWatcher', () => {
  it('asks once per failed process on screen', async () => {
    const conflict: PortConflict = { port: 3000, portSource: 'output', holder: null, process: null, message: 'Port 3000 was in use; nothing listens on it now' };
    const fetch = vi.fn(async (_ws: string, id: string) => (id === 'e1' ? conflict : null));
    const w = new ConflictWatcher(fetch);
    const changes = vi.fn();
    w.onChange = changes;
    const rows = [record({ id: 'e1', status: 'error', exitCode: 1 }), record({ id: 'e2', status: 'error', exitCode: 1 }), record({ id: 'r' })];
    w.update(rows, (id) => id !== 'e2');
    w.update(rows, (id) => id !== 'e2');
    await vi.advanceTimersByTimeAsync(0);
    expect(fetch.mock.calls.map((c) => c[1])).toEqual(['e1']);
    expect(w.conflicts.get('e1')).toEqual(conflict);
    expect(changes).toHaveBeenCalledTimes(1);
    w.update(rows, all);
    w.update(rows, all);
    await vi.advanceTimersByTimeAsync(0);
    expect(fetch.mock.calls.map((c) => c[1])).toEqual(['e1', 'e2']);
    expect(w.conflicts.get('e2')).toBeNull();
    expect(changes).toHaveBeenCalledTimes(1);
  });
});
