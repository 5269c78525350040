/**
 * What running processes cost (CPU and resident memory of each one's whole tree), and the list's
 * order by it.
 *
 * There is no event for it, so `UsageWatcher` samples: every `intervalMs`, in one
 * `process_usage` request, the running processes whose rows are on screen, while the window is
 * visible, with at most one request in flight. The backend works CPU out from the previous
 * sample of the same processes, so each request names all of them: a process left out of a
 * request gets no CPU figure from the next one.
 */

import type { ProcessRecord } from '../bindings/ProcessRecord';
import type { ProcessSort } from '../bindings/ProcessSort';
import type { Usage } from '../bindings/Usage';
import type { Service } from './services';

export const USAGE_REFRESH_MS = 2000;

type Fetch = (workspaceId: string, ids: string[]) => Promise<Partial<Record<string, Usage>>>;

export class UsageWatcher {
  /**
   * The last figures of each running process. A process that goes off screen keeps its last
   * figures (the list's order by them stays put); one that stops running loses them.
   */
  readonly usage = new Map<string, Usage>();
  onChange: () => void = () => {};

  private workspaceId: string | null = null;
  private targets: string[] = [];
  private inFlight = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private active = true;
  private disposed = false;

  constructor(
    private readonly fetch: Fetch,
    readonly intervalMs = USAGE_REFRESH_MS,
  ) {}

  /**
   * The current records (of one workspace) and which rows are on screen. Cheap to call on every
   * change of the list: only a row coming on screen asks at once; the rest waits for the timer.
   */
  update(records: readonly ProcessRecord[], visible: (id: string) => boolean): void {
    if (this.disposed) return;
    const running = new Set<string>();
    const targets: string[] = [];
    for (const r of records) {
      if (r.status !== 'running') continue;
      running.add(r.id);
      if (visible(r.id)) targets.push(r.id);
    }
    let dropped = false;
    for (const id of [...this.usage.keys()]) {
      if (!running.has(id)) dropped = this.usage.delete(id) || dropped;
    }
    const workspaceId = records[0]?.workspaceId ?? null;
    const appeared = targets.some((id) => !this.targets.includes(id)) || workspaceId !== this.workspaceId;
    this.workspaceId = workspaceId;
    this.targets = targets;
    if (dropped) this.onChange();
    if (appeared && this.active) void this.refresh();
    this.schedule();
  }

  /** Whether the window is visible: sampling stops while it is not, and catches up when it is. */
  setActive(active: boolean): void {
    if (this.disposed || active === this.active) return;
    this.active = active;
    if (active) void this.refresh();
    this.schedule();
  }

  /** Whether the timer is running (for tests and diagnostics). */
  get polling(): boolean {
    return this.timer !== null;
  }

  dispose(): void {
    this.disposed = true;
    this.targets = [];
    this.schedule();
  }

  private schedule(): void {
    const want = !this.disposed && this.active && this.targets.length > 0;
    if (want && this.timer === null) this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    else if (!want && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private async refresh(): Promise<void> {
    const workspaceId = this.workspaceId;
    if (this.inFlight || workspaceId === null || this.targets.length === 0) return;
    this.inFlight = true;
    const asked = this.targets;
    try {
      const answer = await this.fetch(workspaceId, asked);
      if (this.disposed || workspaceId !== this.workspaceId) return;
      let changed = false;
      for (const id of asked) {
        const u = answer[id];
        // Only a process still running keeps what came back.
        if (!u || !this.targets.includes(id)) continue;
        const before = this.usage.get(id);
        // A first sample has no CPU figure yet: the last one known stands until the next.
        const next: Usage = { cpuPercent: u.cpuPercent ?? before?.cpuPercent ?? null, rssBytes: u.rssBytes };
        if (!before || before.cpuPercent !== next.cpuPercent || before.rssBytes !== next.rssBytes) {
          this.usage.set(id, next);
          changed = true;
        }
      }
      if (changed) this.onChange();
    } catch {
      // The workspace may be gone or a process may have ended: the next tick asks again.
    } finally {
      this.inFlight = false;
    }
  }
}

/** The value a sort orders by, or null when there is none (not running, not measured yet). */
function sortValue(u: Usage | undefined, by: ProcessSort): number | null {
  if (!u) return null;
  return by === 'cpu' ? u.cpuPercent : by === 'memory' ? u.rssBytes : null;
}

/**
 * The services in the order the user chose: `started` keeps them as they come (newest first);
 * `cpu` and `memory` put the most costly latest runs first, and the services without a figure
 * after them in their usual order.
 */
export function sortServices(services: Service[], by: ProcessSort, usage: Readonly<Record<string, Usage>>): Service[] {
  if (by === 'started') return services;
  return services
    .map((s, i) => ({ s, i, v: s.latest.status === 'running' ? sortValue(usage[s.latest.id], by) : null }))
    .sort((a, b) => {
      if (a.v !== null && b.v !== null && a.v !== b.v) return b.v - a.v;
      if ((a.v === null) !== (b.v === null)) return a.v === null ? 1 : -1;
      return a.i - b.i;
    })
    .map((x) => x.s);
}

/** "0.0%", "3.2%", "97.5%", "215%"; "–" without a figure. */
export function formatCpu(percent: number | null | undefined): string {
  if (percent === null || percent === undefined || !Number.isFinite(percent) || percent < 0) return '–';
  return percent >= 100 ? `${Math.round(percent)}%` : `${percent.toFixed(1)}%`;
}
