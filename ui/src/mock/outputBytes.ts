/**
 * The engine's rules for output bytes, for the fake backend and the tests: lines cut at `\n`, each
 * with the offset of its first byte, decoded for display only (invalid sequences replaced).
 */

import type { LineChunk } from '../bindings/LineChunk';
import type { OutputLine } from '../bindings/OutputLine';
import type { DataFrame } from '../lib/lineStore';

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The lines of `bytes` (which start at offset `start`); a final `\n` ends the last line. */
export function decodeLines(bytes: Uint8Array, start: number): OutputLine[] {
  const out: OutputLine[] = [];
  let from = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 10) {
      out.push({ offset: start + from, text: decoder.decode(bytes.subarray(from, i)) });
      from = i + 1;
    }
  }
  if (from < bytes.length) out.push({ offset: start + from, text: decoder.decode(bytes.subarray(from)) });
  return out;
}

/** A data frame of the bytes `bytes`, which start at `offset`. */
export function dataFrame(bytes: Uint8Array, offset: number, skipped = 0): DataFrame {
  return { type: 'data', offset, end: offset + bytes.length, lines: decodeLines(bytes, offset), lastLineComplete: bytes.length > 0 && bytes[bytes.length - 1] === 10, skipped };
}

/** Whether `seq` (shorter than its character) is the start of a well-formed UTF-8 sequence. */
function startsACharacter(seq: Uint8Array): boolean {
  const lead = seq[0];
  const need = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (need === 0 || seq.length >= need) return false;
  for (let k = 1; k < seq.length; k++) {
    let lo = 0x80;
    let hi = 0xbf;
    if (k === 1 && lead === 0xe0) lo = 0xa0;
    if (k === 1 && lead === 0xed) hi = 0x9f;
    if (k === 1 && lead === 0xf0) lo = 0x90;
    if (k === 1 && lead === 0xf4) hi = 0x8f;
    if (seq[k] < lo || seq[k] > hi) return false;
  }
  return true;
}

/**
 * Length of `bytes` without a trailing incomplete character (the start of a character whose other
 * bytes are not there yet); invalid bytes are kept.
 */
export function completePrefixLen(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i >= Math.max(0, bytes.length - 3); i--) {
    if ((bytes[i] & 0xc0) === 0x80) continue;
    return startsACharacter(bytes.subarray(i)) ? i : bytes.length;
  }
  return bytes.length;
}

/** `lines_before`: the up to `n` lines of `file` that end at `end` (the file's end, less a character still being written, when null). */
export function linesBefore(file: Uint8Array, end: number | null, n: number): LineChunk {
  const stop = end === null || end >= file.length ? completePrefixLen(file) : end;
  let i = stop - 1;
  // The `\n` that ends the last line does not start one.
  if (i >= 0 && file[i] === 10) i--;
  let count = 0;
  while (i >= 0) {
    if (file[i] === 10 && ++count >= n) break;
    i--;
  }
  const start = n <= 0 ? stop : i < 0 ? 0 : i + 1;
  return {
    lines: decodeLines(file.subarray(start, stop), start),
    startOffset: start,
    endOffset: stop,
    atStart: start === 0,
    atEnd: stop === file.length,
    lastLineComplete: stop > start && file[stop - 1] === 10,
    sizeBytes: file.length,
    droppedBytes: 0,
  };
}

const encoder = new TextEncoder();

/** A data frame of `text` (valid UTF-8 once encoded), which starts at `offset`. */
export function textFrame(text: string, offset: number, skipped = 0): DataFrame {
  return dataFrame(encoder.encode(text), offset, skipped);
}
