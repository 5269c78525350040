/** Reading and saving the app's preferences (docs/ipc.md `get_prefs` / `set_prefs`). */

import type { Prefs } from '../bindings/Prefs';
import * as ipc from './ipc';

/** What the settings panel may change (`toldAboutTray` belongs to the app). */
export type PrefChange = Partial<Omit<Prefs, 'toldAboutTray'>>;

export interface PrefsDeps {
  getPrefs(): Promise<Prefs>;
  setPrefs(value: Prefs): Promise<Prefs>;
}

export function loadPrefs(deps: PrefsDeps = ipc): Promise<Prefs> {
  return deps.getPrefs();
}

/**
 * Saves one change on top of the preferences as they are now (read again first, so that a field
 * the app changed meanwhile, such as `toldAboutTray`, is not overwritten with a stale copy).
 */
export async function savePrefs(change: PrefChange, deps: PrefsDeps = ipc): Promise<Prefs> {
  const current = await deps.getPrefs();
  const next: Prefs = { ...current };
  for (const [k, v] of Object.entries(change) as Array<[keyof PrefChange, Prefs[keyof PrefChange] | undefined]>) {
    if (v !== undefined) (next as Record<string, unknown>)[k] = v;
  }
  return deps.setPrefs(next);
}
