// The real app on a real desktop (openbox, xfce4-panel's status tray, dunst: see desktop.sh),
// used as a person would: the tray icon is clicked with xdotool and its menu read and used with
// the keyboard, the window is closed with Alt+F4, notifications are read from dunst, and Quit
// answers its question. What the app did is checked in the app, in /proc and on the ports.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './helpers.mjs';
import { Session } from './webdriver.mjs';

const { accepts, freePort, processesWith, shot } = h;

const { PROCDECK_E2E_DRIVER: driver, PROCDECK_E2E_APP: app, PROCDECK_E2E_CLI: cliBin } = process.env;
const work = process.env.PROCDECK_E2E_WORK;
// run.sh's cleanup stops what runs in $work/desk/*, should a test fail half-way.
const shop = path.join(work, 'desk', 'shop');
const marker = String(87_000 + (process.pid % 300) * 3);
const flakyTitle = `flaky-${marker}`;
// A loaded 2-core machine can take its time; every wait returns as soon as its condition holds.
const LONG = 60_000;
const until = (what, fn, timeout = LONG) => h.until(what, fn, timeout);

let s;
let webPort;

function run(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
}

function cli(...args) {
  return JSON.parse(run(cliBin, ['-w', shop, '--json', ...args]));
}

// --- The desktop, seen through D-Bus and X -------------------------------------------------

function gdbus(dest, objectPath, method, ...args) {
  // `--` so that arguments such as -1 are not read as options.
  return run('gdbus', ['call', '--session', '--dest', dest, '--object-path', objectPath, '--method', method, '--', ...args]);
}

/** Procdeck's StatusNotifier item as the panel's tray knows it: its bus name and object path. */
function trayItem() {
  const out = gdbus(
    'org.kde.StatusNotifierWatcher',
    '/StatusNotifierWatcher',
    'org.freedesktop.DBus.Properties.Get',
    'org.kde.StatusNotifierWatcher',
    'RegisteredStatusNotifierItems',
  );
  const items = [...out.matchAll(/'([^']+)'/g)].map((m) => {
    const slash = m[1].indexOf('/');
    return { bus: m[1].slice(0, slash), path: m[1].slice(slash) };
  });
  // Its id is the app's tray id; the bus name and path are the StatusNotifier defaults.
  const ours = items.filter((item) => {
    try {
      return itemProperty(item, 'Id') === 'procdeck';
    } catch {
      return false; // An item that went away while we asked.
    }
  });
  return ours.length === 1 ? ours[0] : undefined;
}

function itemProperty(item, name) {
  const out = gdbus(item.bus, item.path, 'org.freedesktop.DBus.Properties.Get', 'org.kde.StatusNotifierItem', name);
  return out.match(/<(?:objectpath )?'(.*)'>/)?.[1];
}

/**
 * The tray menu's top-level items as the panel gets them (DBusMenu): label, enabled, separator.
 * GVariant text: each child is `<(id, {'enabled': <false>, 'label': <'…'>, …}, @av [])>`.
 */
function trayMenu(item) {
  const menuPath = itemProperty(item, 'Menu');
  const out = gdbus(item.bus, menuPath, 'com.canonical.dbusmenu.GetLayout', '0', '-1', '[]');
  return [...out.matchAll(/<\(\d+, \{(.*?)\}, (?:@av )?\[/g)].map(([, props]) => ({
    label: props.match(/'label': <'(.*?)'>/)?.[1] ?? '',
    enabled: !/'enabled': <false>/.test(props),
    separator: /'type': <'separator'>/.test(props),
    visible: !/'visible': <false>/.test(props),
  }));
}

/** Visible X windows of a class, with their geometry. */
function windows(className) {
  let ids;
  try {
    ids = run('xdotool', ['search', '--onlyvisible', '--class', className]).split('\n').filter(Boolean);
  } catch {
    return []; // xdotool exits 1 when nothing matches.
  }
  return ids.flatMap((id) => {
    try {
      const g = Object.fromEntries(
        run('xdotool', ['getwindowgeometry', '--shell', id])
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('=')),
      );
      return [{ id, x: +g.X, y: +g.Y, width: +g.WIDTH, height: +g.HEIGHT }];
    } catch {
      return []; // Gone while we looked.
    }
  });
}

/** The panel along the top of the screen. */
function panel() {
  return windows('^xfce4-panel$').find((w) => w.y === 0 && w.width > 200);
}

/**
 * The status tray's area in the panel: xfce4-panel runs the tray plugin in a process of its
 * own ("wrapper-2.0") whose window sits inside the panel, and Procdeck's is its only item, so the
 * icon is that window's middle.
 */
function trayArea() {
  const bar = panel();
  if (!bar) return undefined;
  return windows('^wrapper-2.0$').find((w) => w.y >= bar.y && w.y + w.height <= bar.y + bar.height && w.width >= 16);
}

/**
 * An open menu of the tray: a wrapper-2.0 window below the panel, taller than the one-line
 * tooltip (about 40 px) that the tray shows there too; the menu has at least five lines.
 */
function openMenu() {
  const bar = panel();
  return bar && windows('^wrapper-2.0$').find((w) => w.y >= bar.y + bar.height && w.height > 80);
}

function mainWindow() {
  return windows('^procdeck-app$').find((w) => {
    try {
      return run('xdotool', ['getwindowname', w.id]).trim() === 'Procdeck';
    } catch {
      return false;
    }
  });
}

/** Right-clicks the tray icon (a left click shows the window) and waits for its menu. */
async function openTrayMenu() {
  const area = await until("the tray icon's place in the panel", trayArea);
  await until('the tray menu', () => {
    if (openMenu()) return true;
    run('xdotool', ['mousemove', String(area.x + Math.floor(area.width / 2)), String(area.y + Math.floor(area.height / 2)), 'click', '3']);
    return until('the menu to show', openMenu, 5_000).catch(() => false);
  });
}

/** Picks a menu entry with the keyboard, as a person could: Down to it, then Enter. */
async function chooseFromTrayMenu(item, label) {
  // The app gathers changes for a moment before it updates its menu (TRAY_SETTLE): count the
  // lines only once the menu has stayed the same for longer than that.
  let last = '';
  await until('the tray menu to settle', async () => {
    const now = JSON.stringify(trayMenu(item));
    const settled = now === last;
    last = now;
    if (!settled) await new Promise((r) => setTimeout(r, 1000));
    return settled;
  });
  const menu = trayMenu(item).filter((m) => m.visible);
  const selectable = menu.filter((m) => m.enabled && !m.separator);
  const index = selectable.findIndex((m) => m.label === label);
  assert.ok(index >= 0, `the tray menu offers "${label}": ${JSON.stringify(menu)}`);
  await openTrayMenu();
  // GTK takes the keyboard for a menu a moment after it shows it; keys sent before are lost.
  await new Promise((r) => setTimeout(r, 500));
  run('xdotool', ['key', '--delay', '80', ...Array(index + 1).fill('Down'), 'Return']);
  await until('the menu to close', () => !openMenu(), 10_000);
}

/** The notifications dunst has closed, newest first: { summary, body }. */
function dunstHistory() {
  const out = JSON.parse(run('dunstctl', ['history']));
  return out.data.flat().map((n) => ({ summary: n.summary.data, body: n.body.data }));
}

// --- The tests -------------------------------------------------------------------------------

before(async () => {
  fs.mkdirSync(shop, { recursive: true });
  webPort = await freePort();
  cli('start', '--title', 'worker', '--', 'bash', '-c', `sleep ${marker}1 & sleep ${marker}2; wait`);
  cli('start', '--title', 'web', '--', 'python3', '-m', 'http.server', '--bind', '127.0.0.1', String(webPort));
  // A new user has not been told yet that closing the window keeps Procdeck in the tray.
  const settings = path.join(work, 'config', 'settings.json');
  if (fs.existsSync(settings)) {
    const prefs = JSON.parse(fs.readFileSync(settings, 'utf8'));
    fs.writeFileSync(settings, JSON.stringify({ ...prefs, toldAboutTray: false, quitBehavior: 'ask' }));
  }
  s = await Session.create(driver, { 'tauri:options': { application: app, args: [shop] } });
  // Other test files leave remembered workspaces: show this one's list.
  const ws = await s.waitForElement('[data-testid="workspace"][data-name="shop"]', LONG);
  await ws.click();
  await s.waitFor('the shop workspace shown', async () => (await ws.attribute('aria-current')) === 'true', LONG);
});

after(async () => {
  // The panel's tray crashing is the host's fault, but it is worth seeing in every run.
  const panelLog = path.join(work, 'panel.log');
  const crashes = fs.existsSync(panelLog) ? fs.readFileSync(panelLog, 'utf8').match(/restarted after crash/g)?.length ?? 0 : 0;
  console.log(`the panel's status tray crashed and was restarted ${crashes} time(s) during the desktop tests' run`);
  try {
    await shot('desktop-99-last');
  } catch {
    // Nothing to show if the display is gone.
  }
  if (s) await s.delete();
  try {
    run(cliBin, ['-w', shop, 'close']);
  } catch {
    // run.sh's cleanup ends what is left.
  }
});

test('the tray icon sits in the panel, its title and its menu saying how many run', async () => {
  const item = await until('Procdeck in the status tray', trayItem);
  await until('both processes in the tray menu', () => {
    const labels = trayMenu(item).map((m) => m.label);
    return labels.includes('Stop worker — shop') && labels.includes('Stop web — shop');
  });
  const menu = trayMenu(item);
  const stops = menu.filter((m) => m.label.startsWith('Stop ') && m.label !== 'Stop all');
  assert.deepEqual(menu[0], { label: `Procdeck — ${stops.length} running`, enabled: false, separator: false, visible: true });
  assert.ok(menu.some((m) => m.label === 'Quit'));
  // The title is what the panel shows when the pointer rests on the icon.
  assert.equal(itemProperty(item, 'Title'), `Procdeck — ${stops.length} running`);
  const area = await until("the tray icon's place in the panel", trayArea);
  run('xdotool', ['mousemove', String(area.x + Math.floor(area.width / 2)), String(area.y + Math.floor(area.height / 2))]);
  await new Promise((r) => setTimeout(r, 2000));
  await shot('desktop-00-tray-hover');
  run('xdotool', ['mousemove', '700', '450']);
  await openTrayMenu();
  await shot('desktop-01-tray-menu');
  run('xdotool', ['key', 'Escape']);
  await until('the menu to close', () => !openMenu(), 10_000);
});

test('stopping a process from the tray menu ends its whole tree', async () => {
  const item = await until('Procdeck in the status tray', trayItem);
  const worker = cli('list').find((r) => r.title === 'worker');
  assert.ok(worker && worker.status === 'running', JSON.stringify(worker));
  assert.ok(processesWith(`sleep ${marker}1`).length > 0, 'the worker tree runs');
  const before = trayMenu(item)[0].label;
  await chooseFromTrayMenu(item, 'Stop worker — shop');
  await until('the worker tree to be gone', () => processesWith(`sleep ${marker}`).length === 0, LONG);
  await until('the app to show the worker stopped', async () => {
    const row = await s.findAll(`[data-testid="process-row"][data-process-id="${worker.id}"]`);
    return row.length === 1 && (await row[0].attribute('data-status')) === 'stopped';
  });
  await until('the tray to forget the worker', () => {
    const labels = trayMenu(item).map((m) => m.label);
    return !labels.includes('Stop worker — shop') && labels.includes('Stop web — shop') && labels[0] !== before;
  });
  await until('the title to follow', () => itemProperty(item, 'Title') === trayMenu(item)[0].label);
  await shot('desktop-02-stopped-from-tray');
});

test('closing the window hides it to the tray and says so', async () => {
  const win = await until('the Procdeck window', mainWindow);
  run('xdotool', ['windowactivate', '--sync', win.id]);
  run('xdotool', ['key', '--clearmodifiers', 'alt+F4']);
  await until('the window to be hidden', () => !mainWindow());
  assert.ok(trayItem(), 'the tray icon stays');
  assert.equal(await s.execute('return document.visibilityState'), 'hidden');
  await until('the notice that Procdeck keeps running', () =>
    run('dunstctl', ['count', 'displayed']).trim() !== '0' ||
    dunstHistory().some((n) => n.summary === 'Procdeck is still running'),
  );
  await shot('desktop-03-hidden-with-notice');
  run('dunstctl', ['close-all']);
  const notice = await until('the notice in dunst', () => dunstHistory().find((n) => n.summary === 'Procdeck is still running'));
  assert.match(notice.body, /keeps? running\. Procdeck stays in the tray; quit from its menu\./);
});

test('a process that fails while the window is hidden is notified', async () => {
  const item = await until('Procdeck in the status tray', trayItem);
  const go = path.join(work, 'desk', `fail-${marker}`);
  cli('start', '--title', flakyTitle, '--', 'bash', '-c', `while [ ! -e ${go} ]; do sleep 0.1; done; echo 'FAILED: 3 tests'; exit 3`);
  // The app knows it runs once the tray lists it; a failure is a change from running.
  await until('the tray to list the flaky process', () => trayMenu(item).some((m) => m.label === `Stop ${flakyTitle} — shop`));
  fs.writeFileSync(go, '');
  await until('the failure notification on screen', () => run('dunstctl', ['count', 'displayed']).trim() !== '0');
  await shot('desktop-04-failure-notification');
  run('dunstctl', ['close-all']);
  const shown = await until("the failure in dunst's history", () => dunstHistory().find((n) => n.body.includes(flakyTitle)));
  assert.equal(shown.summary, 'A process exited with code 3');
  // What the body must hold: the process's title, then its last line of output.
  for (const part of [flakyTitle, 'FAILED: 3 tests']) assert.ok(shown.body.includes(part), `the body holds ${part}: ${shown.body}`);
});

test('a click on the tray icon brings the hidden window back', async () => {
  assert.ok(!mainWindow(), 'the window is hidden');
  const area = await until("the tray icon's place in the panel", trayArea);
  run('xdotool', ['mousemove', String(area.x + Math.floor(area.width / 2)), String(area.y + Math.floor(area.height / 2)), 'click', '1']);
  await until('the window to show', mainWindow);
  assert.ok(!openMenu(), 'a left click opens no menu');
  assert.equal(await s.execute('return document.visibilityState'), 'visible');
  await shot('desktop-06-shown-from-tray');
});

test('Quit from the tray asks, and "Stop them and quit" stops everything and frees the ports', async () => {
  assert.ok(await accepts(webPort), 'the web process listens');
  const item = await until('Procdeck in the status tray', trayItem);
  await chooseFromTrayMenu(item, 'Quit');
  const dialog = await until('the quit question', () =>
    windows('^procdeck-app$').find((w) => run('xdotool', ['getwindowname', w.id]).trim() === 'Quit Procdeck'),
  );
  await shot('desktop-05-quit-question');
  run('xdotool', ['windowactivate', '--sync', dialog.id]);
  // The question's buttons are "Stop them and quit", "Leave them running and quit", "Cancel";
  // the first has the focus, and Enter presses it (another answer would leave the port held).
  run('xdotool', ['key', '--clearmodifiers', 'Return']);
  await until('the port to be free', async () => !(await accepts(webPort)));
  await until('the tray icon to go', () => !trayItem());
  const web = cli('list').find((r) => r.title === 'web');
  assert.equal(web.status, 'stopped');
});
