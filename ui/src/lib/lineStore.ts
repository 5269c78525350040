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
 *
 * Offsets are the engine's: every line of a chunk or frame says where its first byte is, and a
 * frame says where it ends. Nothing here derives an offset from text (a replaced invalid byte is
 * 1 byte on disk and 3 in the text).
 *
 * Colours carry across lines as in a terminal: a line starts in the SGR state the line before it
 * ended with. A chunk fetched by offset (scrolling up) starts in the default state, because the
 * state at an arbitrary offset depends on everything before it and reading that is unbounded.
 * When the chunk is put in front, the state its last line ends with flows into the lines held
 * after it, up to the first whose starting state does not change. So the only colour missing is
 * one set before the oldest fetched line, and it appears once the lines that set it are fetched.
 * After skipped bytes lines start in the default state (the bytes that set it were skipped).
 */

import type { LineChunk } from '../bindings/LineChunk';
import type { OutputFrame } from '../bindings/OutputFrame';
import { ansiEnd, applySgr, type AnsiState } from './ansi';
import { CarriageLine } from './carriage';

export type LineKind = 'text' | 'skip' | 'end';

export type DataFrame = Extract<OutputFrame, { type: 'data' }>;

export interface Line {
  /** Unique per store, increasing in order of creation (a key for rendering and caches). */
  seq: number;
  kind: LineKind;
  /** The line's shown text (ANSI kept) after `\r` collapse; for markers, their message. */
  text: string;
  /** Logical byte offset of the line's first byte (for markers: where the gap or end is). */
  offset: number;
  /** For `skip` markers: how many bytes were skipped. */
  skipped: number;
  /** The SGR state `text` starts in. */
  style: AnsiState;
  /** The SGR state the line starts in: the state the line before it ended with. */
  inStyle: AnsiState;
  /** Colour changes in the overwritten states before `text` (`style` is `inStyle` + these). */
  lead: string;
  /** The shown text was longer than the most a line holds, and cut. */
  cut: boolean;
  /** Display text (escape sequences removed), computed on first use. */
  plain?: string;
  /** The SGR state after the line, computed on first use. */
  end?: AnsiState;
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
  /** The last line, while more of it may come. */
  private open: CarriageLine | null = null;
  /** Offset just past the last byte loaded at the end (where the next frame should start). */
  private nextOffset: number | null = null;

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
    return this.open !== null;
  }

  /** Empties the window. */
  reset(): void {
    this.lines = [];
    this.base = 0;
    this.atStart = false;
    this.detached = false;
    this.missedLines = 0;
    this.open = null;
    this.nextOffset = null;
    this.version++;
  }

  /** Loads the end of the output (the chunk of `lines_before(null, N)`), replacing everything. */
  loadEnd(chunk: LineChunk): void {
    this.reset();
    const { lines, last } = this.chunkLines(chunk);
    this.atStart = chunk.atStart;
    // A last line without its `\n` is continued by the stream (output from `endOffset` on).
    if (lines.length > 0 && !chunk.lastLineComplete) this.open = last;
    this.nextOffset = chunk.endOffset;
    this.lines = lines;
    this.trimFront();
    this.version++;
  }

  /** Appends a data frame of the live stream. */
  appendFrame(frame: DataFrame): AppendResult {
    if (this.detached) {
      this.missedLines += frame.lastLineComplete ? frame.lines.length : Math.max(0, frame.lines.length - 1);
      this.version++;
      return { dropped: 0, added: 0 };
    }
    let added = 0;
    if (frame.skipped > 0) {
      this.open = null;
      this.lines.push(this.marker('skip', '', frame.offset, frame.skipped));
      added++;
    } else if (this.open && this.nextOffset !== frame.offset) {
      // A gap nobody announced: the open line can't be continued.
      this.open = null;
    }
    frame.lines.forEach((piece, k) => {
      const last = this.lines[this.lines.length - 1];
      if (k === 0 && this.open && last) {
        // The open last line is replaced by its continuation.
        this.open.write(piece.text);
        this.lines[this.lines.length - 1] = this.textLine(this.open, last.offset, last.inStyle);
      } else {
        const line = new CarriageLine();
        line.write(piece.text);
        this.lines.push(this.textLine(line, piece.offset, this.tailStyle()));
        this.open = line;
        added++;
      }
      if (k < frame.lines.length - 1 || frame.lastLineComplete) this.open = null;
    });
    this.nextOffset = frame.end;
    const dropped = this.trimFront();
    this.version++;
    return { dropped, added };
  }

  /** Appends a marker line (the end of the process, …). */
  appendMarker(kind: LineKind, text: string): void {
    if (this.detached) return;
    this.open = null;
    const last = this.lines[this.lines.length - 1];
    this.lines.push(this.marker(kind, text, last ? last.offset : 0, 0));
    this.trimFront();
    this.version++;
  }

  /** Puts older lines (the chunk of `lines_before(firstOffset, N)`) in front. */
  prepend(chunk: LineChunk): PrependResult {
    const { lines } = this.chunkLines(chunk);
    this.lines = lines.concat(this.lines);
    this.base -= lines.length;
    this.atStart = chunk.atStart;
    if (lines.length > 0) this.reflow(lines.length, endOf(lines[lines.length - 1]));
    let droppedFromEnd = 0;
    if (this.lines.length > this.maxLines) {
      droppedFromEnd = this.lines.length - this.maxLines;
      this.lines.length = this.maxLines;
      this.detached = true;
      this.open = null;
    }
    this.version++;
    return { added: lines.length, droppedFromEnd };
  }

  /** The line at logical index `index`, if held. */
  at(index: number): Line | undefined {
    return this.lines[index - this.base];
  }

  /**
   * The lines from `from` on start in `state` (the state the line before them now ends with):
   * their styles follow, until a line whose starting state is already that.
   */
  private reflow(from: number, state: AnsiState): void {
    for (let i = from; i < this.lines.length; i++) {
      const l = this.lines[i];
      if (l.kind !== 'text' || l.inStyle === state) return;
      l.inStyle = state;
      l.style = applySgr(state, l.lead);
      l.end = undefined;
      state = endOf(l);
    }
  }

  private trimFront(): number {
    const over = this.lines.length - this.maxLines;
    if (over <= 0) return 0;
    this.lines.splice(0, over);
    this.base += over;
    this.atStart = false;
    return over;
  }

  /** The SGR state the next appended line starts in. */
  private tailStyle(): AnsiState {
    const last = this.lines[this.lines.length - 1];
    return last ? endOf(last) : '';
  }

  /** A chunk's lines, colours flowing from the default state at its start; and its last line. */
  private chunkLines(chunk: LineChunk): { lines: Line[]; last: CarriageLine | null } {
    const out: Line[] = [];
    let last: CarriageLine | null = null;
    let state: AnsiState = '';
    for (const piece of chunk.lines) {
      last = new CarriageLine();
      last.write(piece.text);
      const line = this.textLine(last, piece.offset, state);
      out.push(line);
      state = endOf(line);
    }
    return { lines: out, last };
  }

  private textLine(c: CarriageLine, offset: number, inStyle: AnsiState): Line {
    const lead = c.lead;
    return { seq: this.nextSeq(), kind: 'text', text: c.text, offset, skipped: 0, style: applySgr(inStyle, lead), inStyle, lead, cut: c.cut };
  }

  private marker(kind: LineKind, text: string, offset: number, skipped: number): Line {
    return { seq: this.nextSeq(), kind, text, offset, skipped, style: '', inStyle: '', lead: '', cut: false };
  }

  private nextSeq(): number {
    return ++this.seq;
  }
}

/** The SGR state after a line; markers end in the default state (what set it is not known). */
function endOf(line: Line): AnsiState {
  if (line.kind !== 'text') return '';
  if (line.end === undefined) line.end = ansiEnd(line.text, line.style);
  return line.end;
}
