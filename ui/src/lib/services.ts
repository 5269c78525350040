/**
 * Runs of one service as one row. Running a command again makes a new record each time; records
 * that share `service` (a key the engine works out: same title, same folder) are runs of one
 * service, shown as its latest run with the earlier ones a click away. The key is the engine's
 * and is only compared here, never made.
 */

import type { ProcessRecord } from '../bindings/ProcessRecord';

export interface Service {
  /** The engine's `service` key the runs share. */
  key: string;
  /** The newest run: what the service's row shows. */
  latest: ProcessRecord;
  /** The runs before it, newest first. */
  earlier: ProcessRecord[];
  /** How many of the earlier runs are still running (a run started again while one ran). */
  earlierRunning: number;
}

/**
 * The services of records sorted newest first (`sortRecords`), in one pass: each service comes
 * where its latest run is, so the services are newest first too.
 */
export function groupServices(records: readonly ProcessRecord[]): Service[] {
  const byKey = new Map<string, Service>();
  const services: Service[] = [];
  for (const r of records) {
    const key = r.service;
    const s = byKey.get(key);
    if (s) {
      s.earlier.push(r);
      if (r.status === 'running') s.earlierRunning++;
    } else {
      const fresh: Service = { key, latest: r, earlier: [], earlierRunning: 0 };
      byKey.set(key, fresh);
      services.push(fresh);
    }
  }
  return services;
}

/** The runs that have a row on screen, in order: each latest run, then its earlier runs when expanded. */
export function visibleRuns(services: readonly Service[], expanded: ReadonlySet<string>): ProcessRecord[] {
  const rows: ProcessRecord[] = [];
  for (const s of services) {
    rows.push(s.latest);
    if (expanded.has(s.key)) for (const r of s.earlier) rows.push(r);
  }
  return rows;
}

/** Services with a run still running (the latest or an earlier one). */
export function runningServices(services: readonly Service[]): number {
  let n = 0;
  for (const s of services) if (s.latest.status === 'running' || s.earlierRunning > 0) n++;
  return n;
}
