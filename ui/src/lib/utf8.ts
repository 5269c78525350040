/**
 * UTF-8 byte offsets ⇄ JavaScript (UTF-16) string indices.
 *
 * The engine speaks in bytes (grep match ranges, output offsets); the DOM speaks in UTF-16 code
 * units. These helpers convert without allocating an encoded copy of the string.
 */

/** Bytes that the code point starting at `s[i]` takes in UTF-8, and how many UTF-16 units it spans. */
function step(s: string, i: number): [bytes: number, units: number] {
  const c = s.charCodeAt(i);
  if (c < 0x80) return [1, 1];
  if (c < 0x800) return [2, 1];
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return [4, 2];
  }
  // BMP characters and lone surrogates (encoded as U+FFFD, 3 bytes).
  return [3, 1];
}

/** Length of `s` encoded as UTF-8. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; ) {
    const [b, u] = step(s, i);
    n += b;
    i += u;
  }
  return n;
}

/**
 * Converts byte offsets into UTF-16 indices of `s`. Offsets must be sorted ascending is NOT
 * required: they are converted in one pass over the string after sorting a copy. An offset that
 * falls inside a multi-byte character maps to the start of that character when `round` is
 * "down" and past its end when "up". Offsets past the end map to `s.length`.
 */
export function byteOffsetsToIndices(s: string, offsets: readonly number[], round: 'down' | 'up' = 'down'): number[] {
  const order = offsets.map((o, k) => [o, k] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(offsets.length);
  let i = 0;
  let bytes = 0;
  for (const [off, k] of order) {
    while (i < s.length) {
      const [b, u] = step(s, i);
      if (bytes + b > off) {
        if (bytes < off && round === 'up') {
          bytes += b;
          i += u;
        }
        break;
      }
      bytes += b;
      i += u;
    }
    out[k] = i;
  }
  return out;
}

/** A UTF-8 byte range `[start, end)` of `s` as a UTF-16 index range, clipped to the string. */
export function byteRangeToIndexRange(s: string, range: readonly [number, number]): [number, number] {
  const [start] = byteOffsetsToIndices(s, [range[0]], 'down');
  const [end] = byteOffsetsToIndices(s, [range[1]], 'up');
  return [start, Math.max(start, end)];
}

/** Every byte range of `s` converted (a single pass per call; ranges may be unsorted). */
export function byteRangesToIndexRanges(s: string, ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const starts = byteOffsetsToIndices(s, ranges.map((r) => r[0]), 'down');
  const ends = byteOffsetsToIndices(s, ranges.map((r) => r[1]), 'up');
  return ranges.map((_, k) => [starts[k], Math.max(starts[k], ends[k])] as [number, number]);
}
