/**
 * A stack being started or stopped, as the window shows it: the last state of each entry (from
 * the statuses the app streams) and each state in words.
 */
import type { EntryStatus } from '../bindings/EntryStatus';

/** The last status of each entry, by name; a newer status replaces an older one. */
export function applyStatus(current: ReadonlyMap<string, EntryStatus>, s: EntryStatus): Map<string, EntryStatus> {
  const next = new Map(current);
  next.set(s.name, s);
  return next;
}

export type Tone = 'wait' | 'busy' | 'ok' | 'bad' | 'idle';

/** An entry's state in a few words, and how it should look. */
export function describe(s: EntryStatus): { text: string; tone: Tone } {
  switch (s.state) {
    case 'waiting':
      return { text: `waiting for ${s.on.join(', ')}`, tone: 'wait' };
    case 'starting':
      return { text: 'starting', tone: 'busy' };
    case 'ready':
      return { text: `ready: ${s.how}`, tone: 'ok' };
    case 'running':
      return { text: 'running', tone: 'ok' };
    case 'alreadyRunning':
      return { text: 'already running', tone: 'ok' };
    case 'failed':
      return { text: `failed: ${s.reason}`, tone: 'bad' };
    case 'skipped':
      return { text: `not started: ${s.because}`, tone: 'bad' };
    case 'stopping':
      return { text: 'stopping', tone: 'busy' };
    case 'stopped':
      return { text: 'stopped', tone: 'idle' };
    case 'notRunning':
      return { text: 'not running', tone: 'idle' };
  }
}

/** How a finished start or stop went, in one sentence; null when everything went as asked. */
export function summary(finals: readonly EntryStatus[]): string | null {
  const failed = finals.filter((s) => s.state === 'failed' || s.state === 'skipped');
  if (failed.length === 0) return null;
  return `${failed.length} of ${finals.length} did not start: ${failed.map((s) => `${s.name} (${describe(s).text})`).join('; ')}`;
}
