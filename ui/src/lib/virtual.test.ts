import { describe, expect, it } from 'vitest';
import { isAtBottom, RowLayout, scrollToReveal, visibleRange, wrappedRows } from './virtual';

describe('visibleRange', () => {
  it('covers the viewport plus overscan, clamped', () => {
    expect(visibleRange(0, 180, 18, 1000, 5)).toEqual({ start: 0, end: 15 });
    expect(visibleRange(1800, 180, 18, 1000, 5)).toEqual({ start: 95, end: 115 });
    expect(visibleRange(17990, 180, 18, 1000, 5)).toEqual({ start: 994, end: 1000 });
    expect(visibleRange(9, 18, 18, 1000, 0)).toEqual({ start: 0, end: 2 });
    expect(visibleRange(0, 500, 18, 0)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(-50, 100, 10, 20, 0)).toEqual({ start: 0, end: 10 });
  });
});

describe('isAtBottom / scrollToReveal', () => {
  it('detects the bottom within slack', () => {
    expect(isAtBottom(820, 180, 1000)).toBe(true);
    expect(isAtBottom(817, 180, 1000)).toBe(true);
    expect(isAtBottom(700, 180, 1000)).toBe(false);
  });
  it('moves as little as possible', () => {
    expect(scrollToReveal(90, 18, 100, 200)).toBe(90);
    expect(scrollToReveal(300, 18, 100, 200)).toBe(118);
    expect(scrollToReveal(150, 18, 100, 200)).toBe(100);
  });
});

describe('RowLayout', () => {
  it('is the identity when uniform', () => {
    const l = RowLayout.uniform(10);
    expect(l.totalRows).toBe(10);
    expect(l.rowOf(4)).toBe(4);
    expect(l.lineAt(7.5)).toBe(7);
    expect(l.lineAt(99)).toBe(9);
  });
  it('accumulates wrapped rows and finds lines by row', () => {
    const l = RowLayout.fromRows([1, 3, 1, 2]);
    expect(l.totalRows).toBe(7);
    expect([0, 1, 2, 3, 4].map((i) => l.rowOf(i))).toEqual([0, 1, 4, 5, 7]);
    expect(l.rowsOf(1)).toBe(3);
    expect([0, 1, 2, 3, 4, 5, 6].map((r) => l.lineAt(r))).toEqual([0, 1, 1, 1, 2, 3, 3]);
    expect(l.visibleLines(18 * 2, 18 * 2, 18, 0)).toEqual({ start: 1, end: 3 });
  });
});

describe('wrappedRows', () => {
  it('counts rows in a monospace grid', () => {
    expect(wrappedRows('', 80)).toBe(1);
    expect(wrappedRows('x'.repeat(80), 80)).toBe(1);
    expect(wrappedRows('x'.repeat(81), 80)).toBe(2);
    expect(wrappedRows('x'.repeat(250), 80)).toBe(4);
    // Wide characters take two columns.
    expect(wrappedRows('日'.repeat(40), 80)).toBe(1);
    expect(wrappedRows('日'.repeat(41), 80)).toBe(2);
    // Tabs advance to the next multiple of 8.
    expect(wrappedRows('\t'.repeat(10), 80)).toBe(1);
    expect(wrappedRows('\t'.repeat(11), 80)).toBe(2);
  });
});
