/** Grouping the workspace's suggested commands (docs/ipc.md `suggestions`) for the start bar. */

import type { ProcessRecord } from '../bindings/ProcessRecord';
import type { Suggestion } from '../bindings/Suggestion';

/** The sources in the order they are shown; any other source follows, in the order first seen. */
export const SOURCE_ORDER = ['package.json', 'Procfile', 'Makefile', 'Cargo.toml'] as const;

export interface SuggestionGroup {
  source: string;
  items: Suggestion[];
}

/**
 * Suggestions grouped by source, sources in `SOURCE_ORDER`, items in the order the backend gave
 * them. Blank commands are left out, and so is a second item with the same command in a group.
 */
export function groupSuggestions(list: readonly Suggestion[]): SuggestionGroup[] {
  const groups = new Map<string, SuggestionGroup>();
  for (const s of list) {
    if (s.command.trim() === '') continue;
    let g = groups.get(s.source);
    if (!g) {
      g = { source: s.source, items: [] };
      groups.set(s.source, g);
    }
    if (!g.items.some((x) => x.command === s.command)) g.items.push(s);
  }
  const rank = (source: string) => {
    const k = (SOURCE_ORDER as readonly string[]).indexOf(source);
    return k < 0 ? SOURCE_ORDER.length : k;
  };
  // Array.prototype.sort is stable: unknown sources keep their first-seen order.
  return [...groups.values()].sort((a, b) => rank(a.source) - rank(b.source));
}

/** The commands of the running processes (to mark a suggestion that is already running). */
export function runningCommands(records: readonly ProcessRecord[]): Set<string> {
  return new Set(records.filter((r) => r.status === 'running').map((r) => r.command));
}
