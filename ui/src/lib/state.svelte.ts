/**
 * The app's shared state (Svelte runes): workspaces, the selected workspace's processes, the
 * selection, the list's order, a 1 s clock for durations, toasts. Kept live by the two app
 * events; no polling here (the process list samples ports and usage of the rows it shows).
 */

import type { AppError } from '../bindings/AppError';
import type { ForeignConsent } from '../bindings/ForeignConsent';
import type { ProcessEvent } from '../bindings/ProcessEvent';
import type { ProcessRecord } from '../bindings/ProcessRecord';
import type { ProcessSort } from '../bindings/ProcessSort';
import type { Suggestion } from '../bindings/Suggestion';
import type { Usage } from '../bindings/Usage';
import type { WorkspaceInfo } from '../bindings/WorkspaceInfo';
import * as ipc from './ipc';
import { applyProcessEvent, sortRecords, upsertRecord } from './processes';
import { loadPrefs, savePrefs } from './prefs';
import { groupServices, visibleRuns } from './services';
import { sortServices } from './usage';

const LAST_WORKSPACE = 'procdeck.lastWorkspace';

export interface Toast {
  id: number;
  kind: 'error' | 'info';
  message: string;
}

export type Confirm = {
  title: string;
  body: string;
  confirmLabel: string;
  danger?: boolean;
  checkbox?: string;
  /** What would run, shown in full (a record the user did not start). */
  run?: { command: string; cwd: string; env: Record<string, string> };
  /** Several named things that would run, each shown in full (a stack's entries). */
  runs?: { name: string; command: string; cwd: string; env: Record<string, string> }[];
  resolve: (answer: { ok: boolean; checked: boolean }) => void;
};

export class AppState {
  workspaces = $state<WorkspaceInfo[]>([]);
  workspacesLoading = $state(true);
  workspacesError = $state<AppError | null>(null);
  selectedWorkspaceId = $state<string | null>(null);

  processes = $state<ProcessRecord[]>([]);
  processesLoading = $state(false);
  processesError = $state<AppError | null>(null);
  selectedProcessId = $state<string | null>(null);
  /** Services (their `service` keys) whose earlier runs are shown under their row. */
  expanded = $state<ReadonlySet<string>>(new Set());
  /** Errors of actions on a process, shown in its row. */
  rowErrors = $state<Record<string, string>>({});
  /** Actions in flight per process ("stop", "restart", …). */
  busy = $state<Record<string, string>>({});
  /** What each running process's tree costs, by process id (the process list samples it). */
  usage = $state<Record<string, Usage>>({});
  /** The list's order, kept in the preferences. */
  processSort = $state<ProcessSort>('started');

  /** The selected workspace's suggested commands (fetched when it is selected, or on refresh). */
  suggestions = $state<Suggestion[]>([]);
  suggestionsLoading = $state(false);
  suggestionsError = $state<string | null>(null);

  now = $state(Date.now());
  toasts = $state<Toast[]>([]);
  confirm = $state<Confirm | null>(null);
  showShortcuts = $state(false);
  showSettings = $state(false);
  /** Bumped to ask the start bar to focus its command field. */
  focusCommand = $state(0);
  /** Bumped to ask the output pane to take focus. */
  focusOutput = $state(0);
  /** A command for the start bar to put in its field (an empty state's example). */
  prefill = $state<{ command: string; n: number } | null>(null);

  private toastSeq = 0;
  private loadSeq = 0;
  private suggestSeq = 0;
  private pending: ProcessEvent[] | null = null;
  private started = false;

  selectedWorkspace = $derived(this.workspaces.find((w) => w.id === this.selectedWorkspaceId) ?? null);
  selectedProcess = $derived(this.processes.find((p) => p.id === this.selectedProcessId) ?? null);
  /** The processes as services: one row each, showing the latest run, in the chosen order. */
  services = $derived(sortServices(groupServices(this.processes), this.processSort, this.usage));
  /** The runs that have a row on screen, in order: what the keyboard moves over. */
  rows = $derived(visibleRuns(this.services, this.expanded));

  /** Loads the workspaces and subscribes to the app events (once). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    setInterval(() => (this.now = Date.now()), 1000);
    void this.loadSort();
    try {
      await ipc.onWorkspacesChanged((list) => this.setWorkspaces(list));
      await ipc.onProcessEvent((ev) => this.onProcessEvent(ev));
      await ipc.onReveal((target) => void this.reveal(target.workspaceId, target.id));
      await ipc.onSelectWorkspace((id) => void this.selectWorkspace(id));
    } catch (e) {
      this.toast('error', `Live updates are unavailable: ${ipc.toAppError(e).message}`);
    }
    await this.loadWorkspaces();
  }

  async loadWorkspaces(): Promise<void> {
    this.workspacesLoading = true;
    this.workspacesError = null;
    try {
      // A folder given on the command line is shown first, rather than the one shown last.
      const [list, requested] = await Promise.all([ipc.listWorkspaces(), ipc.takeRequestedWorkspace()]);
      this.setWorkspaces(list, requested);
    } catch (e) {
      this.workspacesError = ipc.toAppError(e);
    } finally {
      this.workspacesLoading = false;
    }
  }

  private setWorkspaces(list: WorkspaceInfo[], requested: string | null = null): void {
    this.workspaces = list;
    if (requested && list.some((w) => w.id === requested)) {
      void this.selectWorkspace(requested);
      return;
    }
    if (this.selectedWorkspaceId && list.some((w) => w.id === this.selectedWorkspaceId)) return;
    const last = readLast();
    const pick = list.find((w) => w.id === last) ?? list.find((w) => !w.missing) ?? list[0] ?? null;
    void this.selectWorkspace(pick ? pick.id : null);
  }

  /** The list's order as last chosen; the default order when the preferences cannot be read. */
  private async loadSort(): Promise<void> {
    try {
      this.processSort = (await loadPrefs()).processSort;
    } catch {
      /* the default order */
    }
  }

  /** Orders the list by `by` and remembers it. */
  async setSort(by: ProcessSort): Promise<void> {
    this.processSort = by;
    try {
      await savePrefs({ processSort: by });
    } catch (e) {
      this.toast('error', `Could not remember the order: ${ipc.toAppError(e).message}`);
    }
  }

  async selectWorkspace(id: string | null): Promise<void> {
    if (id === this.selectedWorkspaceId && (this.processes.length > 0 || this.processesLoading)) return;
    this.selectedWorkspaceId = id;
    this.selectedProcessId = null;
    this.processes = [];
    this.usage = {};
    this.expanded = new Set();
    this.processesError = null;
    this.rowErrors = {};
    if (id) writeLast(id);
    void this.loadSuggestions();
    await this.loadProcesses();
  }

  /** Selects a process, switching workspace first when needed. */
  async reveal(workspaceId: string, id: string): Promise<void> {
    if (workspaceId !== this.selectedWorkspaceId) await this.selectWorkspace(workspaceId);
    this.selectedProcessId = id;
    // An earlier run has a row only while its service is expanded.
    const r = this.selectedProcess;
    if (r && this.processes.find((p) => p.service === r.service)?.id !== r.id && !this.expanded.has(r.service)) {
      this.expanded = new Set([...this.expanded, r.service]);
    }
  }

  /** Shows or hides the earlier runs of a service. */
  toggleRuns(service: string): void {
    const next = new Set(this.expanded);
    if (next.delete(service)) {
      // The selected run's row goes away: its service's row takes the selection.
      const sel = this.selectedProcess;
      const latest = this.processes.find((p) => p.service === service);
      if (sel && latest && sel.service === service) this.selectedProcessId = latest.id;
    } else {
      next.add(service);
    }
    this.expanded = next;
  }

  /** Fetches the selected workspace's suggestions (on selection, or the refresh button). */
  async loadSuggestions(): Promise<void> {
    const ws = this.selectedWorkspace;
    const seq = ++this.suggestSeq;
    this.suggestions = [];
    this.suggestionsError = null;
    if (!ws || ws.missing) {
      this.suggestionsLoading = false;
      return;
    }
    this.suggestionsLoading = true;
    try {
      const list = await ipc.suggestions(ws.id);
      if (seq === this.suggestSeq) this.suggestions = list;
    } catch (e) {
      if (seq === this.suggestSeq) this.suggestionsError = ipc.toAppError(e).message;
    } finally {
      if (seq === this.suggestSeq) this.suggestionsLoading = false;
    }
  }

  /** Starts a command in the selected workspace and selects it; rejects with an AppError. */
  async startCommand(command: string, title: string | null, env: Record<string, string>): Promise<ProcessRecord> {
    const ws = this.selectedWorkspace;
    if (!ws) throw { kind: 'workspace', message: 'Select a workspace first' } satisfies AppError;
    const rec = await ipc.startProcess(ws.id, command, title, env);
    this.applyRecord(rec);
    this.selectedProcessId = rec.id;
    return rec;
  }

  async loadProcesses(): Promise<void> {
    const ws = this.selectedWorkspace;
    const seq = ++this.loadSeq;
    if (!ws || ws.missing) {
      this.processesLoading = false;
      return;
    }
    this.processesLoading = true;
    this.pending = [];
    try {
      const list = sortRecords(await ipc.listProcesses(ws.id));
      if (seq !== this.loadSeq) return;
      let records = list;
      for (const ev of this.pending ?? []) records = applyProcessEvent(records, ws.id, ev);
      this.processes = records;
      this.processesError = null;
      if (!this.selectedProcessId && records.length > 0) this.selectedProcessId = records[0].id;
    } catch (e) {
      if (seq === this.loadSeq) this.processesError = ipc.toAppError(e);
    } finally {
      if (seq === this.loadSeq) {
        this.processesLoading = false;
        this.pending = null;
      }
    }
  }

  private onProcessEvent(ev: ProcessEvent): void {
    if (ev.workspaceId !== this.selectedWorkspaceId) return;
    if (this.pending) {
      this.pending.push(ev);
      return;
    }
    const removed = ev.event.type === 'removed' && ev.event.id === this.selectedProcessId ? this.selectedProcess : null;
    this.setProcesses(applyProcessEvent(this.processes, ev.workspaceId, ev));
    if (removed) this.selectAfterRemoval(removed);
  }

  /** Applies a command's answer at once (the event will say the same). */
  applyRecord(r: ProcessRecord): void {
    if (r.workspaceId === this.selectedWorkspaceId) this.setProcesses(upsertRecord(this.processes, r));
  }

  /**
   * Replaces the list. The selection stays on its row: when the selected run was its service's
   * latest and a newer run of the service came (started from the CLI, say), the newer one is
   * selected.
   */
  private setProcesses(next: ProcessRecord[]): void {
    const sel = this.selectedProcess;
    const wasLatest = sel !== null && this.processes.find((p) => p.service === sel.service)?.id === sel.id;
    this.processes = next;
    if (!wasLatest) return;
    const latest = next.find((p) => p.service === sel.service);
    if (latest && latest.id !== sel.id && next.some((p) => p.id === sel.id)) this.selectedProcessId = latest.id;
  }

  /** After the selected run is removed: its service's row (another run of it), else the first row. */
  private selectAfterRemoval(removed: ProcessRecord): void {
    const next = this.processes.find((p) => p.service === removed.service) ?? this.processes[0];
    this.selectedProcessId = next ? next.id : null;
  }

  /** Moves the selection over the rows on screen (collapsed runs are skipped). */
  moveSelection(delta: number): void {
    const rows = this.rows;
    if (rows.length === 0) return;
    const i = rows.findIndex((p) => p.id === this.selectedProcessId);
    const j = i < 0 ? 0 : Math.max(0, Math.min(rows.length - 1, i + delta));
    this.selectedProcessId = rows[j].id;
  }

  setRowError(id: string, message: string | null): void {
    const next = { ...this.rowErrors };
    if (message === null) delete next[id];
    else next[id] = message;
    this.rowErrors = next;
  }

  private setBusy(id: string, what: string | null): void {
    const next = { ...this.busy };
    if (what === null) delete next[id];
    else next[id] = what;
    this.busy = next;
  }

  /** Runs an action on a process, showing its error in the row. */
  async act<T>(id: string, what: string, fn: () => Promise<T>): Promise<T | undefined> {
    this.setRowError(id, null);
    this.setBusy(id, what);
    try {
      return await fn();
    } catch (e) {
      this.setRowError(id, ipc.toAppError(e).message);
      return undefined;
    } finally {
      this.setBusy(id, null);
    }
  }

  async stop(r: ProcessRecord): Promise<void> {
    const res = await this.act(r.id, 'stop', () => ipc.stopProcess(r.workspaceId, r.id));
    if (res) this.applyRecord(res);
  }

  async kill(r: ProcessRecord): Promise<void> {
    const res = await this.act(r.id, 'kill', () => ipc.killProcess(r.workspaceId, r.id));
    if (res) this.applyRecord(res);
  }

  /**
   * Runs a process again. One the user did not start is shown in full and confirmed first. With
   * `takePort`, the Procdeck process holding the port it failed on is stopped first.
   */
  async restart(r: ProcessRecord, opts: { takePort?: boolean } = {}): Promise<void> {
    let consent: ForeignConsent | null = null;
    if (r.origin === 'foreign') {
      const answer = await this.ask({
        title: `Run “${r.title}”? You did not start it`,
        body: 'This record came with the folder (a cloned repository, another user) or was edited, not started by you here. Running it runs exactly this:',
        run: { command: r.command, cwd: r.cwd, env: r.env },
        confirmLabel: 'Run it',
        danger: true,
      });
      if (!answer.ok) return;
      consent = { command: r.command, env: r.env };
    }
    const res = await this.act(r.id, 'restart', () =>
      opts.takePort ? ipc.takePort(r.workspaceId, r.id, consent) : ipc.restartProcess(r.workspaceId, r.id, consent),
    );
    if (res) {
      this.applyRecord(res);
      this.selectedProcessId = res.id;
    }
  }

  /** Removes a process; asks first when it is running (or always, for the keyboard). */
  async remove(r: ProcessRecord, confirm: 'running' | 'always' = 'running'): Promise<void> {
    if (r.status === 'running' || confirm === 'always') {
      const answer = await this.ask(
        r.status === 'running'
          ? {
              title: 'Remove a running process?',
              body: `“${r.title}” is still running. It will be stopped, and its record and output deleted.`,
              confirmLabel: 'Stop and remove',
              danger: true,
            }
          : {
              title: `Remove “${r.title}”?`,
              body: 'Its record and output will be deleted.',
              confirmLabel: 'Remove',
              danger: true,
            },
      );
      if (!answer.ok) return;
    }
    const ok = await this.act(r.id, 'remove', async () => {
      await ipc.removeProcess(r.workspaceId, r.id);
      return true;
    });
    if (ok) {
      const wasSelected = this.selectedProcessId === r.id;
      this.processes = this.processes.filter((p) => p.id !== r.id);
      if (wasSelected) this.selectAfterRemoval(r);
    }
  }

  async removeWorkspace(ws: WorkspaceInfo): Promise<void> {
    const answer = await this.ask({
      title: `Remove “${ws.name}”?`,
      body:
        ws.running > 0
          ? `Its ${ws.running} running service${ws.running === 1 ? '' : 's'} will be stopped. The folder itself is not touched.`
          : 'Procdeck will forget this folder. The folder itself is not touched.',
      confirmLabel: ws.running > 0 ? 'Stop and remove' : 'Remove',
      danger: true,
      checkbox: 'Also delete its history (process records and output)',
    });
    if (!answer.ok) return;
    try {
      await ipc.removeWorkspace(ws.id, answer.checked);
      this.workspaces = this.workspaces.filter((w) => w.id !== ws.id);
      if (this.selectedWorkspaceId === ws.id) {
        const next = this.workspaces.find((w) => !w.missing) ?? this.workspaces[0] ?? null;
        this.selectedWorkspaceId = null;
        await this.selectWorkspace(next ? next.id : null);
      }
    } catch (e) {
      this.toast('error', `Could not remove ${ws.name}: ${ipc.toAppError(e).message}`);
    }
  }

  /** Opens the folder picker; selects the added workspace. Returns an error message, if any. */
  async addFolder(): Promise<string | null> {
    try {
      const ws = await ipc.pickWorkspace();
      if (!ws) return null;
      if (!this.workspaces.some((w) => w.id === ws.id)) this.workspaces = [...this.workspaces, ws];
      this.selectedWorkspaceId = null;
      await this.selectWorkspace(ws.id);
      return null;
    } catch (e) {
      return ipc.toAppError(e).message;
    }
  }

  ask(c: Omit<Confirm, 'resolve'>): Promise<{ ok: boolean; checked: boolean }> {
    return new Promise((resolve) => {
      this.confirm = {
        ...c,
        resolve: (a) => {
          this.confirm = null;
          resolve(a);
        },
      };
    });
  }

  toast(kind: Toast['kind'], message: string): void {
    const id = ++this.toastSeq;
    this.toasts = [...this.toasts, { id, kind, message }];
    setTimeout(() => this.dismissToast(id), kind === 'error' ? 8000 : 4000);
  }

  dismissToast(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }
}

function readLast(): string | null {
  try {
    return localStorage.getItem(LAST_WORKSPACE);
  } catch {
    return null;
  }
}

function writeLast(id: string): void {
  try {
    localStorage.setItem(LAST_WORKSPACE, id);
  } catch {
    /* storage unavailable: nothing to remember */
  }
}

export const app = new AppState();
