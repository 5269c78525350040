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
}

export interface LiveOptions {
  initialLines?: number;
  pageLines?: number;
  maxLines?: number;
}

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
  private closed = false;
  private generation = 0;
  private readonly initialLines: number;
  private readonly pageLines: number;

  constructor(
    private readonly deps: LiveDeps,
    readonly workspaceId: string,
    readonly id: string,
    opts: LiveOptions = {},
  ) {
    this.store = new LineStore(opts.maxLines ?? 20_000);
    this.initialLines = opts.initialLines ?? 500;
    this.pageLines = opts.pageLines ?? 500;
  }

  /** Loads the end and starts following. Safe to call again (jump to end): it starts over. */
  async open(): Promise<void> {
    const gen = ++this.generation;
    await this.dropSubscription();
    this.loading = true;
    this.error = null;
    this.streamError = null;
    this.ended = false;
    this.endRecord = null;
    this.onChange({ type: 'state' });
    try {
      const chunk = await this.deps.linesBefore(this.workspaceId, this.id, null, this.initialLines);
      if (this.stale(gen)) return;
      this.store.loadEnd(chunk);
      this.loading = false;
      this.onChange({ type: 'loaded' });
      const sub = await this.deps.followOutput(this.workspaceId, this.id, chunk.endOffset, (f) => {
        if (!this.stale(gen)) this.onFrame(f);
      });
      if (this.stale(gen)) {
        void this.deps.unfollowOutput(sub).catch(() => {});
        return;
      }
      this.subscription = sub;
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

  private onFrame(f: OutputFrame): void {
    switch (f.type) {
      case 'data': {
        if (f.skipped > 0) this.skippedBytes += f.skipped;
        const result = this.store.appendFrame(f.text, f.offset, f.skipped);
        this.onChange({ type: 'appended', result });
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

  /** Fetches lines older than the first held one; null when there is nothing older or it is busy. */
  async loadOlder(): Promise<PrependResult | null> {
    if (this.loadingOlder || this.loading || this.store.atStart || this.closed) return null;
    const end = this.store.firstOffset;
    if (end === null || end <= 0) return null;
    const gen = this.generation;
    this.loadingOlder = true;
    this.onChange({ type: 'state' });
    try {
      const chunk = await this.deps.linesBefore(this.workspaceId, this.id, end, this.pageLines);
      if (this.stale(gen)) return null;
      const result = this.store.prepend(chunk);
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
