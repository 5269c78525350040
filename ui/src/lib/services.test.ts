import { describe, expect, it } from 'vitest';
import type { ProcessRecord } from '../bindings/ProcessRecord';
import { record } from '../test/records';
import { sortRecords } from './processes';
import { groupServices, runningServices, visibleRuns } from './services';

const at = (minute: number) => `2026-11-24T04:${String(minute).padStart(2, '0')}:00Z`;
const run = (id: string, title: string, minute: number, over: Partial<ProcessRecord> = {}) =>
  record({ id, title, startedAt: at(minute), status: 'stopped', pid: null, exitCode: 0, ...over });

describe('groupServices', () => {
  const records = sortRecords([
    run('dev1', 'dev', 1, { status: 'error', exitCode: 1 }),
    run('lint', 'lint', 2),
    run('dev2', 'dev', 3),
    run('dev3', 'dev', 5, { status: 'running', exitCode: null, pid: 10 }),
    run('api', 'api', 4, { status: 'running', exitCode: null, pid: 11 }),
  ]);

  it('makes one service per key, newest first, each showing its latest run', () => {
    const services = groupServices(records);
    expect(services.map((s) => [s.latest.id, s.earlier.map((r) => r.id)])).toEqual([
      ['dev3', ['dev2', 'dev1']],
      ['api', []],
      ['lint', []],
    ]);
    expect(services[0].key).toBe(records[0].service);
    expect(services.map((s) => s.earlierRunning)).toEqual([0, 0, 0]);
  });

  it('groups by the key the engine gave, never by title alone', () => {
    // Same title, another folder: another service. The key is compared, not made.
    const other = run('dev-other', 'dev', 6, { cwd: '/tmp/q', service: '/tmp/q\u0000dev' });
    const services = groupServices(sortRecords([...records, other]));
    expect(services.map((s) => s.latest.id)).toEqual(['dev-other', 'dev3', 'api', 'lint']);
    const odd = run('x', 'anything', 7, { service: records[0].service });
    expect(groupServices(sortRecords([...records, odd]))[0].earlier.map((r) => r.id)).toEqual(['dev3', 'dev2', 'dev1']);
  });

  it('counts earlier runs still running, and services with anything running', () => {
    const services = groupServices(sortRecords([...records, run('dev4', 'dev', 9, { status: 'running', exitCode: null, pid: 12 })]));
    expect(services[0].latest.id).toBe('dev4');
    expect(services[0].earlierRunning).toBe(1);
    expect(runningServices(services)).toBe(2);
    const stopped = groupServices(sortRecords([run('a', 'a', 1), run('b', 'b', 2, { status: 'running', pid: 3, exitCode: null }), run('a2', 'a', 3)]));
    expect(runningServices(stopped)).toBe(1);
  });

  it('reads each record once: 1000 records cost 1000 steps, however they group', () => {
    for (const services of [1, 10, 1000]) {
      let reads = 0;
      const list: ProcessRecord[] = [];
      for (let i = 0; i < 1000; i++) {
        const r = run(`r${i}`, `svc${i % services}`, 0, { startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 1000 - i)).toISOString() });
        const key = r.service;
        Object.defineProperty(r, 'service', {
          get: () => {
            reads++;
            return key;
          },
        });
        list.push(r);
      }
      const grouped = groupServices(list);
      expect(grouped.length).toBe(services);
      expect(grouped.reduce((n, s) => n + 1 + s.earlier.length, 0)).toBe(1000);
      expect(reads).toBe(1000);
    }
  });
});

describe('visibleRuns', () => {
  const services = groupServices(sortRecords([run('dev1', 'dev', 1), run('lint', 'lint', 2), run('dev2', 'dev', 3), run('dev3', 'dev', 5)]));

  it('shows the latest runs, and the earlier ones of expanded services right under theirs', () => {
    expect(visibleRuns(services, new Set()).map((r) => r.id)).toEqual(['dev3', 'lint']);
    expect(visibleRuns(services, new Set([services[0].key])).map((r) => r.id)).toEqual(['dev3', 'dev2', 'dev1', 'lint']);
    // A key of a service that is no longer there changes nothing.
    expect(visibleRuns(services, new Set(['gone'])).map((r) => r.id)).toEqual(['dev3', 'lint']);
  });
});
