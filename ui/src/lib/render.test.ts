import { describe, expect, it } from 'vitest';
import { parseAnsi } from './ansi';
import { cutSpans, renderLineInto } from './render';

describe('renderLineInto', () => {
  it('renders untrusted output as literal text, never as HTML', () => {
    const raw = '\x1b[31m<img src=x onerror="window.__xss=1">\x1b[0m <script>window.__xss=2</script> &amp; <b>bold</b>';
    const el = document.createElement('div');
    document.body.appendChild(el);
    renderLineInto(el, parseAnsi(raw).spans);
    expect(el.querySelector('img')).toBeNull();
    expect(el.querySelector('script')).toBeNull();
    expect(el.querySelector('b')).toBeNull();
    expect(el.textContent).toBe('<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> &amp; <b>bold</b>');
    // Only our own span elements exist, carrying the colour class.
    const tags = [...el.querySelectorAll('*')].map((n) => n.tagName);
    expect(tags).toEqual(['SPAN']);
    expect(el.querySelector('span')?.className).toBe('ansi-red-fg');
    expect((window as unknown as { __xss?: number }).__xss).toBeUndefined();
    el.remove();
  });

  it('sets explicit colours through CSSOM and wraps highlights in marks', () => {
    const el = document.createElement('div');
    renderLineInto(el, parseAnsi('ab\x1b[38;2;1;2;3mcdef\x1b[0mgh').spans, [{ start: 1, end: 3 }, { start: 5, end: 7, current: true }]);
    expect(el.textContent).toBe('abcdefgh');
    const marks = [...el.querySelectorAll('mark')];
    expect(marks.map((m) => m.textContent)).toEqual(['b', 'c', 'f', 'g']);
    expect(marks[2].className).toBe('hl hl-current');
    const coloured = [...el.querySelectorAll('span')].filter((s) => s.style.color);
    expect(coloured.map((s) => s.textContent).join('')).toBe('cdef');
    expect(coloured[0].style.color).toBe('rgb(1, 2, 3)');
  });
});

describe('cutSpans', () => {
  it('cuts spans at highlight boundaries, keeping all text', () => {
    const spans = parseAnsi('hello \x1b[32mworld\x1b[0m!').spans;
    const pieces = cutSpans(spans, [{ start: 3, end: 8 }]);
    expect(pieces.map((p) => [p.text, !!p.highlight])).toEqual([
      ['hel', false],
      ['lo ', true],
      ['wo', true],
      ['rld', false],
      ['!', false],
    ]);
  });
});
