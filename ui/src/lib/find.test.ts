import { describe, expect, it } from 'vitest';
import { findMatches, stepMatch } from './find';

describe('find in view', () => {
  it('finds every occurrence, case-insensitively by default', () => {
    const m = findMatches(['Error: x', 'no', 'error error'], 'error');
    expect(m).toEqual([
      { line: 0, start: 0, end: 5 },
      { line: 2, start: 0, end: 5 },
      { line: 2, start: 6, end: 11 },
    ]);
    expect(findMatches(['Error'], 'error', { caseSensitive: true })).toEqual([]);
    expect(findMatches(['aaaa'], 'aa')).toHaveLength(2);
    expect(findMatches(['x'], '')).toEqual([]);
  });
  it('steps with wrap-around', () => {
    expect(stepMatch(-1, 3, false)).toBe(0);
    expect(stepMatch(-1, 3, true)).toBe(2);
    expect(stepMatch(2, 3, false)).toBe(0);
    expect(stepMatch(0, 3, true)).toBe(2);
    expect(stepMatch(0, 0, false)).toBe(-1);
  });
});
