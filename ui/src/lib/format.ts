/** Formatting of sizes, times, durations and statuses for display. */

import type { ProcessRecord } from '../bindings/ProcessRecord';

/** 0 B, 999 B, 1.0 KiB, 12.3 MiB, … */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–';
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** 0s, 59s, 1m 05s, 1h 02m, 2d 3h */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  const d = Math.floor(h / 24);
  return `${d}d ${h % 24}h`;
}

/** A start time: "14:03:22" today, "Mar 4 14:03" otherwise. */
export function formatStart(iso: string, now: Date = new Date()): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const pad = (x: number) => String(x).padStart(2, '0');
  const time = `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  if (t.toDateString() === now.toDateString()) return time;
  const month = t.toLocaleString(undefined, { month: 'short' });
  return `${month} ${t.getDate()} ${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  5: 'SIGTRAP',
  6: 'SIGABRT',
  8: 'SIGFPE',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  14: 'SIGALRM',
  15: 'SIGTERM',
};

export function signalName(n: number): string {
  return SIGNALS[n] ?? `signal ${n}`;
}

export type DisplayStatus = 'running' | 'stopping' | 'stopped' | 'error' | 'lost';

export function displayStatus(r: ProcessRecord): DisplayStatus {
  if (r.status === 'running') return r.stoppingSince ? 'stopping' : 'running';
  return r.status;
}

/** "exit 1", "SIGKILL", "exit 0", or null while running. */
export function exitLabel(r: ProcessRecord): string | null {
  if (r.status === 'running') return null;
  if (r.signal !== null) return signalName(r.signal);
  if (r.exitCode !== null) return `exit ${r.exitCode}`;
  return null;
}

/** How long it ran (or has been running). */
export function runDuration(r: ProcessRecord, now: number): number {
  const start = Date.parse(r.startedAt);
  const end = r.status === 'running' || !r.stoppedAt ? now : Date.parse(r.stoppedAt);
  return Number.isNaN(start) || Number.isNaN(end) ? 0 : Math.max(0, end - start);
}

/** Milliseconds left of a stop's grace period (0 once it is over), or null when not stopping. */
export function stopRemaining(r: ProcessRecord, now: number): number | null {
  if (r.status !== 'running' || !r.stoppingSince) return null;
  const since = Date.parse(r.stoppingSince);
  if (Number.isNaN(since)) return null;
  // `now` comes from a clock that ticks once a second: it may be a little before `since`.
  return Math.max(0, Math.min(r.stopGraceMs, r.stopGraceMs - (now - since)));
}

const STATUS_LABEL = { running: 'Running', stopping: 'Stopping', stopped: 'Stopped', error: 'Error', lost: 'Lost' } as const;

/** "Running", "Stopping · 3s" (the grace left), "Error · exit 1", "Stopped · SIGTERM", … */
export function statusLabel(r: ProcessRecord, now: number): string {
  const ds = displayStatus(r);
  if (ds === 'stopping') {
    const left = stopRemaining(r, now);
    return left === null ? 'Stopping' : `Stopping · ${Math.ceil(left / 1000)}s`;
  }
  const exit = exitLabel(r);
  return exit ? `${STATUS_LABEL[ds]} · ${exit}` : STATUS_LABEL[ds];
}

/** The folder's last path component (Unix or Windows separators). */
export function basename(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  const k = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  return (k >= 0 ? trimmed.slice(k + 1) : trimmed) || path;
}

