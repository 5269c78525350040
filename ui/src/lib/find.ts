/** Find-in-view over the loaded lines' display text (plain text, case-insensitive by default). */

export interface FindMatch {
  /** Index of the line in the list searched. */
  line: number;
  /** `[start, end)` in the line's display text. */
  start: number;
  end: number;
}

/** Every non-overlapping occurrence of `query` in `texts`, in order; capped at `limit`. */
export function findMatches(texts: readonly string[], query: string, opts: { caseSensitive?: boolean; limit?: number } = {}): FindMatch[] {
  const out: FindMatch[] = [];
  if (query === '') return out;
  const limit = opts.limit ?? 10_000;
  const needle = opts.caseSensitive ? query : query.toLowerCase();
  for (let line = 0; line < texts.length; line++) {
    const hay = opts.caseSensitive ? texts[line] : texts[line].toLowerCase();
    // toLowerCase may change lengths for a few characters; then indices are approximate.
    for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) {
      out.push({ line, start: i, end: i + needle.length });
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/** The next index to show after `current` (wrapping), forwards or backwards. */
export function stepMatch(current: number, count: number, backwards: boolean): number {
  if (count <= 0) return -1;
  if (current < 0 || current >= count) return backwards ? count - 1 : 0;
  return backwards ? (current - 1 + count) % count : (current + 1) % count;
}
