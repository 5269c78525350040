/**
 * The Live tab's data side: loads the end of the output, follows it through a Channel, fetches
 * older lines on demand, and unfollows when closed. No DOM here; the view listens to `onChange`.
 */

import type { AppError } from '../bindings/AppError';
import type { LineChunk } from '../bindings/LineChunk';
import type { OutputFrame } from '../bindings/OutputFrame';
import type { ProcessRecord } from '../bindings/ProcessRecord';
import { toAppError } from './ipc';
import { LineStore, type AppendResult, type PrependResult } from './lineStore';

export interface LiveDeps {
  linesBefore(workspaceId: string, id: string, endOffset: number | null, lines: number): Promise<LineChunk>;
  followOutput(workspaceId: string, id: string, fromOffset: number | null, onFrame: (f: OutputFrame) => void): Promise<number>;
  unfollowOutput(subscription: number): Promise<null>;
  ackOutput(subscription: number): Promise<null>;
}

export interface LiveOptions {
  initialLines?: number;
  pageLines?: number;
  maxLines?: number;
  /** Runs `fn` once what changed has been drawn (default: the next animation frame). */
  afterPaint?: (fn: () => void) => void;
  /**
   * The least time between acknowledgements of full frames (default 50 ms): under a flood the
   * view draws at most this often, and what comes meanwhile is skipped by the stream.
   */
  floodInterval?: number;
  /** The clock for `floodInterval`, in ms (default: `performance.now`). */
  now?: () => number;
  /** Runs `fn` after `ms` (default: `setTimeout`). */
  later?: (fn: () => void, ms: number) => void;
}

/**
 * A data frame of this many bytes or more means output comes faster than the view draws it (the
 * stream sends up to 32 KiB at once).
 */
const FULL_FRAME = 16 * 1024;

export type LiveChange =
  | { type: 'loaded' }
  | { type: 'appended'; result: AppendResult }
  | { type: 'prepended'; result: PrependResult }
  | { type: 'ended'; record: ProcessRecord | null }
  | { type: 'state' };

export class LiveController {
  readonly store: LineStore;
  loading = true;
  loadingOlder = false;
  error: AppError | null = null;
  /** The stream said something went wrong (a frame of type error). */
  streamError: string | null = null;
  /** Set once the process ended (the stream's end frame). */
  ended = false;
  endRecord: ProcessRecord | null = null;
  /** Bytes the stream skipped since opening (sum of frames' `skipped`). */
  skippedBytes = 0;
  onChange: (c: LiveChange) => void = () => {};

  private subscription: number | null = null;
  private opening: Promise<void> | null = null;
  private older: Promise<unknown> | null = null;
  private closed = false;
  private generation = 0;
  private readonly initialLines: number;
  private readonly pageLines: number;
  private readonly afterPaint: (fn: () => void) => void;
  /** Data frames taken before the subscription was known, to acknowledge once it is. */
  private unacked = 0;
  private readonly floodInterval: number;
  private readonly now: () => number;
  private readonly later: (fn: () => void, ms: number) => void;
  /** When the last frame was acknowledged (on `now`'s clock). */
  private lastAckAt = -Infinity;

  constructor(
    private readonly deps: LiveDeps,
    readonly workspaceId: string,
    readonly id: string,
    opts: LiveOptions = {},
  ) {
    this.store = new LineStore(opts.maxLines ?? 20_000);
    this.initialLines = opts.initialLines ?? 500;
    this.pageLines = opts.pageLines ?? 500;
    this.afterPaint = opts.afterPaint ?? ((fn) => requestAnimationFrame(() => fn()));
    this.floodInterval = opts.floodInterval ?? 50;
    this.now = opts.now ?? (() => performance.now());
    this.later = opts.later ?? ((fn, ms) => void setTimeout(fn, ms));
  }

  /**
   * Loads the end and starts following. Safe to call again (jump to end): it starts over. Calls
   * made while an open is in progress join it (one `lines_before` at a time, never a pile).
   */
  open(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.opening) {
      this.opening = this.doOpen().finally(() => {
        this.opening = null;
      });
    }
    return this.opening;
  }

  private async doOpen(): Promise<void> {
    const gen = ++this.generation;
    this.loading = true;
    this.error = null;
    this.streamError = null;
    this.ended = false;
    this.endRecord = null;
    // An older-lines fetch in flight is discarded (the generation moved on); wait for it so that
    // there is never more than one lines_before in flight.
    const older = this.older;
    await this.dropSubscription();
    if (older) await older.catch(() => {});
    if (this.stale(gen)) return;
    this.onChange({ type: 'state' });
    try {
      const chunk = await this.deps.linesBefore(this.workspaceId, this.id, null, this.initialLines);
      if (this.stale(gen)) return;
      this.store.loadEnd(chunk);
      this.loading = false;
      this.loadingOlder = false;
      this.onChange({ type: 'loaded' });
      this.unacked = 0;
      const sub = await this.deps.followOutput(this.workspaceId, this.id, chunk.endOffset, (f) => {
        if (!this.stale(gen)) this.onFrame(f, gen);
      });
      if (this.stale(gen)) {
        void this.deps.unfollowOutput(sub).catch(() => {});
        return;
      }
      this.subscription = sub;
      for (; this.unacked > 0; this.unacked--) this.ack(sub);
    } catch (e) {
      if (this.stale(gen)) return;
      this.loading = false;
      this.error = toAppError(e);
      this.onChange({ type: 'state' });
    }
  }

  private stale(gen: number): boolean {
    return this.closed || gen !== this.generation;
  }

  private onFrame(f: OutputFrame, gen: number): void {
    switch (f.type) {
      case 'data': {
        if (f.skipped > 0) this.skippedBytes += f.skipped;
        const result = this.store.appendFrame(f);
        this.onChange({ type: 'appended', result });
        // The stream sends the next frame once this one is on screen, so that frames never
        // arrive faster than they can be drawn. Under a flood (full frames) not more often than
        // `floodInterval` either: nobody reads 50 MB/s, and each frame drawn is time the page
        // cannot give to the user's clicks and keys.
        const full = f.end - f.offset >= FULL_FRAME;
        this.afterPaint(() => {
          if (this.stale(gen)) return;
          const wait = full ? this.lastAckAt + this.floodInterval - this.now() : 0;
          if (wait > 0) this.later(() => this.acknowledge(gen), wait);
          else this.acknowledge(gen);
        });
        break;
      }
      case 'end':
        this.ended = true;
        this.endRecord = f.record;
        this.subscription = null;
        this.onChange({ type: 'ended', record: f.record });
        break;
      case 'error':
        this.streamError = f.message;
        this.onChange({ type: 'state' });
        break;
    }
  }

  /** Acknowledges a data frame of generation `gen`, or counts it until the subscription is known. */
  private acknowledge(gen: number): void {
    if (this.stale(gen)) return;
    if (this.subscription === null) this.unacked++;
    else this.ack(this.subscription);
  }

  private ack(sub: number): void {
    this.lastAckAt = this.now();
    void this.deps.ackOutput(sub).catch(() => {});
  }

  /** Whether older lines could be fetched now (not busy, not at the start, something held). */
  get canLoadOlder(): boolean {
    if (this.closed || this.loading || this.opening || this.older || this.store.atStart) return false;
    const end = this.store.firstOffset;
    return end !== null && end > 0;
  }

  /** Fetches lines older than the first held one; null when there is nothing older or it is busy. */
  loadOlder(): Promise<PrependResult | null> {
    if (!this.canLoadOlder) return Promise.resolve(null);
    const p = this.doLoadOlder(this.store.firstOffset as number);
    const tracked: Promise<unknown> = p.finally(() => {
      if (this.older === tracked) this.older = null;
    });
    this.older = tracked;
    return p;
  }

  private async doLoadOlder(end: number): Promise<PrependResult | null> {
    const gen = this.generation;
    this.loadingOlder = true;
    this.onChange({ type: 'state' });
    try {
      const chunk = await this.deps.linesBefore(this.workspaceId, this.id, end, this.pageLines);
      if (this.stale(gen)) return null;
      const result = this.store.prepend(chunk);
      // Nothing came back from before a held line: nothing older can be fetched (asking again
      // would only get the same empty answer).
      if (chunk.lines.length === 0) this.store.atStart = true;
      this.onChange({ type: 'prepended', result });
      return result;
    } catch (e) {
      if (!this.stale(gen)) this.streamError = `Could not load older lines: ${toAppError(e).message}`;
      return null;
    } finally {
      if (!this.stale(gen)) {
        this.loadingOlder = false;
        this.onChange({ type: 'state' });
      }
    }
  }

  /** Stops following (switching process or tab, unmounting). */
  close(): void {
    this.closed = true;
    this.generation++;
    void this.dropSubscription();
  }

  get following(): boolean {
    return this.subscription !== null;
  }

  private async dropSubscription(): Promise<void> {
    const sub = this.subscription;
    this.subscription = null;
    if (sub !== null) {
      try {
        await this.deps.unfollowOutput(sub);
      } catch {
        /* the stream is gone either way */
      }
    }
  }
}
