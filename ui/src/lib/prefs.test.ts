import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import type { Prefs } from '../bindings/Prefs';
import * as ipc from './ipc';
import { loadPrefs, savePrefs } from './prefs';

afterEach(() => clearMocks());

/** A backend keeping prefs the way the app does: set_prefs replaces them, get_prefs reads them. */
function backend(initial: Prefs) {
  let stored = { ...initial };
  const calls: Array<[string, unknown]> = [];
  mockIPC((cmd, args) => {
    calls.push([cmd, args]);
    if (cmd === 'get_prefs') return { ...stored };
    if (cmd === 'set_prefs') {
      stored = { ...(args as { value: Prefs }).value };
      return { ...stored };
    }
    throw { kind: 'workspace', message: `unexpected ${cmd}` };
  });
  return { calls, stored: () => stored, change: (p: Partial<Prefs>) => (stored = { ...stored, ...p }) };
}

const DEFAULTS: Prefs = { quitBehavior: 'ask', notifications: true, loginShellEnv: true, colorEnv: true, toldAboutTray: false, processSort: 'started' };

describe('prefs', () => {
  it('round-trips through get_prefs / set_prefs with the value argument', async () => {
    const b = backend(DEFAULTS);
    expect(await loadPrefs()).toEqual(DEFAULTS);
    const saved = await savePrefs({ quitBehavior: 'leaveRunning', colorEnv: false });
    expect(saved).toEqual({ ...DEFAULTS, quitBehavior: 'leaveRunning', colorEnv: false });
    expect(await ipc.getPrefs()).toEqual(saved);
    expect(b.calls.filter(([c]) => c === 'set_prefs')).toEqual([['set_prefs', { value: saved }]]);
  });

  it('does not overwrite what the app changed meanwhile (toldAboutTray)', async () => {
    const b = backend(DEFAULTS);
    const shown = await loadPrefs();
    b.change({ toldAboutTray: true }); // the app told the user about the tray after the panel opened
    await savePrefs({ notifications: !shown.notifications });
    expect(b.stored()).toEqual({ ...DEFAULTS, notifications: false, toldAboutTray: true });
  });

  it('rejects with the AppError of a failed save', async () => {
    mockIPC((cmd) => {
      if (cmd === 'get_prefs') return DEFAULTS;
      throw { kind: 'workspace', message: 'cannot save the settings: disk full' };
    });
    await expect(savePrefs({ notifications: false })).rejects.toEqual({ kind: 'workspace', message: 'cannot save the settings: disk full' });
  });
});
