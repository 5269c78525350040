import { describe, expect, it } from 'vitest';
import type { GrepLine } from '../bindings/GrepLine';
import { grepHighlights } from './lineView';
import { byteOffsetsToIndices, byteRangesToIndexRanges, byteRangeToIndexRange, utf8Length } from './utf8';

/** The UTF-8 byte range of `needle`'s first occurrence in `text`, as the engine reports matches. */
function bytesOf(text: string, needle: string): [number, number] {
  const i = text.indexOf(needle);
  const start = new TextEncoder().encode(text.slice(0, i)).length;
  return [start, start + new TextEncoder().encode(needle).length];
}

describe('utf8Length', () => {
  it('matches TextEncoder for ASCII, 2/3/4-byte characters', () => {
    for (const s of ['', 'abc', 'café', '日本語', 'a🚀b', 'ñ🚀日x']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });
});

describe('byte offsets → string indices', () => {
  it('converts offsets after multi-byte characters', () => {
    const s = 'é日🚀x'; // bytes: é 2, 日 3, 🚀 4, x 1 ; UTF-16: 1, 1, 2, 1
    expect(byteOffsetsToIndices(s, [0, 2, 5, 9, 10])).toEqual([0, 1, 2, 4, 5]);
    expect(byteOffsetsToIndices(s, [10, 0, 5])).toEqual([5, 0, 2]);
    expect(byteOffsetsToIndices(s, [99])).toEqual([5]);
  });

  it('rounds offsets inside a character outwards for ranges', () => {
    const s = 'a日b';
    expect(byteRangeToIndexRange(s, [2, 3])).toEqual([1, 2]);
  });

  it('turns grep match ranges into the right substrings of non-ASCII text', () => {
    const text = 'naïve café: 日本語 error 🚀 error!';
    const ranges = [bytesOf(text, 'café'), bytesOf(text, '日本'), bytesOf(text, '🚀 error')];
    const idx = byteRangesToIndexRanges(text, ranges);
    expect(idx.map(([s, e]) => text.slice(s, e))).toEqual(['café', '日本', '🚀 error']);
    // The naive reading (bytes as UTF-16 indices) would be wrong here.
    expect(text.slice(ranges[0][0], ranges[0][1])).not.toBe('café');
  });

  it('maps grep matches through ANSI escapes onto the display text', () => {
    const text = '\x1b[31mErreur\x1b[0m: fichier «données.txt» introuvable';
    const line: GrepLine = { lineNumber: 3, offset: 0, text, matches: [bytesOf(text, 'Erreur'), bytesOf(text, 'données')] };
    const display = 'Erreur: fichier «données.txt» introuvable';
    const hs = grepHighlights(line);
    expect(hs.map((h) => display.slice(h.start, h.end))).toEqual(['Erreur', 'données']);
  });
});
