/**
 * Range math for the virtual list: which rows to render for a scroll position, where a row is,
 * and (for wrapped lines) how many visual rows a line takes in a monospace grid.
 */

export interface Range {
  /** First row to render (inclusive). */
  start: number;
  /** Row after the last to render (exclusive). */
  end: number;
}

/** Rows intersecting the viewport, widened by `overscan` on each side, clamped to `[0, count)`. */
export function visibleRange(scrollTop: number, viewportHeight: number, rowHeight: number, count: number, overscan = 8): Range {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const top = Math.max(0, scrollTop);
  const first = Math.floor(top / rowHeight);
  const last = Math.ceil((top + Math.max(0, viewportHeight)) / rowHeight);
  const start = Math.min(count, Math.max(0, first - overscan));
  const end = Math.min(count, Math.max(start, last + overscan));
  return { start, end };
}

/** Whether the viewport shows the bottom of the content (within `slack` pixels). */
export function isAtBottom(scrollTop: number, clientHeight: number, scrollHeight: number, slack = 4): boolean {
  return scrollTop + clientHeight >= scrollHeight - slack;
}

/** The scrollTop that shows row `index` inside the viewport, moving as little as possible. */
export function scrollToReveal(rowTop: number, rowHeight: number, scrollTop: number, viewportHeight: number): number {
  if (rowTop < scrollTop) return rowTop;
  if (rowTop + rowHeight > scrollTop + viewportHeight) return rowTop + rowHeight - viewportHeight;
  return scrollTop;
}

/**
 * Where each line starts, in visual rows. Uniform (one row per line) unless built from per-line
 * row counts (wrapped lines).
 */
export class RowLayout {
  /** prefix[i] = visual rows before line i; prefix[count] = total. Null when uniform. */
  private prefix: Float64Array | null;
  readonly count: number;

  private constructor(count: number, prefix: Float64Array | null) {
    this.count = count;
    this.prefix = prefix;
  }

  static uniform(count: number): RowLayout {
    return new RowLayout(count, null);
  }

  static fromRows(rows: ArrayLike<number>): RowLayout {
    const prefix = new Float64Array(rows.length + 1);
    for (let i = 0; i < rows.length; i++) prefix[i + 1] = prefix[i] + Math.max(1, rows[i]);
    return new RowLayout(rows.length, prefix);
  }

  get totalRows(): number {
    return this.prefix ? this.prefix[this.count] : this.count;
  }

  /** Visual row at which line `i` starts. */
  rowOf(i: number): number {
    const k = Math.max(0, Math.min(this.count, i));
    return this.prefix ? this.prefix[k] : k;
  }

  /** Visual rows of line `i`. */
  rowsOf(i: number): number {
    return this.rowOf(i + 1) - this.rowOf(i);
  }

  /** The line containing visual row `row` (clamped). */
  lineAt(row: number): number {
    if (this.count === 0) return 0;
    if (!this.prefix) return Math.max(0, Math.min(this.count - 1, Math.floor(row)));
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.prefix[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Lines to render for a viewport, with `overscan` extra lines on each side. */
  visibleLines(scrollTop: number, viewportHeight: number, rowHeight: number, overscan = 8): Range {
    if (this.count === 0 || rowHeight <= 0) return { start: 0, end: 0 };
    if (!this.prefix) return visibleRange(scrollTop, viewportHeight, rowHeight, this.count, overscan);
    const first = this.lineAt(Math.max(0, scrollTop) / rowHeight);
    const last = this.lineAt((Math.max(0, scrollTop) + Math.max(0, viewportHeight)) / rowHeight);
    return { start: Math.max(0, first - overscan), end: Math.min(this.count, last + 1 + overscan) };
  }
}

/** Whether a code point takes two columns in a terminal-like grid (East Asian wide, emoji). */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Visual rows a line of display text takes when wrapped at `columns` (tabs to multiples of `tab`). */
export function wrappedRows(text: string, columns: number, tab = 8): number {
  if (columns <= 0 || text.length <= columns) {
    if (columns <= 0 || (text.indexOf('\t') < 0 && !/[^\x20-\x7e]/.test(text))) return 1;
  }
  let rows = 1;
  let col = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    let w = 1;
    if (ch === '\t') w = tab - (col % tab);
    else if (isWide(cp)) w = 2;
    else if ((cp >= 0x300 && cp <= 0x36f) || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f)) w = 0;
    if (col + w > columns && col > 0) {
      rows++;
      col = ch === '\t' ? 0 : w;
      if (ch === '\t') col = Math.min(tab, columns);
      continue;
    }
    col += w;
  }
  return rows;
}
