/**
 * Restarting a record the user did not start (it came with the folder), through the whole app
 * against the fake backend: the row says so, the restart shows the command, folder and every
 * environment variable and runs nothing until confirmed; once confirmed, the new run is own.
 */

import { flushSync, mount, unmount } from 'svelte';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { installDomStubs } from '../test/dom';
import { listWorkspaces, restartProcess, toAppError } from '../lib/ipc';
import { installMockBackend, uninstallMockBackend } from '../mock/backend';

interface Stats {
  calls: Record<string, number>;
}

const TITLE = 'deploy (shipped)';
// Generous limits: the fake backend answers after a random delay and the machine may be busy;
// the waits poll, so a long limit costs nothing when things are quick.
const WAIT_MS = 20_000;
let component: ReturnType<typeof mount> | null = null;

beforeAll(() => {
  installDomStubs();
  installMockBackend();
});

afterAll(() => {
  if (component) unmount(component);
  uninstallMockBackend();
});

const rows = (title: string) =>
  [...document.querySelectorAll<HTMLElement>('[data-testid="process-row"]')].filter((r) => r.querySelector('[data-testid="process-title"]')?.textContent === title);
const dialog = () => document.querySelector<HTMLDialogElement>('[data-testid="confirm-dialog"]')!;
const click = (el: Element | null | undefined) => {
  expect(el).toBeTruthy();
  (el as HTMLElement).click();
  flushSync();
};

it('shows what a foreign record runs and restarts it only once confirmed', async () => {
  const stats = (globalThis as unknown as { __procdeckMock: Stats }).__procdeckMock;
  const { default: App } = await import('../App.svelte');
  component = mount(App, { target: document.body });
  flushSync();
  await vi.waitFor(() => expect(rows(TITLE).length).toBe(1), { timeout: WAIT_MS });
  const shipped = rows(TITLE)[0];
  expect(shipped.querySelector('[data-testid="foreign-badge"]')).toBeTruthy();

  // Asked first, with everything that would run; cancelling runs nothing.
  click(shipped.querySelector('[data-testid="restart-button"]'));
  expect(dialog().open).toBe(true);
  expect(dialog().querySelector('[data-testid="confirm-command"]')?.textContent).toBe('make deploy');
  expect(dialog().querySelector('[data-testid="confirm-cwd"]')?.textContent).toBe('/home/dev/code/web-shop');
  const env = [...dialog().querySelectorAll('[data-testid="confirm-env"]')].map((e) => e.textContent);
  expect(env).toEqual(['BASH_ENV=./scripts/env.sh', 'PATH=./bin:/usr/bin']);
  expect(dialog().textContent).toMatch(/did not start it/);
  click(dialog().querySelector('[data-testid="confirm-cancel"]'));
  expect(dialog().open).toBe(false);
  expect(stats.calls.restart_process ?? 0).toBe(0);

  // Without the consent the backend refuses, as the engine does.
  const id = shipped.dataset.processId!;
  const shop = (await listWorkspaces()).find((w) => w.name === 'web-shop')!;
  const refused = await restartProcess(shop.id, id).then(
    () => null,
    (e) => toAppError(e),
  );
  expect(refused?.kind).toBe('foreignRecord');
  expect(rows(TITLE).length).toBe(1);
  stats.calls.restart_process = 0;

  // Confirmed: one restart; the service's one row now shows the new run, the user's own, and
  // the shipped run is the earlier of its two.
  click(rows(TITLE)[0].querySelector('[data-testid="restart-button"]'));
  click(dialog().querySelector('[data-testid="confirm-ok"]'));
  await vi.waitFor(() => expect(rows(TITLE)[0]?.dataset.processId).not.toBe(id), { timeout: WAIT_MS });
  expect(stats.calls.restart_process).toBe(1);
  expect(rows(TITLE).length).toBe(1);
  const fresh = rows(TITLE)[0];
  expect(fresh.querySelector('[data-testid="foreign-badge"]')).toBeNull();
  click(fresh.querySelector('[data-testid="runs-toggle"]'));
  const earlier = [...document.querySelectorAll<HTMLElement>('[data-testid="run-row"]')].find((r) => r.dataset.runId === id);
  expect(earlier?.textContent).toContain('not yours');
}, 60_000);
