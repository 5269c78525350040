/**
 * Builds the DOM of one output line from its span model: elements made with
 * `document.createElement`, text set with `textContent`. Output is untrusted; it never goes
 * through an HTML parser.
 */

import type { Span } from './ansi';

/** A highlighted range `[start, end)` of a line's display text. */
export interface Highlight {
  start: number;
  end: number;
  /** The current match of a find (drawn stronger). */
  current?: boolean;
}

/** A span cut at highlight boundaries: each piece is either inside one highlight or outside all. */
export interface Piece {
  span: Span;
  text: string;
  highlight: Highlight | null;
}

/** Cuts spans at the boundaries of (sorted, non-overlapping) highlights. */
export function cutSpans(spans: readonly Span[], highlights: readonly Highlight[]): Piece[] {
  const hs = [...highlights].filter((h) => h.end > h.start).sort((a, b) => a.start - b.start);
  if (hs.length === 0) return spans.map((span) => ({ span, text: span.text, highlight: null }));
  const out: Piece[] = [];
  let h = 0;
  for (const span of spans) {
    const spanEnd = span.start + span.text.length;
    let pos = span.start;
    while (pos < spanEnd) {
      while (h < hs.length && hs[h].end <= pos) h++;
      const cur = hs[h];
      if (!cur || cur.start >= spanEnd) {
        out.push({ span, text: span.text.slice(pos - span.start), highlight: null });
        pos = spanEnd;
      } else if (cur.start > pos) {
        out.push({ span, text: span.text.slice(pos - span.start, cur.start - span.start), highlight: null });
        pos = cur.start;
      } else {
        const end = Math.min(cur.end, spanEnd);
        out.push({ span, text: span.text.slice(pos - span.start, end - span.start), highlight: cur });
        pos = end;
      }
    }
  }
  return out;
}

/** Replaces the children of `target` with the line's pieces (text nodes, spans, marks). */
export function renderLineInto(target: HTMLElement, spans: readonly Span[], highlights: readonly Highlight[] = []): void {
  const doc = target.ownerDocument;
  const frag = doc.createDocumentFragment();
  for (const piece of cutSpans(spans, highlights)) {
    const { span } = piece;
    let node: Node = doc.createTextNode(piece.text);
    if (span.classes.length > 0 || span.color || span.background) {
      const el = doc.createElement('span');
      if (span.classes.length > 0) el.className = span.classes.join(' ');
      // CSSOM, not a style attribute: allowed under a strict CSP.
      if (span.color) el.style.color = span.color;
      if (span.background) el.style.backgroundColor = span.background;
      el.appendChild(node);
      node = el;
    }
    if (piece.highlight) {
      const mark = doc.createElement('mark');
      mark.className = piece.highlight.current ? 'hl hl-current' : 'hl';
      mark.appendChild(node);
      node = mark;
    }
    frag.appendChild(node);
  }
  target.replaceChildren(frag);
}
