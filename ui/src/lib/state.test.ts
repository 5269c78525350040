import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WorkspaceInfo } from '../bindings/WorkspaceInfo';
import { AppState } from './state.svelte';

const ws = (path: string): WorkspaceInfo => ({ id: path, path, name: path.slice(1), missing: false, running: 0, total: 0, stack: false });
const SHOP = ws('/shop');
const API = ws('/api');

/** A backend with two workspaces that was launched with `requested` (taken once). */
function backend(requested: string | null): void {
  let pending = requested;
  mockIPC(
    (cmd) => {
      switch (cmd) {
        case 'list_workspaces':
          return [SHOP, API];
        case 'take_requested_workspace': {
          const taken = pending;
          pending = null;
          return taken;
        }
        case 'list_processes':
        case 'recent_commands':
        case 'suggestions':
          return [];
        default:
          return null;
      }
    },
    { shouldMockEvents: true },
  );
}

afterEach(() => {
  clearMocks();
  localStorage.clear();
});

describe('which workspace the window shows', () => {
  it('shows the folder given on the command line, not the one shown last', async () => {
    localStorage.setItem('procdeck.lastWorkspace', SHOP.id);
    backend(API.id);
    const state = new AppState();
    await state.loadWorkspaces();
    expect(state.selectedWorkspaceId).toBe(API.id);
    // Asked once: a later reload keeps what the user picks.
    await state.selectWorkspace(SHOP.id);
    await state.loadWorkspaces();
    expect(state.selectedWorkspaceId).toBe(SHOP.id);
  });

  it('shows the one shown last when no folder was given', async () => {
    localStorage.setItem('procdeck.lastWorkspace', API.id);
    backend(null);
    const state = new AppState();
    await state.loadWorkspaces();
    expect(state.selectedWorkspaceId).toBe(API.id);
  });

  it('shows a folder a second launch handed over', async () => {
    backend(null);
    const state = new AppState();
    await state.start();
    expect(state.selectedWorkspaceId).toBe(SHOP.id);
    await emit('procdeck://select-workspace', API.id);
    await vi.waitFor(() => expect(state.selectedWorkspaceId).toBe(API.id));
  });
});
