/**
 * The live viewer's bounded window of output lines.
 *
 * Holds at most `maxLines` lines. Appending past the limit drops the oldest (they can be fetched
 * again by offset); prepending older lines past the limit drops the newest and *detaches* the
 * window from the end of the output: new output is then only counted until the viewer jumps back
 * to the end (which reloads the end).
 *
 * Every line keeps a stable logical index: `base + position`. Prepending lowers `base`, dropping
 * from the front raises it, so a line's index never changes while it is held.
 */

import type { LineChunk } from '../bindings/LineChunk';
import { collapseCarriageReturns, LineAssembler } from './carriage';
import { utf8Length } from './utf8';

export type LineKind = 'text' | 'skip' | 'end';

export interface Line {
  /** Unique per store, increasing in order of creation (a key for rendering and caches). */
  seq: number;
  kind: LineKind;
  /** The line's raw text (ANSI kept) after `\r` collapse; for markers, their message. */
  text: string;
  /** Logical byte offset of the line's first byte (for markers: where the gap or end is). */
  offset: number;
  /** For `skip` markers: how many bytes were skipped. */
  skipped: number;
  /** Display text (escape sequences removed), computed on first use. */
  plain?: string;
}

export interface AppendResult {
  /** Lines dropped from the front to stay within the window. */
  dropped: number;
  /** Lines that ended with this frame, plus a newly opened one (what "new lines" counts). */
  added: number;
}

export interface PrependResult {
  /** Lines put in front. */
  added: number;
  /** Newest lines dropped to stay within the window (the window is now detached). */
  droppedFromEnd: number;
}

export class LineStore {
  readonly maxLines: number;
  lines: Line[] = [];
  /** Logical index of `lines[0]`. */
  base = 0;
  /** Nothing older than the first line can be fetched. */
  atStart = false;
  /** The newest lines were dropped: frames are counted, not stored, until `reset`. */
  detached = false;
  /** Lines of output that arrived while detached. */
  missedLines = 0;
  /** Bumped on every change (for views to re-render). */
  version = 0;

  private seq = 0;
  private assembler = new LineAssembler();
  private lastOpen = false;

  constructor(maxLines = 20_000) {
    if (maxLines < 1) throw new RangeError('maxLines must be positive');
    this.maxLines = maxLines;
  }

  get length(): number {
    return this.lines.length;
  }

  /** Offset of the first held output line (what `lines_before` is asked for when scrolling up). */
  get firstOffset(): number | null {
    const first = this.lines.find((l) => l.kind === 'text') ?? this.lines[0];
    return first ? first.offset : null;
  }

  /** Whether the last line is unfinished (more of it may come). */
  get lastLineOpen(): boolean {
    return this.lastOpen;
  }

  /** Empties the window. */
  reset(): void {
    this.lines = [];
    this.base = 0;
    this.atStart = false;
    this.detached = false;
    this.missedLines = 0;
    this.lastOpen = false;
    this.assembler = new LineAssembler();
    this.version++;
  }

  /** Loads the end of the output (the chunk of `lines_before(null, N)`), replacing everything. */
  loadEnd(chunk: LineChunk): void {
    this.reset();
    const lines = chunkLines(chunk, () => this.nextSeq());
    this.atStart = chunk.atStart;
    // A last line without its `\n` is continued by the stream (output after `endOffset`): the
    // assembler holds it open, positioned so that its next byte is `endOffset`.
    if (lines.length > 0 && !chunk.lastLineComplete) {
      const raw = chunk.lines[chunk.lines.length - 1];
      this.assembler.feed(raw, chunk.endOffset - utf8Length(raw));
      this.lastOpen = true;
    }
    this.lines = lines;
    this.trimFront();
    this.version++;
  }

  /** Appends a data frame of the live stream. */
  appendFrame(text: string, offset: number, skipped = 0): AppendResult {
    if (this.detached) {
      this.missedLines += countNewlines(text);
      this.version++;
      return { dropped: 0, added: 0 };
    }
    let added = 0;
    if (skipped > 0) {
      this.assembler.reset();
      this.lastOpen = false;
      this.lines.push({ seq: this.nextSeq(), kind: 'skip', text: '', offset, skipped });
      added++;
    } else if (this.assembler.endOffset !== null && this.assembler.endOffset !== offset && this.lastOpen) {
      // A gap nobody announced: the open line can't be continued.
      this.assembler.reset();
      this.lastOpen = false;
    }
    const { completed, open } = this.assembler.feed(text, offset);
    const wasOpen = this.lastOpen;
    // The open last line is replaced by its continuation (the first completed line, or the open one).
    if (wasOpen) this.lines.pop();
    for (const l of completed) this.lines.push(this.textLine(l.raw, l.offset));
    if (open) this.lines.push(this.textLine(open.raw, open.offset));
    added += completed.length + (open ? 1 : 0) - (wasOpen ? 1 : 0);
    this.lastOpen = open !== null;
    const dropped = this.trimFront();
    this.version++;
    return { dropped, added: Math.max(0, added) };
  }

  /** Appends a marker line (the end of the process, …). */
  appendMarker(kind: LineKind, text: string): void {
    if (this.detached) return;
    this.assembler.reset();
    this.lastOpen = false;
    const last = this.lines[this.lines.length - 1];
    this.lines.push({ seq: this.nextSeq(), kind, text, offset: last ? last.offset : 0, skipped: 0 });
    this.trimFront();
    this.version++;
  }

  /** Puts older lines (the chunk of `lines_before(firstOffset, N)`) in front. */
  prepend(chunk: LineChunk): PrependResult {
    const lines = chunkLines(chunk, () => this.nextSeq());
    this.lines = lines.concat(this.lines);
    this.base -= lines.length;
    this.atStart = chunk.atStart;
    let droppedFromEnd = 0;
    if (this.lines.length > this.maxLines) {
      droppedFromEnd = this.lines.length - this.maxLines;
      this.lines.length = this.maxLines;
      this.detached = true;
      this.lastOpen = false;
      this.assembler.reset();
    }
    this.version++;
    return { added: lines.length, droppedFromEnd };
  }

  /** The line at logical index `index`, if held. */
  at(index: number): Line | undefined {
    return this.lines[index - this.base];
  }

  private trimFront(): number {
    const over = this.lines.length - this.maxLines;
    if (over <= 0) return 0;
    this.lines.splice(0, over);
    this.base += over;
    this.atStart = false;
    return over;
  }

  private textLine(raw: string, offset: number): Line {
    return { seq: this.nextSeq(), kind: 'text', text: collapseCarriageReturns(raw), offset, skipped: 0 };
  }

  private nextSeq(): number {
    return ++this.seq;
  }
}

function chunkLines(chunk: LineChunk, seq: () => number): Line[] {
  const out: Line[] = [];
  let offset = chunk.startOffset;
  for (const raw of chunk.lines) {
    const text = collapseCarriageReturns(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    out.push({ seq: seq(), kind: 'text', text, offset, skipped: 0 });
    offset += utf8Length(raw) + 1;
  }
  return out;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}
