import { describe as suite, expect, it } from 'vitest';
import type { EntryState } from '../bindings/EntryState';
import type { EntryStatus } from '../bindings/EntryStatus';
import { applyStatus, describe, summary } from './stack';

const s = (name: string, rest: EntryState, id: string | null = null): EntryStatus => ({ name, id, ...rest });

suite('stack statuses', () => {
  it('keeps the last status of each entry', () => {
    let m = new Map<string, EntryStatus>();
    m = applyStatus(m, s('api', { state: 'waiting', on: ['db'] }));
    m = applyStatus(m, s('db', { state: 'starting' }));
    m = applyStatus(m, s('db', { state: 'ready', how: 'listening on port 5432' }, 'p1'));
    m = applyStatus(m, s('api', { state: 'starting' }));
    expect([...m.keys()]).toEqual(['api', 'db']);
    expect(m.get('db')?.state).toBe('ready');
    expect(m.get('db')?.id).toBe('p1');
    expect(m.get('api')?.state).toBe('starting');
  });

  it('says each state in words with a tone', () => {
    expect(describe(s('api', { state: 'waiting', on: ['db', 'cache'] }))).toEqual({ text: 'waiting for db, cache', tone: 'wait' });
    expect(describe(s('db', { state: 'ready', how: 'printed "ok"' }))).toEqual({ text: 'ready: printed "ok"', tone: 'ok' });
    expect(describe(s('web', { state: 'failed', reason: 'not ready after 30 s' }))).toEqual({ text: 'failed: not ready after 30 s', tone: 'bad' });
    expect(describe(s('web', { state: 'skipped', because: 'api did not get ready' })).tone).toBe('bad');
    expect(describe(s('web', { state: 'alreadyRunning' })).text).toBe('already running');
    expect(describe(s('web', { state: 'notRunning' })).tone).toBe('idle');
  });

  it('sums up what did not start, or nothing when all did', () => {
    expect(summary([s('db', { state: 'running' }), s('api', { state: 'alreadyRunning' })])).toBeNull();
    expect(
      summary([
        s('db', { state: 'failed', reason: 'exited with code 1 before it was ready' }),
        s('api', { state: 'skipped', because: 'db did not get ready' }),
        s('web', { state: 'running' }),
      ]),
    ).toBe('2 of 3 did not start: db (failed: exited with code 1 before it was ready); api (not started: db did not get ready)');
  });
});
