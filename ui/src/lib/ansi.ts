/**
 * ANSI escape sequences → a span model (text + style), for rendering as text nodes.
 *
 * SGR colours and decorations are parsed by anser (with `use_classes`, so the 16 base colours are
 * themeable CSS classes; 256-colour and truecolour values become explicit colours). Every other
 * escape sequence (cursor movement, erase, OSC titles and hyperlinks, …) and control character is
 * removed. Nothing here produces HTML.
 *
 * Colours and decorations carry across lines, as in a terminal: a line is parsed from the SGR
 * state the previous line ended with (an `AnsiState`), and its parse says the state it ends with.
 */

import Anser from 'anser';

export interface Span {
  /** Display text (no escape sequences). */
  text: string;
  /** Index of the span's first character in the line's display text. */
  start: number;
  /** CSS classes: `ansi-<colour>-fg`, `ansi-<colour>-bg`, `ansi-bold`, … */
  classes: string[];
  /** An explicit foreground colour (256-colour palette or truecolour), as CSS `rgb(…)`. */
  color: string | null;
  /** An explicit background colour, as CSS `rgb(…)`. */
  background: string | null;
}

/**
 * The SGR state (colours, decorations) at a point of the output, written as the SGR parameters
 * that recreate it after a reset: `''` is the default state, `'1;31'` bold red. States compare
 * with `===`; a state never holds anything but digits and `;`.
 */
export type AnsiState = string;

/** The state anser keeps between the sequences it reads (its instance fields). */
interface AnserState {
  fg: string | null;
  bg: string | null;
  fg_truecolor: string | null;
  bg_truecolor: string | null;
  decorations: string[];
}

export interface ParsedLine {
  /** The line as displayed: escape sequences and control characters removed. */
  text: string;
  spans: Span[];
  /**
   * Maps an index in the raw line (UTF-16) to the index of the same character in `text`; indices
   * inside an escape sequence map to the next displayed character. Length raw.length + 1.
   */
  rawToText: Int32Array;
  /** The SGR state after the line: the state the next line starts with. */
  end: AnsiState;
}

// CSI (ESC [ params intermediates final), OSC (ESC ] … BEL or ST), other two/three byte escapes,
// and C0 controls other than tab. Group 1 captures an SGR sequence (CSI … m) that anser handles.
// eslint-disable-next-line no-control-regex
const ESCAPES = /(\x1b\[[0-9;]*m)|\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]?|\x9b[0-?]*[ -/]*[@-~]?|[\x00-\x08\x0a-\x1f\x7f]/g;

/** The display text of a raw line: every escape sequence and control character removed. */
export function stripAnsi(raw: string): string {
  if (!hasControl(raw)) return raw;
  return raw.replace(ESCAPES, '');
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f\x9b]/;
function hasControl(s: string): boolean {
  return CONTROL.test(s);
}

const NAMED = new Set(['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white']);
const DECORATIONS = new Set(['bold', 'dim', 'italic', 'underline', 'blink', 'hidden', 'strikethrough']);

/** xterm's 256-colour palette entry `n` (16–255) as CSS; 0–15 are themed classes instead. */
export function paletteColor(n: number): string | null {
  if (!Number.isInteger(n) || n < 16 || n > 255) return null;
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v}, ${v}, ${v})`;
  }
  const i = n - 16;
  const level = (c: number) => (c === 0 ? 0 : 55 + c * 40);
  return `rgb(${level(Math.floor(i / 36))}, ${level(Math.floor(i / 6) % 6)}, ${level(i % 6)})`;
}

/** anser's class for the 16 base colours maps to ours; palette and truecolour to explicit colours. */
function colour(cls: string | null, truecolor: string | null, side: 'fg' | 'bg', classes: string[]): string | null {
  if (!cls) return null;
  if (cls === 'ansi-truecolor') {
    if (!truecolor || !/^\d{1,3}, \d{1,3}, \d{1,3}$/.test(truecolor)) return null;
    return `rgb(${truecolor})`;
  }
  const palette = /^ansi-palette-(\d+)$/.exec(cls);
  if (palette) return paletteColor(Number(palette[1]));
  const named = /^ansi-(bright-)?([a-z]+)$/.exec(cls);
  if (named && NAMED.has(named[2])) classes.push(`ansi-${named[1] ?? ''}${named[2]}-${side}`);
  return null;
}

/**
 * Parses one line (no `\n`) that starts in SGR state `start`. The result's spans concatenate to
 * `text`. If anser's view of the text ever disagrees with the stripped text, the line falls back
 * to one plain span: colours are lost, text never is.
 */
export function parseAnsi(raw: string, start: AnsiState = ''): ParsedLine {
  const rawToText = new Int32Array(raw.length + 1);
  if (!hasControl(raw) && start === '') {
    for (let i = 0; i <= raw.length; i++) rawToText[i] = i;
    return { text: raw, spans: raw === '' ? [] : [plain(raw)], rawToText, end: start };
  }
  // One pass: the display text, the index map, and the input for anser (text + SGR only).
  let text = '';
  let sgrOnly = '';
  let last = 0;
  let sawSgr = false;
  ESCAPES.lastIndex = 0;
  for (let m = ESCAPES.exec(raw); m; m = ESCAPES.exec(raw)) {
    const piece = raw.slice(last, m.index);
    for (let i = last; i < m.index; i++) rawToText[i] = text.length + (i - last);
    text += piece;
    sgrOnly += piece;
    for (let i = m.index; i < m.index + m[0].length; i++) rawToText[i] = text.length;
    if (m[1]) {
      sgrOnly += m[1];
      sawSgr = true;
    }
    last = m.index + m[0].length;
    if (m[0].length === 0) ESCAPES.lastIndex++;
  }
  for (let i = last; i <= raw.length; i++) rawToText[i] = text.length + (i - last);
  text += raw.slice(last);
  sgrOnly += raw.slice(last);

  if (!sawSgr && start === '') return { text, spans: text === '' ? [] : [plain(text)], rawToText, end: start };

  const anser = new Anser();
  const entries = anser.ansiToJson(`\x1b[${start}m${sgrOnly}`, { use_classes: true, remove_empty: true });
  const end = sawSgr ? stateOf(anser) : start;
  const spans: Span[] = [];
  let pos = 0;
  for (const e of entries) {
    if (!e.content) continue;
    const classes: string[] = [];
    const color = colour(e.fg, e.fg_truecolor, 'fg', classes);
    const background = colour(e.bg, e.bg_truecolor, 'bg', classes);
    for (const d of e.decorations ?? []) if (DECORATIONS.has(d)) classes.push(`ansi-${d}`);
    spans.push({ text: e.content, start: pos, classes, color, background });
    pos += e.content.length;
  }
  if (spans.map((s) => s.text).join('') !== text) {
    return { text, spans: text === '' ? [] : [plain(text)], rawToText, end };
  }
  return { text, spans, rawToText, end };
}

/** The SGR sequences of `raw`, in order (those inside other escape sequences do not count). */
export function sgrSequences(raw: string): string {
  if (raw.indexOf('\x1b') < 0) return '';
  let out = '';
  ESCAPES.lastIndex = 0;
  for (let m = ESCAPES.exec(raw); m; m = ESCAPES.exec(raw)) {
    if (m[1]) out += m[1];
    if (m[0].length === 0) ESCAPES.lastIndex++;
  }
  return out;
}

/** The state after SGR sequences `sgr` (as `sgrSequences` returns them) applied to `start`. */
export function applySgr(start: AnsiState, sgr: string): AnsiState {
  if (sgr === '') return start;
  const anser = new Anser();
  anser.ansiToJson(`\x1b[${start}m${sgr}`, { use_classes: true, remove_empty: true });
  return stateOf(anser);
}

/** The state a line leaves for the next one when it starts in `start` (no full parse). */
export function ansiEnd(raw: string, start: AnsiState): AnsiState {
  return applySgr(start, sgrSequences(raw));
}

const COLOUR_NAMES = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];
const DECORATION_CODES: Record<string, number> = { bold: 1, dim: 2, italic: 3, underline: 4, blink: 5, reverse: 7, hidden: 8, strikethrough: 9 };

/** anser's colour (a class, or `ansi-truecolor` with its value) as SGR parameters. */
function colourCodes(cls: string | null, truecolor: string | null, base: 30 | 40): string | null {
  if (!cls) return null;
  if (cls === 'ansi-truecolor') {
    const rgb = truecolor ? /^(\d{1,3}), (\d{1,3}), (\d{1,3})$/.exec(truecolor) : null;
    return rgb ? `${base + 8};2;${rgb[1]};${rgb[2]};${rgb[3]}` : null;
  }
  const palette = /^ansi-palette-(\d+)$/.exec(cls);
  if (palette) return `${base + 8};5;${palette[1]}`;
  const named = /^ansi-(bright-)?([a-z]+)$/.exec(cls);
  const index = named ? COLOUR_NAMES.indexOf(named[2]) : -1;
  if (!named || index < 0) return null;
  return String((named[1] ? base + 60 : base) + index);
}

/** The state an anser instance holds after reading sequences, in canonical form. */
function stateOf(anser: Anser): AnsiState {
  const a = anser as unknown as AnserState;
  const codes: string[] = [];
  const fg = colourCodes(a.fg, a.fg_truecolor, 30);
  if (fg) codes.push(fg);
  const bg = colourCodes(a.bg, a.bg_truecolor, 40);
  if (bg) codes.push(bg);
  const decorations = new Set<number>();
  for (const d of a.decorations) if (DECORATION_CODES[d]) decorations.add(DECORATION_CODES[d]);
  for (const d of [...decorations].sort((x, y) => x - y)) codes.push(String(d));
  return codes.join(';');
}

function plain(text: string): Span {
  return { text, start: 0, classes: [], color: null, background: null };
}
