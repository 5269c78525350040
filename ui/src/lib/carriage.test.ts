import { describe, expect, it } from 'vitest';
import { collapseCarriageReturns, LineAssembler, splitLines } from './carriage';

describe('collapseCarriageReturns', () => {
  it('keeps the last state of a rewritten line', () => {
    expect(collapseCarriageReturns('10%\r50%\r100%')).toBe('100%');
    expect(collapseCarriageReturns('progress 3/3\r')).toBe('progress 3/3');
    expect(collapseCarriageReturns('a\r\r')).toBe('a');
    expect(collapseCarriageReturns('plain')).toBe('plain');
    expect(collapseCarriageReturns('\r')).toBe('');
  });
});

describe('LineAssembler', () => {
  it('continues a line split across frames and tracks byte offsets', () => {
    const a = new LineAssembler();
    let r = a.feed('hel', 0);
    expect(r.completed).toEqual([]);
    expect(r.open).toEqual({ raw: 'hel', offset: 0 });
    r = a.feed('lo\nwör', 3);
    expect(r.completed).toEqual([{ raw: 'hello', offset: 0 }]);
    expect(r.open).toEqual({ raw: 'wör', offset: 6 });
    r = a.feed('ld\nnext\n', 6 + 4);
    expect(r.completed).toEqual([
      { raw: 'wörld', offset: 6 },
      { raw: 'next', offset: 13 },
    ]);
    expect(r.open).toBeNull();
    expect(a.endOffset).toBe(18);
  });

  it('drops the \\r of \\r\\n, also when \\r and \\n arrive in different frames', () => {
    const a = new LineAssembler();
    expect(a.feed('one\r\ntwo\r', 0)).toEqual({ completed: [{ raw: 'one', offset: 0 }], open: { raw: 'two', offset: 5 } });
    expect(a.feed('\nthree', 9).completed).toEqual([{ raw: 'two', offset: 5 }]);
  });

  it('leaves \\r progress updates in the raw line for the collapse', () => {
    const a = new LineAssembler();
    let r = a.feed('Building 1/3\r', 0);
    expect(collapseCarriageReturns(r.open!.raw)).toBe('Building 1/3');
    r = a.feed('Building 2/3\r', 13);
    expect(collapseCarriageReturns(r.open!.raw)).toBe('Building 2/3');
    r = a.feed('Done       \n', 26);
    expect(collapseCarriageReturns(r.completed[0].raw)).toBe('Done       ');
  });

  it('forgets the open line on reset', () => {
    const a = new LineAssembler();
    a.feed('partial', 0);
    a.reset();
    expect(a.open).toBeNull();
    expect(a.feed('x\n', 100).completed).toEqual([{ raw: 'x', offset: 100 }]);
  });
});

describe('splitLines', () => {
  it('splits head/tail content, collapsing \\r and ignoring the final newline', () => {
    expect(splitLines('a\r\nb 1\rb 2\nc\n')).toEqual(['a', 'b 2', 'c']);
    expect(splitLines('')).toEqual([]);
    expect(splitLines('\n')).toEqual(['']);
    expect(splitLines('no newline')).toEqual(['no newline']);
  });
});
