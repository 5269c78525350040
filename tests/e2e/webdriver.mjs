// A minimal W3C WebDriver client (what the end-to-end tests need, nothing more), talking to
// tauri-driver over HTTP with Node's own fetch: no dependency to install or keep current.

import { until } from './helpers.mjs';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
const REQUEST_TIMEOUT_MS = 60_000;

export class WebDriverError extends Error {}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async create(base, capabilities) {
    const value = await request(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } });
    return new Session(base, value.sessionId);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  async delete() {
    try {
      await this.cmd('DELETE', '');
    } catch {
      // The app may already be gone; the runner kills what is left.
    }
  }

  async find(css) {
    const value = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return new Element(this, value[ELEMENT]);
  }

  async findAll(css) {
    const value = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return value.map((v) => new Element(this, v[ELEMENT]));
  }

  /** Polls `fn` until it returns a truthy value (or stops throwing), up to `timeout` ms. */
  async waitFor(what, fn, timeout = 15000) {
    return until(what, fn, timeout, 100, (message) => new WebDriverError(message));
  }

  async waitForElement(css, timeout) {
    return this.waitFor(`element ${css}`, async () => {
      const all = await this.findAll(css);
      return all[0];
    }, timeout);
  }

  execute(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  async keys(text) {
    const actions = [...text].flatMap((ch) => [{ type: 'keyDown', value: ch }, { type: 'keyUp', value: ch }]);
    await this.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions }] });
    await this.cmd('DELETE', '/actions');
  }
}

export class Element {
  constructor(session, id) {
    this.session = session;
    this.id = id;
  }

  cmd(method, path, body) {
    return this.session.cmd(method, `/element/${this.id}${path}`, body);
  }

  click() {
    return this.cmd('POST', '/click', {});
  }

  type(text) {
    return this.cmd('POST', '/value', { text });
  }

  clear() {
    return this.cmd('POST', '/clear', {});
  }

  text() {
    return this.cmd('GET', '/text');
  }

  /**
   * The element's text as the DOM holds it. WebKitWebDriver's `text` leaves out what sits in a box
   * with `overflow: hidden` (an ellipsised title, a clamped message) even where it is on screen.
   */
  textContent() {
    return this.cmd('GET', '/property/textContent');
  }

    attribute(name) {
    return this.cmd('GET', `/attribute/${name}`);
  }

  async find(css) {
    const value = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return new Element(this.session, value[ELEMENT]);
  }

  async findAll(css) {
    const value = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return value.map((v) => new Element(this.session, v[ELEMENT]));
  }
}

/** WebDriver keys for `type`: Enter, and so on. */
export const Key = { Enter: '\uE007', Escape: '\uE00C', Delete: '\uE017', Down: '\uE015', Up: '\uE013' };

async function request(base, method, path, body) {
  const res = await fetch(base + path, {
    // A stalled driver fails the step that stalled, not the whole run after undici's 5 minutes.
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebDriverError(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
  if (!res.ok || (json.value && json.value.error)) {
    const v = json.value || {};
    throw new WebDriverError(`${method} ${path}: ${v.error || res.status}: ${v.message || text.slice(0, 300)}`);
  }
  return json.value;
}
