/**
 * The fake backend's own scenario, through the whole app: a process already printing five lines a
 * second (with a long backlog) is the newest, so it is selected as the app opens. The list must
 * leave its loading state once list_processes answers, and the live view must ask for the end of
 * the output once.
 */

import { flushSync, mount, unmount } from 'svelte';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { installDomStubs } from '../test/dom';
import { installMockBackend, uninstallMockBackend } from './backend';

interface Stats {
  calls: Record<string, number>;
  maxInFlight: Record<string, number>;
}

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

it('opens on the running ticker: the list loads, one lines_before, lines stream in', async () => {
  const stats = (globalThis as unknown as { __procdeckMock: Stats }).__procdeckMock;
  const { default: App } = await import('../App.svelte');
  component = mount(App, { target: document.body });
  flushSync();
  await vi.waitFor(() => expect(document.querySelectorAll('[data-testid="process-row"]').length).toBeGreaterThan(0), { timeout: WAIT_MS });
  expect(document.querySelectorAll('.skel').length).toBe(0);
  const first = document.querySelector<HTMLElement>('[data-testid="process-row"]')!;
  expect(first.querySelector('[data-testid="process-title"]')?.textContent).toBe('ticker');
  expect(first.dataset.status).toBe('running');
  // The service run three times is one row.
  const vite = [...document.querySelectorAll('[data-testid="process-row"]')].filter((r) => r.querySelector('[data-testid="process-title"]')?.textContent === 'vite dev server');
  expect(vite.length).toBe(1);
  expect(vite[0].querySelector('[data-testid="runs-toggle"]')?.textContent?.trim()).toBe('3 runs');
  // The process a coding agent started carries its badge.
  const badges = [...document.querySelectorAll('[data-testid="agent-badge"]')].map((b) => [b.closest('[data-testid="process-row"]')?.querySelector('[data-testid="process-title"]')?.textContent, b.textContent?.trim()]);
  expect(badges).toEqual([['storybook', 'Claude Code']]);
  const meta = () => document.querySelector('[data-testid="live-view"] .meta')?.textContent ?? '';
  await vi.waitFor(() => expect(meta()).toMatch(/^500 lines loaded/), { timeout: WAIT_MS });
  await vi.waitFor(() => expect(Number(meta().split(' ')[0])).toBeGreaterThan(505), { timeout: WAIT_MS });
  expect(stats.calls.list_processes).toBe(1);
  expect(stats.calls.lines_before).toBe(1);
  expect(stats.calls.follow_output).toBe(1);
  expect(stats.maxInFlight.lines_before).toBe(1);
}, 60_000);
