/**
 * What a line of output looks like once written, as a terminal leaves it.
 *
 * - A `\r` inside a line means the program rewrote the line (a progress bar): the line shows its
 *   last state, the text after the last `\r` that has any. A `\r` right before the `\n` (`\r\n`)
 *   or at the end of an unfinished line is no state of its own.
 * - Text may arrive in pieces (a line continued by the next frame, cut anywhere between `\r` and
 *   `\n`): a line is written to piece by piece and keeps only what it shows. However long a line
 *   grows and however often it is rewritten, it holds at most `MAX_LINE_CHARS` characters of
 *   text, plus the colour changes of the states it overwrote (bounded too).
 *
 * Lines are cut at `\n` by the engine, which also says where each starts in bytes; nothing here
 * counts bytes.
 */

import { ansiEnd, applySgr, sgrSequences, type AnsiState } from './ansi';

/** The most UTF-16 code units one line's shown state holds; the rest of a longer line is cut. */
export const MAX_LINE_CHARS = 64 * 1024;

/**
 * The most characters of colour changes kept from overwritten states. They are only needed to
 * know the colours the shown state starts with; a reset makes everything before it irrelevant,
 * and past this size the oldest changes are forgotten.
 */
const MAX_LEAD_CHARS = 4096;

// A reset (SGR 0, or no parameter) at the start of a sequence: nothing before it matters.
// eslint-disable-next-line no-control-regex
const RESET = /\x1b\[0*[;m]/g;

/** `lead` followed by the colour changes `more`, bounded. */
function addLead(lead: string, more: string): string {
  if (more === '') return lead;
  let cut = -1;
  RESET.lastIndex = 0;
  for (let m = RESET.exec(more); m; m = RESET.exec(more)) cut = m.index;
  let out = cut >= 0 ? more.slice(cut) : lead + more;
  if (out.length > 2 * MAX_LEAD_CHARS) {
    const from = out.indexOf('\x1b', out.length - MAX_LEAD_CHARS);
    out = from >= 0 ? out.slice(from) : '';
  }
  return out;
}

/** One line being written: its shown state, bounded whatever is written to it. */
export class CarriageLine {
  /** The last non-empty state before the latest `\r`. */
  private shown = '';
  private shownLead = '';
  private shownCut = false;
  /** What was written since the latest `\r`. */
  private current = '';
  /** Colour changes in everything overwritten before `current`. */
  private currentLead = '';
  private currentCut = false;

  /** Writes more of the line (no `\n`). */
  write(text: string): void {
    let from = 0;
    for (;;) {
      const cr = text.indexOf('\r', from);
      this.append(cr < 0 ? text.slice(from) : text.slice(from, cr));
      if (cr < 0) return;
      if (this.current !== '') {
        this.shown = this.current;
        this.shownLead = this.currentLead;
        this.shownCut = this.currentCut;
        this.currentLead = addLead(this.currentLead, sgrSequences(this.current));
        this.current = '';
        this.currentCut = false;
      }
      from = cr + 1;
    }
  }

  /** The text the line shows (escape sequences kept). */
  get text(): string {
    return this.current !== '' ? this.current : this.shown;
  }

  /** The colour changes of the overwritten states before the shown one. */
  get lead(): string {
    return this.current !== '' ? this.currentLead : this.shownLead;
  }

  /** Whether the shown state was longer than `MAX_LINE_CHARS` and cut. */
  get cut(): boolean {
    return this.current !== '' ? this.currentCut : this.shownCut;
  }

  /** Characters held (for the bound's tests). */
  get heldChars(): number {
    return this.shown.length + this.current.length + this.shownLead.length + this.currentLead.length;
  }

  private append(piece: string): void {
    // What follows a cut is not next to what was kept.
    if (piece === '' || this.currentCut) return;
    const room = MAX_LINE_CHARS - this.current.length;
    if (piece.length <= room) {
      this.current += piece;
      return;
    }
    this.currentCut = true;
    if (room <= 0) return;
    let keep = piece.slice(0, room);
    // Never keep half of a surrogate pair.
    const last = keep.charCodeAt(keep.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) keep = keep.slice(0, -1);
    this.current += keep;
  }
}

/** A line as shown: its text (escape sequences kept) and the SGR state it starts with. */
export interface ShownLine {
  text: string;
  /** The state the shown text starts in. */
  style: AnsiState;
  /** The text was cut at `MAX_LINE_CHARS`. */
  cut: boolean;
}

/** The shown state of a line written as `raw`, starting in state `start`. */
export function showLine(raw: string, start: AnsiState): ShownLine & { lead: string } {
  const c = new CarriageLine();
  c.write(raw);
  return { text: c.text, lead: c.lead, style: applySgr(start, c.lead), cut: c.cut };
}

/**
 * Splits a whole text (head/tail content) into shown lines, colours carried from one line to the
 * next from the default state at its start; a final `\n` adds no empty line.
 */
export function splitLines(text: string): ShownLine[] {
  if (text === '') return [];
  const raws = text.split('\n');
  if (raws[raws.length - 1] === '') raws.pop();
  let state: AnsiState = '';
  return raws.map((raw) => {
    const { text: shown, style, cut } = showLine(raw, state);
    state = ansiEnd(shown, style);
    return { text: shown, style, cut };
  });
}
