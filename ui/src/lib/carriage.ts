/**
 * Turning a stream of output text into display lines.
 *
 * - `\n` ends a line; a `\r` right before it (`\r\n`) is dropped.
 * - A `\r` inside a line means the program rewrote the line (a progress bar): the line shows its
 *   last state, the text after the last `\r` that has any.
 * - Text may arrive cut anywhere (mid-line, between `\r` and `\n`): the open line is continued
 *   by the next piece.
 */

import { utf8Length } from './utf8';

/** The last state of a line that may contain carriage returns. */
export function collapseCarriageReturns(line: string): string {
  if (line.indexOf('\r') < 0) return line;
  const parts = line.split('\r');
  for (let k = parts.length - 1; k >= 0; k--) {
    if (parts[k] !== '') return parts[k];
  }
  return '';
}

/** A line cut from the stream: its raw text (without `\n`) and the offset of its first byte. */
export interface RawLine {
  raw: string;
  offset: number;
}

/** The result of feeding text: lines that ended, and the line still open (if any text is pending). */
export interface FeedResult {
  completed: RawLine[];
  open: RawLine | null;
}

/**
 * Splits streamed text into lines, keeping the unfinished last line open across calls. Offsets are
 * logical byte offsets: each piece says where it starts, later lines' offsets are counted in UTF-8
 * bytes from there.
 */
export class LineAssembler {
  private pending = '';
  private pendingOffset = 0;
  private nextOffset: number | null = null;

  /** Feeds a piece of output starting at byte `offset`. */
  feed(text: string, offset: number): FeedResult {
    if (this.pending === '') this.pendingOffset = offset;
    const completed: RawLine[] = [];
    let start = 0;
    let lineOffset = this.pendingOffset;
    let cursor = offset;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const piece = text.slice(start, nl);
      let raw = this.pending + piece;
      if (raw.endsWith('\r')) raw = raw.slice(0, -1);
      completed.push({ raw, offset: lineOffset });
      cursor += utf8Length(piece) + 1;
      lineOffset = cursor;
      this.pending = '';
      start = nl + 1;
    }
    const rest = text.slice(start);
    if (rest !== '') {
      if (this.pending === '') this.pendingOffset = lineOffset;
      this.pending += rest;
    }
    this.nextOffset = offset + utf8Length(text);
    return { completed, open: this.pending === '' ? null : { raw: stripTrailingCr(this.pending), offset: this.pendingOffset } };
  }

  /** The open line, if any. */
  get open(): RawLine | null {
    return this.pending === '' ? null : { raw: stripTrailingCr(this.pending), offset: this.pendingOffset };
  }

  /** Offset just past the last byte fed, or null before the first feed. */
  get endOffset(): number | null {
    return this.nextOffset;
  }

  /** Forgets the open line (after a gap in the stream it can't be continued). */
  reset(): void {
    this.pending = '';
    this.nextOffset = null;
  }
}

/** A trailing `\r` of an unfinished line is the start of a `\r\n` or of a rewrite: not shown. */
function stripTrailingCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

/** Splits a whole text (head/tail content) into display lines; a final `\n` adds no empty line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => collapseCarriageReturns(l.endsWith('\r') ? l.slice(0, -1) : l));
}
