import { describe, expect, it } from 'vitest';
import type { LineChunk } from '../bindings/LineChunk';
import { completePrefixLen, dataFrame, decodeLines, linesBefore, textFrame } from '../mock/outputBytes';
import { LineStore } from './lineStore';

const enc = new TextEncoder();

/** The bytes of `parts` (strings encoded as UTF-8, number arrays as raw bytes). */
function bytesOf(...parts: Array<string | number[]>): Uint8Array {
  const chunks = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A chunk of `lines` starting at `start`, as lines_before returns it (the last one open if asked). */
function chunk(lines: string[], start: number, opts: { atStart?: boolean; open?: boolean } = {}): LineChunk {
  const bytes = enc.encode(lines.map((l) => `${l}\n`).join(''));
  const body = opts.open ? bytes.subarray(0, bytes.length - 1) : bytes;
  const end = start + body.length;
  return { lines: decodeLines(body, start), startOffset: start, endOffset: end, atStart: !!opts.atStart, atEnd: true, lastLineComplete: lines.length > 0 && !opts.open, sizeBytes: end, droppedBytes: 0 };
}

const texts = (s: LineStore) => s.lines.map((l) => (l.kind === 'text' ? l.text : `<${l.kind}>`));

describe('LineStore', () => {
  it('takes every line offset from the engine', () => {
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
    s.appendFrame(textFrame('\rdownloading 90%\nok\n', c.endOffset));
    expect(texts(s)).toEqual(['done', 'downloading 90%', 'ok']);
    expect(s.lines.map((l) => l.offset)).toEqual([0, 5, 37]);
  });

  it('keeps offsets exact after an invalid byte (1 byte on disk, 3 as U+FFFD)', () => {
    const s = new LineStore(100);
    const file = bytesOf('ok\nbad', [0xff], 'more\nnext\n');
    s.loadEnd(linesBefore(file.subarray(0, 7), null, 10));
    expect(s.lastLineOpen).toBe(true);
    s.appendFrame(dataFrame(file.subarray(7), 7));
    expect(texts(s)).toEqual(['ok', 'bad\uFFFDmore', 'next']);
    expect(s.lines.map((l) => l.offset)).toEqual([0, 3, 12]);
    // And a complete last line is not continued.
    const t = new LineStore(100);
    t.loadEnd(chunk(['whole'], 0, { atStart: true }));
    expect(t.lastLineOpen).toBe(false);
    t.appendFrame(textFrame('new\n', 6));
    expect(texts(t)).toEqual(['whole', 'new']);
  });

  it('appends frames: a line split across frames, \\r\\n, and \\r collapse', () => {
    const s = new LineStore(100);
    s.loadEnd(chunk([], 0, { atStart: true }));
    let r = s.appendFrame(textFrame('first li', 0));
    expect(r.added).toBe(1);
    expect(texts(s)).toEqual(['first li']);
    r = s.appendFrame(textFrame('ne\r\n[1/2]\r[2/2]\r\n', 8));
    expect(r.added).toBe(1);
    expect(texts(s)).toEqual(['first line', '[2/2]']);
    expect(s.lines[1].offset).toBe(12);
  });

  it('keeps at most maxLines, dropping the oldest and raising base', () => {
    const s = new LineStore(3);
    s.loadEnd(chunk(['a', 'b'], 0, { atStart: true }));
    const bSeq = s.lines[1].seq;
    const r = s.appendFrame(textFrame('c\nd\ne\n', 4));
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
    s.appendFrame(textFrame('f\ng\nh', 10));
    expect(texts(s)).toEqual(['a', 'b', 'c', 'd']);
    expect(s.missedLines).toBe(2);
    s.reset();
    expect(s.detached).toBe(false);
  });

  it('marks skipped bytes and does not continue the open line across the gap', () => {
    const s = new LineStore(100);
    s.loadEnd(chunk([], 0, { atStart: true }));
    s.appendFrame(textFrame('partial', 0));
    s.appendFrame(textFrame('new\n', 5000, 4993));
    expect(texts(s)).toEqual(['partial', '<skip>', 'new']);
    expect(s.lines[1].skipped).toBe(4993);
    // A gap nobody announced does not continue it either.
    s.appendFrame(textFrame('open', 5004));
    s.appendFrame(textFrame('later\n', 6000));
    expect(texts(s)).toEqual(['partial', '<skip>', 'new', 'open', 'later']);
    expect(s.lines.map((l) => l.offset)).toEqual([0, 5000, 5000, 5004, 6000]);
  });

  it('holds a progress bar rewritten a million times in bounded space', () => {
    const s = new LineStore(100);
    s.loadEnd(chunk(['start'], 0, { atStart: true }));
    let offset = 6;
    for (let frame = 0; frame < 1000; frame++) {
      let text = '';
      for (let k = 0; k < 1000; k++) text += `\r[${String(frame * 1000 + k).padStart(7)}/1000000]`;
      const f = textFrame(text, offset);
      s.appendFrame(f);
      offset = f.end;
      const open = s.lines[s.lines.length - 1];
      expect(open.text.length + open.lead.length).toBeLessThan(100);
    }
    expect(texts(s)).toEqual(['start', '[ 999999/1000000]']);
    expect(s.lines[1].offset).toBe(6);
    expect(s.lastLineOpen).toBe(true);
  });
});

describe('LineStore colours', () => {
  const styles = (s: LineStore) => s.lines.map((l) => l.style);

  it('starts each line in the state the line before ended with', () => {
    const s = new LineStore(100);
    s.loadEnd(chunk(['\x1b[1;31merror: boom', '  at frame 1', '  at frame 2\x1b[0m', 'ok'], 0, { atStart: true }));
    expect(styles(s)).toEqual(['', '31;1', '31;1', '']);
    // Frames continue the state, also through an open line and a rewrite.
    s.appendFrame(textFrame('\x1b[32mgreen', 52));
    s.appendFrame(textFrame(' still\r\x1b[33mnow yellow\nnext\n', 62));
    expect(texts(s).slice(4)).toEqual(['\x1b[33mnow yellow', 'next']);
    expect(styles(s).slice(4)).toEqual(['32', '33']);
  });

  it('lets older lines put in front colour the lines after them, up to the first that resets', () => {
    const s = new LineStore(100);
    s.loadEnd(chunk(['held 1', 'held 2\x1b[0m', 'held 3'], 100));
    expect(styles(s)).toEqual(['', '', '']);
    s.prepend(chunk(['\x1b[4munderlined from here'], 70, { atStart: true }));
    expect(styles(s)).toEqual(['', '4', '4', '']);
  });

  it('starts in the default state after skipped bytes', () => {
    const s = new LineStore(100);
    s.loadEnd(chunk(['\x1b[31mred'], 0, { atStart: true }));
    s.appendFrame(textFrame('after the gap\n', 900, 100));
    expect(styles(s)).toEqual(['', '', '']);
  });
});

/**
 * A file with every awkward case: invalid bytes, truncated and lone continuation bytes, CRLF,
 * characters of 2 to 4 bytes, progress rewrites and colours, and a last line still being written.
 */
function awkwardFile(lines: number): Uint8Array {
  const parts: Array<string | number[]> = [];
  for (let i = 0; i < lines; i++) {
    parts.push(`${i} `);
    switch (i % 8) {
      case 0:
        parts.push('bad ', [0xff, 0xfe], ' end');
        break;
      case 1:
        parts.push('café € 😀 ✓');
        break;
      case 2:
        parts.push('cut ', [0xe2, 0x82], ' here');
        break;
      case 3:
        parts.push([0x80, 0x80, 0x80], ' lone');
        break;
      case 4:
        parts.push('10%\r50%\r\x1b[32m100%');
        break;
      case 5:
        parts.push('\x1b[0mwindows', '\r');
        break;
      case 6:
        parts.push([0xf0, 0x9f, 0x98], ' short emoji');
        break;
      default:
        parts.push('plain');
    }
    parts.push('\n');
  }
  parts.push('still writing 😀 and ', [0xe2, 0x82, 0xac]);
  return bytesOf(...parts);
}

/** What a viewer must show: every line of the file with its offset, rewrites collapsed. */
function modelLines(file: Uint8Array): Array<{ offset: number; text: string }> {
  return decodeLines(file, 0).map((l) => {
    const states = l.text.split('\r').filter((s) => s !== '');
    return { offset: l.offset, text: states[states.length - 1] ?? '' };
  });
}

/** Cuts `bytes` (from `from`) into frames as the app's stream does: sizes vary, never inside a character. */
function framesOf(file: Uint8Array, from: number, seed: number) {
  const frames = [];
  let rnd = seed;
  let at = from;
  while (at < file.length) {
    rnd = (rnd * 1103515245 + 12345) % 2147483648;
    const want = Math.min(file.length - at, 1 + (rnd % 97));
    let n = completePrefixLen(file.subarray(at, at + want));
    if (n === 0) {
      // Only the start of a character: the stream waits for the rest of it.
      const more = Math.min(file.length - at, want + 3);
      n = completePrefixLen(file.subarray(at, at + more)) || more;
    }
    frames.push(dataFrame(file.subarray(at, at + n), at));
    at += n;
  }
  return frames;
}

describe('LineStore against a model of the file', () => {
  it('scrolls up through the whole output without splitting or repeating a line, offsets exact', () => {
    const file = awkwardFile(2400);
    const model = modelLines(file);
    for (const seed of [1, 7, 42]) {
      const s = new LineStore(100_000);
      // The view opens while the first part is written (cut anywhere, even inside a character).
      const written = Math.floor(file.length * 0.6) + seed;
      const end = linesBefore(file.subarray(0, written), null, 50);
      s.loadEnd(end);
      for (const f of framesOf(file, end.endOffset, seed)) s.appendFrame(f);
      for (let guard = 0; !s.atStart && guard < 1000; guard++) {
        s.prepend(linesBefore(file, s.firstOffset, 37));
      }
      expect(s.atStart).toBe(true);
      const got = s.lines.map((l) => ({ offset: l.offset, text: l.text }));
      expect(got.length).toBe(model.length);
      expect(got).toEqual(model);
    }
  });

  it('keeps a contiguous run of the model in a small window while scrolling up past it', () => {
    const file = awkwardFile(1500);
    const model = modelLines(file);
    const index = new Map(model.map((l, i) => [l.offset, i]));
    const s = new LineStore(300);
    s.loadEnd(linesBefore(file, null, 120));
    const check = () => {
      const first = index.get(s.lines[0].offset);
      expect(first).toBeDefined();
      const got = s.lines.map((l) => ({ offset: l.offset, text: l.text }));
      expect(got).toEqual(model.slice(first, (first as number) + s.lines.length));
    };
    check();
    while (!s.atStart) {
      s.prepend(linesBefore(file, s.firstOffset, 53));
      check();
    }
    expect(s.detached).toBe(true);
    expect(s.lines[0].offset).toBe(0);
  });
});
