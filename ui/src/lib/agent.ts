/**
 * The badge of a process a coding agent started through `procdeck mcp`: a friendly name for the
 * well-known clients, the client's own name otherwise. The tray's labels use the same rule on the
 * Rust side (`StartedBy::agent_display_name` in engine/src/record.rs).
 *
 * The client's name is whatever the agent's program sent, and a record may come from a folder
 * someone else wrote: it is shown as text only, without control or bidirectional formatting
 * characters, and cut to a badge's length.
 */

import type { StartedBy } from '../bindings/StartedBy';

/** Longest name a badge shows, in characters. */
export const AGENT_NAME_MAX = 24;
/** Longest name a tooltip shows: the engine keeps no longer a name from an agent. */
const TOOLTIP_NAME_MAX = 64;

/** Control characters, the marks that reorder the text around them, and the invisible BOM. */
const UNSHOWN = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu;

/** Known clients by the start of their lower-cased name, the first match winning. */
const KNOWN: ReadonlyArray<readonly [prefix: string, name: string]> = [
  ['claude-code', 'Claude Code'],
  ['codex', 'Codex'],
  ['cursor', 'Cursor'],
  ['visual studio code', 'VS Code'],
  ['vscode', 'VS Code'],
];

export interface AgentBadge {
  /** What the badge says. */
  name: string;
  /** Its tooltip, with the client's name as it was given. */
  tooltip: string;
}

/** The client's name as it can be shown: on one line, unshown characters dropped, spaces collapsed. */
function cleanName(client: string | undefined): string {
  return (client ?? '').replace(/\p{White_Space}/gu, ' ').replace(UNSHOWN, '').replace(/ +/g, ' ').trim();
}

/** The badge's name for a client: "Claude Code", "Codex", …, its own name cut short, or "Agent". */
export function agentName(client: string | undefined): string {
  const name = cleanName(client);
  if (!name) return 'Agent';
  const key = name.toLowerCase();
  const known = KNOWN.find(([prefix]) => key.startsWith(prefix));
  if (known) return known[1];
  return cut(name, AGENT_NAME_MAX);
}

/** `text` in at most `max` characters (code points), an ellipsis marking a cut. */
function cut(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}

/** The badge of a process an agent started; null for the app's, the CLI's and older records. */
export function agentBadge(startedBy: StartedBy | null): AgentBadge | null {
  if (startedBy?.kind !== 'agent') return null;
  const raw = cut(cleanName(startedBy.client), TOOLTIP_NAME_MAX);
  return {
    name: agentName(startedBy.client),
    tooltip: raw ? `Started by the coding agent ${raw} through procdeck mcp` : 'Started by a coding agent through procdeck mcp',
  };
}
