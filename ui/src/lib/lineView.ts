/** Parsing cache and the Svelte action that fills an element with a rendered output line. */

import type { GrepLine } from '../bindings/GrepLine';
import { parseAnsi, stripAnsi, type AnsiState, type ParsedLine } from './ansi';
import { renderLineInto, type Highlight } from './render';
import { byteRangesToIndexRanges } from './utf8';

const MAX_CACHE = 5000;
const cache = new Map<string, ParsedLine>();

/** The parsed form of a raw line starting in SGR state `style`, cached (most recently used kept). */
export function parsed(raw: string, style: AnsiState = ''): ParsedLine {
  // A state is digits and `;`: the first `m` ends it.
  const key = `${style}m${raw}`;
  let p = cache.get(key);
  if (p) {
    cache.delete(key);
    cache.set(key, p);
    return p;
  }
  p = parseAnsi(raw, style);
  cache.set(key, p);
  if (cache.size > MAX_CACHE) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return p;
}

/** Display text of a line object, computed once and kept on it. */
export function plainOf(line: { text: string; plain?: string }): string {
  if (line.plain === undefined) line.plain = stripAnsi(line.text);
  return line.plain;
}

export interface LineParams {
  text: string;
  /** The SGR state the line starts in (the previous line's end); default when absent. */
  style?: AnsiState;
  highlights?: Highlight[];
}

/** `use:lineContent={{ text, style, highlights }}`: renders the line as text nodes (never HTML). */
export function lineContent(node: HTMLElement, params: LineParams) {
  let last: LineParams | null = null;
  const draw = (p: LineParams) => {
    if (last && last.text === p.text && (last.style ?? '') === (p.style ?? '') && sameHighlights(last.highlights, p.highlights)) return;
    last = p;
    renderLineInto(node, parsed(p.text, p.style).spans, p.highlights ?? []);
  };
  draw(params);
  return {
    update: draw,
  };
}

function sameHighlights(a: Highlight[] | undefined, b: Highlight[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    if (x[i].start !== y[i].start || x[i].end !== y[i].end || !!x[i].current !== !!y[i].current) return false;
  }
  return true;
}

/**
 * A grep line's match ranges (UTF-8 bytes into the raw text) as highlights of its display text
 * (UTF-16 indices after escape sequences are removed).
 */
export function grepHighlights(line: GrepLine): Highlight[] {
  const p = parsed(line.text);
  const out: Highlight[] = [];
  for (const [s, e] of byteRangesToIndexRanges(line.text, line.matches)) {
    const start = p.rawToText[Math.min(s, line.text.length)];
    const end = p.rawToText[Math.min(e, line.text.length)];
    if (end > start) out.push({ start, end });
  }
  return mergeHighlights(out);
}

/** Sorts and merges overlapping highlights. */
export function mergeHighlights(hs: Highlight[]): Highlight[] {
  const sorted = [...hs].sort((a, b) => a.start - b.start);
  const out: Highlight[] = [];
  for (const h of sorted) {
    const last = out[out.length - 1];
    if (last && h.start <= last.end) last.end = Math.max(last.end, h.end);
    else out.push({ ...h });
  }
  return out;
}
