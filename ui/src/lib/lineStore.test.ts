import { describe, expect, it } from 'vitest';
import type { LineChunk } from '../bindings/LineChunk';
import { LineStore } from './lineStore';
import { utf8Length } from './utf8';

/** A chunk of whole lines starting at `start`, as lines_before returns it. */
function chunk(lines: string[], start: number, opts: { atStart?: boolean; open?: boolean } = {}): LineChunk {
  const bytes = lines.reduce((n, l) => n + utf8Length(l) + 1, 0) - (opts.open ? 1 : 0);
  return { lines, startOffset: start, endOffset: start + bytes, atStart: !!opts.atStart, atEnd: true, lastLineComplete: lines.length > 0 && !opts.open, sizeBytes: start + bytes, droppedBytes: 0 };
}

const texts = (s: LineStore) => s.lines.map((l) => (l.kind === 'text' ? l.text : `<${l.kind}>`));

describe('LineStore', () => {
  it('loads the end and computes line offsets in UTF-8 bytes', () => {
    const s = new LineStore(100);
    s.loadEnd(chunk(['añb', 'c'], 10, { atStart: true }));
    expect(texts(s)).toEqual(['añb', 'c']);
    expect(s.lines.map((l) => l.offset)).toEqual([10, 15]);
    expect(s.atStart).toBe(true);
    expect(s.firstOffset).toBe(10);
    expect(s.lastLineOpen).toBe(false);
  });

  it('continues an unfinished last line of the initial chunk with the first frame', () => {
    const s = new LineStore(100);
    const c = chunk(['done', 'downloading 40%'], 0, { open: true });
    s.loadEnd(c);
    expect(s.lastLineOpen).toBe(true);
    s.appendFrame('\rdownloading 90%\nok\n', c.endOffset);
    expect(texts(s)).toEqual(['done', 'downloading 90%', 'ok']);
  });

  it('trusts lastLineComplete, not byte counts (a replaced invalid byte is 3 bytes in UTF-8)', () => {
    const s = new LineStore(100);
    // "ok\n" + "bad" + one invalid byte, shown as U+FFFD: 7 bytes on disk, no \n yet.
    s.loadEnd({ lines: ['ok', 'bad\uFFFD'], startOffset: 0, endOffset: 7, atStart: true, atEnd: true, lastLineComplete: false, sizeBytes: 7, droppedBytes: 0 });
    expect(s.lastLineOpen).toBe(true);
    s.appendFrame('more\nnext\n', 7);
    expect(texts(s)).toEqual(['ok', 'bad\uFFFDmore', 'next']);
    // And a complete last line is not continued, whatever the counts say.
    const t = new LineStore(100);
    t.loadEnd({ lines: ['whole'], startOffset: 0, endOffset: 6, atStart: true, atEnd: true, lastLineComplete: true, sizeBytes: 6, droppedBytes: 0 });
    expect(t.lastLineOpen).toBe(false);
    t.appendFrame('new\n', 6);
    expect(texts(t)).toEqual(['whole', 'new']);
  });

  it('appends frames: a line split across frames, \\r\\n, and \\r collapse', () => {
    const s = new LineStore(100);
    s.loadEnd(chunk([], 0, { atStart: true }));
    let r = s.appendFrame('first li', 0);
    expect(r.added).toBe(1);
    expect(texts(s)).toEqual(['first li']);
    r = s.appendFrame('ne\r\n[1/2]\r[2/2]\r\n', 8);
    expect(r.added).toBe(1);
    expect(texts(s)).toEqual(['first line', '[2/2]']);
    expect(s.lines[1].offset).toBe(12);
  });

  it('keeps at most maxLines, dropping the oldest and raising base', () => {
    const s = new LineStore(3);
    s.loadEnd(chunk(['a', 'b'], 0, { atStart: true }));
    const bSeq = s.lines[1].seq;
    const r = s.appendFrame('c\nd\ne\n', 4);
    expect(r.dropped).toBe(2);
    expect(texts(s)).toEqual(['c', 'd', 'e']);
    expect(s.base).toBe(2);
    expect(s.atStart).toBe(false);
    expect(s.firstOffset).toBe(4);
    expect(s.lines.some((l) => l.seq === bSeq)).toBe(false);
    // Logical indices: c was line 2 of the output and stays 2.
    expect(s.at(2)?.text).toBe('c');
    expect(s.at(4)?.text).toBe('e');
    expect(s.at(1)).toBeUndefined();
  });

  it('prepends older lines keeping every held line at its logical index', () => {
    const s = new LineStore(10);
    s.loadEnd(chunk(['x', 'y'], 100));
    const before = s.lines.map((l, i) => [s.base + i, l.seq]);
    const r = s.prepend(chunk(['u', 'v', 'w'], 94, { atStart: true }));
    expect(r).toEqual({ added: 3, droppedFromEnd: 0 });
    expect(texts(s)).toEqual(['u', 'v', 'w', 'x', 'y']);
    expect(s.base).toBe(-3);
    for (const [index, seq] of before) expect(s.at(index)?.seq).toBe(seq);
    expect(s.at(-3)?.text).toBe('u');
    expect(s.firstOffset).toBe(94);
    expect(s.atStart).toBe(true);
  });

  it('detaches from the end when prepending past the window, then only counts new lines', () => {
    const s = new LineStore(4);
    s.loadEnd(chunk(['c', 'd', 'e'], 4));
    const r = s.prepend(chunk(['a', 'b'], 0, { atStart: true }));
    expect(r.droppedFromEnd).toBe(1);
    expect(texts(s)).toEqual(['a', 'b', 'c', 'd']);
    expect(s.detached).toBe(true);
    s.appendFrame('f\ng\n', 10);
    expect(texts(s)).toEqual(['a', 'b', 'c', 'd']);
    expect(s.missedLines).toBe(2);
    s.reset();
    expect(s.detached).toBe(false);
  });

  it('marks skipped bytes and does not continue the open line across the gap', () => {
    const s = new LineStore(100);
    s.loadEnd(chunk([], 0, { atStart: true }));
    s.appendFrame('partial', 0);
    s.appendFrame('new\n', 5000, 4993);
    expect(texts(s)).toEqual(['partial', '<skip>', 'new']);
    expect(s.lines[1].skipped).toBe(4993);
  });
});
