import { describe, expect, it, vi } from 'vitest';
import type { LineChunk } from '../bindings/LineChunk';
import type { OutputFrame } from '../bindings/OutputFrame';
import { textFrame } from '../mock/outputBytes';
import { LiveController, type LiveDeps } from './liveController';

/** A chunk of whole ASCII lines from `start` to `end`. */
function chunk(lines: string[], start: number, end: number, atStart = false): LineChunk {
  let offset = start;
  const out = lines.map((text) => {
    const line = { offset, text };
    offset += text.length + 1;
    return line;
  });
  return { lines: out, startOffset: start, endOffset: end, atStart, atEnd: true, lastLineComplete: lines.length > 0, sizeBytes: end, droppedBytes: 0 };
}

function fakeDeps() {
  let onFrame: ((f: OutputFrame) => void) | null = null;
  const deps = {
    linesBefore: vi.fn(async (_ws: string, _id: string, end: number | null) => (end === null ? chunk(['c', 'd'], 4, 8) : chunk(['a', 'b'], 0, 4, true))),
    followOutput: vi.fn(async (_ws: string, _id: string, _from: number | null, cb: (f: OutputFrame) => void) => {
      onFrame = cb;
      return 11;
    }),
    unfollowOutput: vi.fn(async () => null),
    ackOutput: vi.fn(async () => null),
  } satisfies LiveDeps;
  return { deps, send: (f: OutputFrame) => onFrame?.(f) };
}

describe('LiveController', () => {
  it('loads the end, follows from its end offset, appends frames, and unfollows on close', async () => {
    const { deps, send } = fakeDeps();
    const c = new LiveController(deps, 'ws1', 'p1', { initialLines: 2 });
    await c.open();
    expect(deps.linesBefore).toHaveBeenCalledWith('ws1', 'p1', null, 2);
    expect(deps.followOutput.mock.calls[0].slice(0, 3)).toEqual(['ws1', 'p1', 8]);
    send(textFrame('e\nf', 8));
    expect(c.store.lines.map((l) => l.text)).toEqual(['c', 'd', 'e', 'f']);
    c.close();
    expect(deps.unfollowOutput).toHaveBeenCalledWith(11);
    send(textFrame('ignored\n', 11));
    expect(c.store.lines.map((l) => l.text)).toEqual(['c', 'd', 'e', 'f']);
  });

  it('acknowledges each data frame once it is drawn, and frames that came before the subscription once it is known', async () => {
    let onFrame: ((f: OutputFrame) => void) | null = null;
    let resolveFollow: (sub: number) => void = () => {};
    const painted: (() => void)[] = [];
    const deps = {
      linesBefore: vi.fn(async () => chunk(['c', 'd'], 4, 8)),
      followOutput: vi.fn((_ws: string, _id: string, _from: number | null, cb: (f: OutputFrame) => void) => {
        onFrame = cb;
        return new Promise<number>((r) => (resolveFollow = r));
      }),
      unfollowOutput: vi.fn(async () => null),
      ackOutput: vi.fn(async () => null),
    } satisfies LiveDeps;
    const c = new LiveController(deps, 'ws1', 'p1', { afterPaint: (fn) => painted.push(fn) });
    const opening = c.open();
    await vi.waitFor(() => expect(onFrame).not.toBeNull());
    onFrame!(textFrame('e\n', 8));
    painted.splice(0).forEach((fn) => fn());
    expect(deps.ackOutput).not.toHaveBeenCalled();
    resolveFollow(11);
    await opening;
    expect(deps.ackOutput).toHaveBeenCalledTimes(1);
    onFrame!(textFrame('f\n', 10));
    expect(deps.ackOutput).toHaveBeenCalledTimes(1); // not before it is drawn
    painted.splice(0).forEach((fn) => fn());
    expect(deps.ackOutput).toHaveBeenCalledTimes(2);
    expect(deps.ackOutput).toHaveBeenLastCalledWith(11);
    onFrame!({ type: 'end', record: null });
    expect(painted).toHaveLength(0); // only data frames are acknowledged
    c.close();
  });

  it('under a flood acknowledges full frames no more often than the flood interval, small ones at once', async () => {
    let onFrame: ((f: OutputFrame) => void) | null = null;
    const painted: (() => void)[] = [];
    const timers: Array<{ fn: () => void; ms: number }> = [];
    let clock = 1000;
    const deps = {
      linesBefore: vi.fn(async () => chunk([], 0, 0)),
      followOutput: vi.fn(async (_ws: string, _id: string, _from: number | null, cb: (f: OutputFrame) => void) => {
        onFrame = cb;
        return 7;
      }),
      unfollowOutput: vi.fn(async () => null),
      ackOutput: vi.fn(async () => null),
    } satisfies LiveDeps;
    const c = new LiveController(deps, 'ws1', 'p1', {
      afterPaint: (fn) => painted.push(fn),
      floodInterval: 50,
      now: () => clock,
      later: (fn, ms) => timers.push({ fn, ms }),
    });
    await c.open();
    const full = (offset: number) => textFrame('x'.repeat(20 * 1024 - 1) + '\n', offset);
    const draw = () => painted.splice(0).forEach((fn) => fn());

    onFrame!(full(0));
    draw();
    expect(deps.ackOutput).toHaveBeenCalledTimes(1); // the first full frame: nothing to wait for
    clock += 16;
    onFrame!(full(20 * 1024));
    draw();
    expect(deps.ackOutput).toHaveBeenCalledTimes(1); // 16 ms after the last: held back
    expect(timers.map((t) => t.ms)).toEqual([34]);
    clock += 34;
    timers.splice(0).forEach((t) => t.fn());
    expect(deps.ackOutput).toHaveBeenCalledTimes(2);
    clock += 5;
    onFrame!(textFrame('small\n', 40 * 1024));
    draw();
    expect(deps.ackOutput).toHaveBeenCalledTimes(3); // a small frame is not a flood
    expect(timers).toHaveLength(0);

    // A frame held back for a stream that has since been closed is never acknowledged.
    clock += 1;
    onFrame!(full(40 * 1024 + 6));
    draw();
    expect(timers).toHaveLength(1);
    c.close();
    timers.splice(0).forEach((t) => t.fn());
    expect(deps.ackOutput).toHaveBeenCalledTimes(3);
  });

  it('fetches older lines before the first held line', async () => {
    const { deps } = fakeDeps();
    const c = new LiveController(deps, 'ws1', 'p1');
    await c.open();
    const r = await c.loadOlder();
    expect(deps.linesBefore).toHaveBeenLastCalledWith('ws1', 'p1', 4, 500);
    expect(r?.added).toBe(2);
    expect(c.store.lines.map((l) => l.text)).toEqual(['a', 'b', 'c', 'd']);
    expect(await c.loadOlder()).toBeNull(); // at the start now
  });

  it('counts skipped bytes, records the end, and shows stream errors', async () => {
    const { deps, send } = fakeDeps();
    const c = new LiveController(deps, 'ws1', 'p1');
    const changes: string[] = [];
    c.onChange = (ch) => changes.push(ch.type);
    await c.open();
    send(textFrame('late\n', 5000, 4992));
    send({ type: 'error', message: 'output file vanished' });
    send({ type: 'end', record: null });
    expect(c.skippedBytes).toBe(4992);
    expect(c.streamError).toBe('output file vanished');
    expect(c.ended).toBe(true);
    expect(changes).toContain('ended');
  });

  it('unfollows a subscription that arrives after close', async () => {
    let resolveFollow: (n: number) => void = () => {};
    const deps: LiveDeps = {
      linesBefore: async () => chunk(['x'], 0, 2, true),
      followOutput: vi.fn(() => new Promise<number>((r) => (resolveFollow = r))),
      unfollowOutput: vi.fn(async () => null),
      ackOutput: vi.fn(async () => null),
    };
    const c = new LiveController(deps, 'ws1', 'p1');
    const opening = c.open();
    await vi.waitFor(() => expect(deps.followOutput).toHaveBeenCalled());
    c.close();
    expect(deps.unfollowOutput).not.toHaveBeenCalled();
    resolveFollow(99);
    await opening;
    expect(deps.unfollowOutput).toHaveBeenCalledWith(99);
    expect(c.following).toBe(false);
  });

  it('reports a failed load as an AppError', async () => {
    const deps: LiveDeps = {
      linesBefore: () => Promise.reject({ kind: 'notFound', message: 'no process with id p1 in this workspace' }),
      followOutput: () => Promise.resolve(1),
      unfollowOutput: () => Promise.resolve(null),
      ackOutput: () => Promise.resolve(null),
    };
    const c = new LiveController(deps, 'ws1', 'p1');
    await c.open();
    expect(c.error).toEqual({ kind: 'notFound', message: 'no process with id p1 in this workspace' });
    expect(c.loading).toBe(false);
  });

  it('issues exactly one lines_before on open and none for frames, events or state changes', async () => {
    const { deps, send } = fakeDeps();
    const c = new LiveController(deps, 'ws1', 'p1');
    let changes = 0;
    c.onChange = () => changes++;
    await c.open();
    expect(deps.linesBefore).toHaveBeenCalledTimes(1);
    expect(deps.followOutput).toHaveBeenCalledTimes(1);
    let offset = 8;
    for (let i = 0; i < 200; i++) {
      const text = `\x1b[32mok\x1b[0m line ${i}\n`;
      send(textFrame(text, offset));
      offset += new TextEncoder().encode(text).length;
    }
    await new Promise((r) => setTimeout(r, 0));
    expect(changes).toBeGreaterThan(200);
    expect(deps.linesBefore).toHaveBeenCalledTimes(1);
    expect(deps.followOutput).toHaveBeenCalledTimes(1);
    expect(c.store.lines.length).toBe(202);
  });

  it('never has more than one lines_before in flight: opens join, an open waits for loadOlder', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const pending: Array<() => void> = [];
    const deps: LiveDeps = {
      linesBefore: vi.fn((_ws: string, _id: string, end: number | null) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise<LineChunk>((resolve) =>
          pending.push(() => {
            inFlight--;
            resolve(end === null ? chunk(['c', 'd'], 4, 8) : chunk(['a', 'b'], 0, 4, true));
          }),
        );
      }),
      followOutput: vi.fn(async () => 5),
      unfollowOutput: vi.fn(async () => null),
      ackOutput: vi.fn(async () => null),
    };
    const c = new LiveController(deps, 'ws1', 'p1');
    const opens = [c.open(), c.open(), c.open()];
    await vi.waitFor(() => expect(pending.length).toBe(1));
    pending.shift()!();
    await Promise.all(opens);
    expect(deps.linesBefore).toHaveBeenCalledTimes(1);

    // Scrolling up while a jump to the end comes in: the second waits for the first.
    const older = c.loadOlder();
    expect(await c.loadOlder()).toBeNull(); // busy: no second request
    const reopened = c.open();
    await new Promise((r) => setTimeout(r, 0));
    expect(inFlight).toBe(1);
    pending.shift()!();
    expect(await older).toBeNull(); // superseded by the open
    await vi.waitFor(() => expect(pending.length).toBe(1));
    pending.shift()!();
    await reopened;
    expect(maxInFlight).toBe(1);
    expect(deps.linesBefore).toHaveBeenCalledTimes(3);
    expect(c.store.lines.map((l) => l.text)).toEqual(['c', 'd']);
  });

  it('stops asking for older lines when the answer is empty', async () => {
    const deps: LiveDeps = {
      linesBefore: vi.fn(async (_ws: string, _id: string, end: number | null) => (end === null ? chunk(['x'], 100, 102) : chunk([], 100, 100))),
      followOutput: async () => 1,
      unfollowOutput: async () => null,
      ackOutput: async () => null,
    };
    const c = new LiveController(deps, 'ws1', 'p1');
    await c.open();
    await c.loadOlder();
    expect(await c.loadOlder()).toBeNull();
    expect(deps.linesBefore).toHaveBeenCalledTimes(2);
    expect(c.store.atStart).toBe(true);
  });
});
