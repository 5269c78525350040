/**
 * The one typed module through which the UI talks to the Rust side (docs/ipc.md).
 *
 * One function per command; every rejection is normalised to an `AppError`. With
 * `VITE_PROCDECK_MOCK=1` (dev only) an in-memory fake backend is installed first; it is loaded by
 * a dynamic import behind that check, so it is not part of a normal build.
 */

import { Channel, invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { AppError } from '../bindings/AppError';
import type { EntryStatus } from '../bindings/EntryStatus';
import type { ForeignConsent } from '../bindings/ForeignConsent';
import type { GrepResult } from '../bindings/GrepResult';
import type { LineChunk } from '../bindings/LineChunk';
import type { ListeningPort } from '../bindings/ListeningPort';
import type { OutputFrame } from '../bindings/OutputFrame';
import type { PortConflict } from '../bindings/PortConflict';
import type { Prefs } from '../bindings/Prefs';
import type { ProcessEvent } from '../bindings/ProcessEvent';
import type { ProcessRecord } from '../bindings/ProcessRecord';
import type { ReadRequest } from '../bindings/ReadRequest';
import type { ReadResult } from '../bindings/ReadResult';
import type { RevealProcess } from '../bindings/RevealProcess';
import type { StackView } from '../bindings/StackView';
import type { Suggestion } from '../bindings/Suggestion';
import type { Usage } from '../bindings/Usage';
import type { WorkspaceInfo } from '../bindings/WorkspaceInfo';

export const PROCESS_EVENT = 'procdeck://process';
export const WORKSPACES_EVENT = 'procdeck://workspaces';
export const REVEAL_EVENT = 'procdeck://reveal';
export const SELECT_WORKSPACE_EVENT = 'procdeck://select-workspace';

let ready: Promise<void> | null = null;

/** Installs the fake backend when the mock build flag is set; resolves at once otherwise. */
function backendReady(): Promise<void> {
  if (!ready) {
    ready = import.meta.env.VITE_PROCDECK_MOCK === '1' ? import('../mock/backend').then((m) => m.installMockBackend()) : Promise.resolve();
  }
  return ready;
}

/** Whether a value already has the shape of an AppError. */
export function isAppError(e: unknown): e is AppError {
  return typeof e === 'object' && e !== null && typeof (e as AppError).kind === 'string' && typeof (e as AppError).message === 'string';
}

/** Any rejection as an AppError: the Rust side's own, a string, an Error, or something else. */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) return { kind: e.kind, message: e.message };
  if (typeof e === 'string') return { kind: 'unknown', message: e };
  if (e instanceof Error) return { kind: 'unknown', message: e.message || String(e) };
  try {
    return { kind: 'unknown', message: JSON.stringify(e) ?? String(e) };
  } catch {
    return { kind: 'unknown', message: String(e) };
  }
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  await backendReady();
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toAppError(e);
  }
}

export function listWorkspaces(): Promise<WorkspaceInfo[]> {
  return call('list_workspaces');
}

/** The workspace of the folder the app was launched with, the first time it is asked; else null. */
export function takeRequestedWorkspace(): Promise<string | null> {
  return call('take_requested_workspace');
}

export function addWorkspace(path: string): Promise<WorkspaceInfo> {
  return call('add_workspace', { path });
}

/** The native folder picker; null when cancelled. */
export function pickWorkspace(): Promise<WorkspaceInfo | null> {
  return call('pick_workspace');
}

/** Stops the workspace's processes, then forgets it (and deletes its history if asked). */
export function removeWorkspace(workspaceId: string, deleteHistory: boolean): Promise<null> {
  return call('remove_workspace', { workspaceId, deleteHistory });
}

export function listProcesses(workspaceId: string): Promise<ProcessRecord[]> {
  return call('list_processes', { workspaceId });
}

export function startProcess(workspaceId: string, command: string, title: string | null, env: Record<string, string>): Promise<ProcessRecord> {
  return call('start_process', { workspaceId, command, title, env });
}

/** Resolves when the process tree is gone. */
export function stopProcess(workspaceId: string, id: string): Promise<ProcessRecord> {
  return call('stop_process', { workspaceId, id });
}

/** SIGKILL now, during a stop's grace period. */
export function killProcess(workspaceId: string, id: string): Promise<ProcessRecord> {
  return call('kill_process', { workspaceId, id });
}

/**
 * Resolves with the new process. A record the user did not start runs only with `consent`: the
 * command and environment they were shown and confirmed.
 */
export function restartProcess(workspaceId: string, id: string, consent: ForeignConsent | null = null): Promise<ProcessRecord> {
  return call('restart_process', { workspaceId, id, consent });
}

/**
 * For a process that failed because its port was taken: stops the Procdeck process holding the
 * port (in any workspace), then runs this one again; resolves with the new process.
 */
export function takePort(workspaceId: string, id: string, consent: ForeignConsent | null = null): Promise<ProcessRecord> {
  return call('take_port', { workspaceId, id, consent });
}

export function removeProcess(workspaceId: string, id: string): Promise<null> {
  return call('remove_process', { workspaceId, id });
}

/** head / tail / full. */
export function readOutput(workspaceId: string, id: string, request: ReadRequest): Promise<ReadResult> {
  return call('read_output', { workspaceId, id, request });
}

export function grepOutput(workspaceId: string, id: string, pattern: string, limit: number | null): Promise<GrepResult> {
  return call('grep_output', { workspaceId, id, pattern, limit });
}

/** Whole lines ending before `endOffset` (null: the end of the output). */
export function linesBefore(workspaceId: string, id: string, endOffset: number | null, lines: number): Promise<LineChunk> {
  return call('lines_before', { workspaceId, id, endOffset, lines });
}

/**
 * Streams output from `fromOffset` to `onFrame` through a Channel; resolves with the
 * subscription to give `unfollowOutput`.
 */
export function followOutput(workspaceId: string, id: string, fromOffset: number | null, onFrame: (frame: OutputFrame) => void): Promise<number> {
  const channel = new Channel<OutputFrame>(onFrame);
  return call('follow_output', { workspaceId, id, fromOffset, onFrame: channel });
}

export function unfollowOutput(subscription: number): Promise<null> {
  return call('unfollow_output', { subscription });
}

/** Tells the stream that a frame has been drawn, so that it sends the next. */
export function ackOutput(subscription: number): Promise<null> {
  return call('ack_output', { subscription });
}

/** Newest first, distinct. */
export function recentCommands(workspaceId: string): Promise<string[]> {
  return call('recent_commands', { workspaceId });
}

export function openOutputFile(workspaceId: string, id: string): Promise<null> {
  return call('open_output_file', { workspaceId, id });
}

export function revealOutputFile(workspaceId: string, id: string): Promise<null> {
  return call('reveal_output_file', { workspaceId, id });
}

/** Commands the workspace offers (package.json scripts, Procfile, Makefile, Cargo.toml). */
export function suggestions(workspaceId: string): Promise<Suggestion[]> {
  return call('suggestions', { workspaceId });
}

/** TCP ports the process tree listens on (empty when not running). */
export function listeningPorts(workspaceId: string, id: string): Promise<ListeningPort[]> {
  return call('listening_ports', { workspaceId, id });
}

/**
 * CPU (since the previous call for the same processes; null the first time) and resident memory
 * of the trees of the running processes among `ids`; the others are left out.
 */
export function processUsage(workspaceId: string, ids: string[]): Promise<Partial<Record<string, Usage>>> {
  return call('process_usage', { workspaceId, ids });
}

/** For a failed process whose output says "address already in use": the port and its holder. */
export function portConflict(workspaceId: string, id: string): Promise<PortConflict | null> {
  return call('port_conflict', { workspaceId, id });
}

/** Opens http://localhost:PORT in the default browser. */
export function openPort(port: number): Promise<null> {
  return call('open_port', { port });
}

export function getPrefs(): Promise<Prefs> {
  return call('get_prefs');
}

/** Saves the whole preferences; resolves with what was saved. */
export function setPrefs(value: Prefs): Promise<Prefs> {
  return call('set_prefs', { value });
}

/** `procdeck://process`: any change to any process of any open workspace. */
export async function onProcessEvent(handler: (ev: ProcessEvent) => void): Promise<UnlistenFn> {
  await backendReady();
  return listen<ProcessEvent>(PROCESS_EVENT, (e) => handler(e.payload));
}

/** `procdeck://reveal`: show this process (the user clicked a notification about it). */
export async function onReveal(handler: (target: RevealProcess) => void): Promise<UnlistenFn> {
  await backendReady();
  return listen<RevealProcess>(REVEAL_EVENT, (e) => handler(e.payload));
}

/** `procdeck://select-workspace`: show this workspace (a second launch handed its folder over). */
export async function onSelectWorkspace(handler: (workspaceId: string) => void): Promise<UnlistenFn> {
  await backendReady();
  return listen<string>(SELECT_WORKSPACE_EVENT, (e) => handler(e.payload));
}

/** `procdeck://workspaces`: the workspace list changed. */
export async function onWorkspacesChanged(handler: (list: WorkspaceInfo[]) => void): Promise<UnlistenFn> {
  await backendReady();
  return listen<WorkspaceInfo[]>(WORKSPACES_EVENT, (e) => handler(e.payload));
}

/** The workspace's stack (procdeck.toml, else its Procfile), or null when it has none. */
export function stackShow(workspaceId: string): Promise<StackView | null> {
  return call('stack_show', { workspaceId });
}

/**
 * Starts the stack's `names` (every autostart entry when empty) with what they depend on; each
 * change of an entry's state goes to `onStatus`. Resolves with every entry's final state. A stack
 * not confirmed yet runs only with `confirm`: the digest of the file as shown to the user.
 */
export function stackUp(workspaceId: string, names: string[], confirm: string | null, onStatus: (s: EntryStatus) => void): Promise<EntryStatus[]> {
  return call('stack_up', { workspaceId, names, confirm, onStatus: new Channel<EntryStatus>(onStatus) });
}

/** Stops `names` and what depends on them (every entry when empty), dependents first. */
export function stackDown(workspaceId: string, names: string[], onStatus: (s: EntryStatus) => void): Promise<EntryStatus[]> {
  return call('stack_down', { workspaceId, names, onStatus: new Channel<EntryStatus>(onStatus) });
}

/** Writes what runs now as the workspace's procdeck.toml; never over an existing file. */
export function stackSave(workspaceId: string): Promise<StackView> {
  return call('stack_save', { workspaceId });
}
