import { describe, expect, it } from 'vitest';
import { ansiEnd, paletteColor, parseAnsi, stripAnsi } from './ansi';

const E = '\x1b[';

describe('parseAnsi', () => {
  it('returns plain text as one unstyled span', () => {
    const p = parseAnsi('hello world');
    expect(p.text).toBe('hello world');
    expect(p.spans).toEqual([{ text: 'hello world', start: 0, classes: [], color: null, background: null }]);
  });

  it('maps the 16 base colours to themed classes', () => {
    const p = parseAnsi(`a${E}31mred${E}0m ${E}92mbright${E}0m ${E}44mbg${E}0m`);
    expect(p.text).toBe('ared bright bg');
    const byText = Object.fromEntries(p.spans.map((s) => [s.text, s]));
    expect(byText['red'].classes).toEqual(['ansi-red-fg']);
    expect(byText['bright'].classes).toEqual(['ansi-bright-green-fg']);
    expect(byText['bg'].classes).toEqual(['ansi-blue-bg']);
    expect(byText['a'].classes).toEqual([]);
  });

  it('applies bold, underline and resets them', () => {
    const p = parseAnsi(`${E}1;32mok${E}0m plain ${E}4munder${E}m after`);
    expect(p.text).toBe('ok plain under after');
    expect(p.spans[0]).toMatchObject({ text: 'ok', classes: ['ansi-green-fg', 'ansi-bold'] });
    expect(p.spans[1]).toMatchObject({ text: ' plain ', classes: [] });
    expect(p.spans[2]).toMatchObject({ text: 'under', classes: ['ansi-underline'] });
    expect(p.spans[3]).toMatchObject({ text: ' after', classes: [] });
  });

  it('turns 256-colour and truecolour into explicit colours', () => {
    const p = parseAnsi(`${E}38;5;196mp${E}0m${E}38;5;9mq${E}0m${E}38;2;10;20;30mt${E}48;2;1;2;3mu${E}0mv`);
    expect(p.text).toBe('pqtuv');
    expect(p.spans.find((s) => s.text === 'p')?.color).toBe('rgb(255, 0, 0)');
    // Palette 0-15 are the themed base colours.
    expect(p.spans.find((s) => s.text === 'q')).toMatchObject({ classes: ['ansi-bright-red-fg'], color: null });
    expect(p.spans.find((s) => s.text === 't')).toMatchObject({ color: 'rgb(10, 20, 30)', background: null });
    expect(p.spans.find((s) => s.text === 'u')).toMatchObject({ color: 'rgb(10, 20, 30)', background: 'rgb(1, 2, 3)' });
    // After a reset the stale truecolour is not applied.
    expect(p.spans.find((s) => s.text === 'v')).toMatchObject({ color: null, background: null, classes: [] });
  });

  it('removes non-SGR escapes (cursor, erase, OSC hyperlinks and titles) and control characters', () => {
    const raw = `${E}2K${E}1Gx\x1b]8;;http://example.com\x07link\x1b]8;;\x07 \x1b]0;title\x1b\\y\x07\bz`;
    const p = parseAnsi(raw);
    expect(p.text).toBe('xlink yz');
    expect(stripAnsi(raw)).toBe('xlink yz');
  });

  it('keeps tabs and maps raw indices to display indices', () => {
    const raw = `a${E}31mb\tc${E}0md`;
    const p = parseAnsi(raw);
    expect(p.text).toBe('ab\tcd');
    expect(p.rawToText[0]).toBe(0); // a
    expect(p.rawToText[raw.indexOf('b')]).toBe(1);
    expect(p.rawToText[raw.indexOf('d')]).toBe(4);
    expect(p.rawToText[raw.length]).toBe(5);
    // Inside an escape sequence: the next displayed character.
    expect(p.rawToText[2]).toBe(1);
  });

  it('spans always concatenate to the display text', () => {
    for (const raw of [`${E}31m${E}0m`, `${E}1m`, `x${E}38;5;300my`, `${E}38:5:196mz`, `${E}31munterminated ${E}`]) {
      const p = parseAnsi(raw);
      expect(p.spans.map((s) => s.text).join('')).toBe(p.text);
    }
  });
});

describe('state across lines', () => {
  it('starts a line in the state the previous one ended with', () => {
    const first = parseAnsi(`${E}1;31merror: boom`);
    expect(first.end).toBe('31;1');
    const next = parseAnsi('  at frame 1', first.end);
    expect(next.spans).toEqual([{ text: '  at frame 1', start: 0, classes: ['ansi-red-fg', 'ansi-bold'], color: null, background: null }]);
    expect(next.end).toBe('31;1');
    expect(parseAnsi(`done${E}0m`, next.end).end).toBe('');
  });

  it('writes every state so that it recreates itself', () => {
    const raws = [`${E}38;5;196mx`, `${E}48;2;1;2;3;92mx`, `${E}4;9;2mx`, `${E}33;44mx${E}39m`, `${E}1m${E}1m${E}22mx`];
    for (const raw of raws) {
      const state = ansiEnd(raw, '');
      expect(state).toMatch(/^[0-9;]*$/);
      const direct = parseAnsi(`${raw}tail`).spans.at(-1);
      const carried = parseAnsi('tail', state).spans[0];
      // The same style (decorations may come in another order).
      const style = (s: typeof carried | undefined) => ({ ...s, text: '', start: 0, classes: [...(s?.classes ?? [])].sort() });
      expect(style(carried)).toEqual(style(direct));
      expect(ansiEnd('more', state)).toBe(state);
    }
  });
});

describe('paletteColor', () => {
  it('computes the xterm cube and grey ramp', () => {
    expect(paletteColor(16)).toBe('rgb(0, 0, 0)');
    expect(paletteColor(21)).toBe('rgb(0, 0, 255)');
    expect(paletteColor(208)).toBe('rgb(255, 135, 0)');
    expect(paletteColor(232)).toBe('rgb(8, 8, 8)');
    expect(paletteColor(255)).toBe('rgb(238, 238, 238)');
    expect(paletteColor(3)).toBeNull();
    expect(paletteColor(256)).toBeNull();
  });
});
