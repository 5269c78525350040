/** Keeping a workspace's process list in step with `procdeck://process` events. */

import type { ProcessEvent } from '../bindings/ProcessEvent';
import type { ProcessRecord } from '../bindings/ProcessRecord';

/** Newest first; ties by id so the order is stable. */
export function sortRecords(records: ProcessRecord[]): ProcessRecord[] {
  return records.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/**
 * The list after an event: `updated` replaces the record with the same id (or adds it),
 * `removed` deletes it. Events of other workspaces leave the list as it is (same array).
 */
export function applyProcessEvent(records: ProcessRecord[], workspaceId: string, ev: ProcessEvent): ProcessRecord[] {
  if (ev.workspaceId !== workspaceId) return records;
  const e = ev.event;
  if (e.type === 'removed') {
    return records.some((r) => r.id === e.id) ? records.filter((r) => r.id !== e.id) : records;
  }
  const i = records.findIndex((r) => r.id === e.record.id);
  if (i >= 0) {
    const next = records.slice();
    next[i] = e.record;
    return next[i].startedAt === records[i].startedAt ? next : sortRecords(next);
  }
  return sortRecords([...records, e.record]);
}

/** Replaces (or adds) one record, as after a command's answer. */
export function upsertRecord(records: ProcessRecord[], record: ProcessRecord): ProcessRecord[] {
  return applyProcessEvent(records, record.workspaceId, { workspaceId: record.workspaceId, event: { type: 'updated', record } });
}

export interface EnvRow {
  key: string;
  value: string;
}

/** The env editor's rows as a map; empty rows are ignored, a bad name is an error naming the row. */
export function envFromRows(rows: readonly EnvRow[]): { env: Record<string, string>; error: string | null; errorRow: number | null } {
  const env: Record<string, string> = {};
  for (let k = 0; k < rows.length; k++) {
    const key = rows[k].key.trim();
    if (key === '' && rows[k].value === '') continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      return { env, error: key === '' ? 'A variable needs a name' : `"${key}" is not a valid name: use letters, digits and _, not starting with a digit`, errorRow: k };
    }
    env[key] = rows[k].value;
  }
  return { env, error: null, errorRow: null };
}
