import { describe, expect, it } from 'vitest';
import { CarriageLine, MAX_LINE_CHARS, showLine, splitLines } from './carriage';

/** The shown text of a line written in one go. */
function shown(raw: string): string {
  return showLine(raw, '').text;
}

describe('CarriageLine', () => {
  it('keeps the last state of a rewritten line', () => {
    expect(shown('10%\r50%\r100%')).toBe('100%');
    expect(shown('progress 3/3\r')).toBe('progress 3/3');
    expect(shown('a\r\r')).toBe('a');
    expect(shown('plain')).toBe('plain');
    expect(shown('\r')).toBe('');
    expect(shown('crlf\r')).toBe('crlf');
  });

  it('gives the same state whatever the pieces it is written in', () => {
    const raw = 'Building 1/3\rBuilding 2/3\r\rDone       \r';
    for (let cut = 0; cut <= raw.length; cut++) {
      for (let cut2 = cut; cut2 <= raw.length; cut2 += 3) {
        const c = new CarriageLine();
        c.write(raw.slice(0, cut));
        c.write(raw.slice(cut, cut2));
        c.write(raw.slice(cut2));
        expect(c.text).toBe('Done       ');
      }
    }
  });

  it('stays bounded through a million progress updates that never end the line', () => {
    const c = new CarriageLine();
    // A thousand frames of a thousand coloured updates each, as a progress bar writes them.
    for (let frame = 0; frame < 1000; frame++) {
      let piece = '';
      for (let k = 0; k < 1000; k++) piece += `\r\x1b[32m${frame * 1000 + k}\x1b[39m/1000000`;
      c.write(piece);
      expect(c.heldChars).toBeLessThanOrEqual(2 * MAX_LINE_CHARS);
    }
    expect(c.text).toBe('\x1b[32m999999\x1b[39m/1000000');
    expect(c.cut).toBe(false);
  });

  it('cuts a line longer than the bound and says so, never splitting a surrogate pair', () => {
    const c = new CarriageLine();
    const chunk = 'x'.repeat(MAX_LINE_CHARS - 1) + '😀';
    c.write(chunk);
    expect(c.cut).toBe(true);
    expect(c.text.length).toBe(MAX_LINE_CHARS - 1);
    for (let i = 0; i < 100; i++) c.write('y'.repeat(10_000));
    expect(c.text.length).toBe(MAX_LINE_CHARS - 1);
    // A rewrite starts a new state, which fits.
    c.write('\rshort');
    expect([c.text, c.cut]).toEqual(['short', false]);
  });

  it('keeps the colours of the states it overwrote for the state it shows', () => {
    expect(showLine('\x1b[31mfoo\rbar', '')).toMatchObject({ text: 'bar', style: '31' });
    expect(showLine('\x1b[31mfoo\x1b[0m\rbar', '1')).toMatchObject({ text: 'bar', style: '' });
    expect(showLine('bar', '1;32')).toMatchObject({ text: 'bar', style: '1;32' });
  });
});

describe('splitLines', () => {
  it('splits head/tail content, collapsing \\r and ignoring the final newline', () => {
    expect(splitLines('a\r\nb 1\rb 2\nc\n').map((l) => l.text)).toEqual(['a', 'b 2', 'c']);
    expect(splitLines('')).toEqual([]);
    expect(splitLines('\n').map((l) => l.text)).toEqual(['']);
    expect(splitLines('no newline').map((l) => l.text)).toEqual(['no newline']);
  });

  it('carries colours from one line to the next', () => {
    const lines = splitLines('\x1b[1;31merror: first\nstill red\x1b[0m\nplain\n');
    expect(lines.map((l) => l.style)).toEqual(['', '31;1', '']);
  });
});
