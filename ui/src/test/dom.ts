import { flushSync } from 'svelte';
import { expect } from 'vitest';
/** What jsdom lacks and the whole app uses: a ResizeObserver, scrollIntoView and modal dialogs. */
export function installDomStubs(): void {
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
  Element.prototype.scrollIntoView ??= function () {};
  HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
    this.open = true;
  };
  HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) {
    this.open = false;
  };
}

/** Clicks `el`, which must be there, and lets Svelte apply what the click changed. */
export function click(el: Element | null | undefined): void {
  expect(el).toBeTruthy();
  (el as HTMLElement).click();
  flushSync();
}
