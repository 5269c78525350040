/**
 * Listening ports of running processes, and port conflicts of failed ones.
 *
 * There is no event for sockets, so `PortWatcher` polls: every `intervalMs` for the running
 * processes whose rows are on screen, while the window is visible, plus once at once when a row's
 * status changes. At most one `listening_ports` per process is in flight. `ConflictWatcher` asks
 * `port_conflict` once per failed process.
 */

import type { ListeningPort } from '../bindings/ListeningPort';
import type { PortConflict } from '../bindings/PortConflict';
import type { ProcessRecord } from '../bindings/ProcessRecord';

export const PORT_REFRESH_MS = 3000;

type Fetch<T> = (workspaceId: string, id: string) => Promise<T>;

/** What counts as a status change for a row: running or not, stopping, another pid. */
function statusKey(r: ProcessRecord): string {
  return `${r.status}|${r.stoppingSince ? 'stopping' : ''}|${r.pid ?? ''}`;
}

function samePorts(a: readonly ListeningPort[] | undefined, b: readonly ListeningPort[]): boolean {
  if (!a || a.length !== b.length) return false;
  return a.every((p, i) => p.port === b[i].port && p.address === b[i].address && p.pid === b[i].pid);
}

/** One entry per port number (a server often listens on both 0.0.0.0 and ::), sorted. */
export function distinctPorts(ports: readonly ListeningPort[]): number[] {
  return [...new Set(ports.map((p) => p.port))].sort((a, b) => a - b);
}

export class PortWatcher {
  /** The last ports seen, by process id (only running processes have an entry). */
  readonly ports = new Map<string, ListeningPort[]>();
  onChange: () => void = () => {};

  private targets = new Map<string, { workspaceId: string; id: string }>();
  private seen = new Map<string, string>();
  private inFlight = new Set<string>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private active = true;
  private disposed = false;

  constructor(
    private readonly fetch: Fetch<ListeningPort[]>,
    readonly intervalMs = PORT_REFRESH_MS,
  ) {}

  /**
   * The current records and which rows are on screen. Cheap to call on every change of the list:
   * only a status change of a watched row asks at once; the rest waits for the timer.
   */
  update(records: readonly ProcessRecord[], visible: (id: string) => boolean): void {
    if (this.disposed) return;
    const targets = new Map<string, { workspaceId: string; id: string }>();
    const changed: string[] = [];
    const present = new Set<string>();
    for (const r of records) {
      present.add(r.id);
      const key = statusKey(r);
      if (this.seen.get(r.id) !== key) {
        this.seen.set(r.id, key);
        changed.push(r.id);
      }
      if (r.status === 'running' && visible(r.id)) targets.set(r.id, { workspaceId: r.workspaceId, id: r.id });
    }
    for (const id of [...this.seen.keys()]) if (!present.has(id)) this.seen.delete(id);
    let dropped = false;
    for (const id of [...this.ports.keys()]) {
      const r = records.find((x) => x.id === id);
      if (!r || r.status !== 'running') {
        this.ports.delete(id);
        dropped = true;
      }
    }
    // A row that just came on screen is asked at once too.
    const appeared = [...targets.keys()].filter((id) => !this.targets.has(id));
    this.targets = targets;
    if (dropped) this.onChange();
    if (this.active) {
      for (const id of new Set([...changed, ...appeared])) {
        const t = targets.get(id);
        if (t) void this.refresh(t);
      }
    }
    this.schedule();
  }

  /** Whether the window is visible: polling stops while it is not, and catches up when it is. */
  setActive(active: boolean): void {
    if (this.disposed || active === this.active) return;
    this.active = active;
    if (active) this.refreshAll();
    this.schedule();
  }

  /** Whether the timer is running (for tests and diagnostics). */
  get polling(): boolean {
    return this.timer !== null;
  }

  dispose(): void {
    this.disposed = true;
    this.targets.clear();
    this.schedule();
  }

  private schedule(): void {
    const want = !this.disposed && this.active && this.targets.size > 0;
    if (want && this.timer === null) this.timer = setInterval(() => this.refreshAll(), this.intervalMs);
    else if (!want && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private refreshAll(): void {
    for (const t of this.targets.values()) void this.refresh(t);
  }

  private async refresh(t: { workspaceId: string; id: string }): Promise<void> {
    if (this.inFlight.has(t.id)) return;
    this.inFlight.add(t.id);
    try {
      const ports = await this.fetch(t.workspaceId, t.id);
      // Only a process still watched (still running, still on screen) keeps what came back.
      if (this.disposed || !this.targets.has(t.id)) return;
      if (!samePorts(this.ports.get(t.id), ports)) {
        this.ports.set(t.id, ports);
        this.onChange();
      }
    } catch {
      // The process may have ended between two looks: the next status change says so.
    } finally {
      this.inFlight.delete(t.id);
    }
  }
}

/** Asks `port_conflict` once for each failed process whose row is on screen. */
export class ConflictWatcher {
  /** Answers by process id; null when the failure was not a port conflict. */
  readonly conflicts = new Map<string, PortConflict | null>();
  onChange: () => void = () => {};
  private asked = new Set<string>();

  constructor(private readonly fetch: Fetch<PortConflict | null>) {}

  update(records: readonly ProcessRecord[], visible: (id: string) => boolean): void {
    for (const r of records) {
      if (r.status !== 'error' || this.asked.has(r.id) || !visible(r.id)) continue;
      this.asked.add(r.id);
      void this.fetch(r.workspaceId, r.id).then(
        (c) => {
          this.conflicts.set(r.id, c);
          if (c) this.onChange();
        },
        () => this.conflicts.set(r.id, null),
      );
    }
  }
}
