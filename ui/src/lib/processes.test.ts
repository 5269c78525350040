import { describe, expect, it } from 'vitest';
import { record } from '../test/records';
import { applyProcessEvent, envFromRows, sortRecords } from './processes';

describe('applyProcessEvent', () => {
  const a = record({ id: 'a', startedAt: '2026-01-01T10:00:00Z' });
  const b = record({ id: 'b', startedAt: '2026-01-01T11:00:00Z' });

  it('replaces an updated record by id, keeping the order', () => {
    const list = sortRecords([a, b]);
    expect(list.map((r) => r.id)).toEqual(['b', 'a']);
    const next = applyProcessEvent(list, 'ws1', { workspaceId: 'ws1', event: { type: 'updated', record: { ...a, status: 'error', exitCode: 1 } } });
    expect(next.map((r) => [r.id, r.status])).toEqual([
      ['b', 'running'],
      ['a', 'error'],
    ]);
  });

  it('adds a new record in order and deletes a removed one', () => {
    const c = record({ id: 'c', startedAt: '2026-01-01T12:00:00Z' });
    let list = applyProcessEvent([b, a], 'ws1', { workspaceId: 'ws1', event: { type: 'updated', record: c } });
    expect(list.map((r) => r.id)).toEqual(['c', 'b', 'a']);
    list = applyProcessEvent(list, 'ws1', { workspaceId: 'ws1', event: { type: 'removed', id: 'b', workspaceId: 'ws1' } });
    expect(list.map((r) => r.id)).toEqual(['c', 'a']);
  });

  it('ignores events of other workspaces', () => {
    const list = [b, a];
    expect(applyProcessEvent(list, 'ws1', { workspaceId: 'ws2', event: { type: 'removed', id: 'a', workspaceId: 'ws2' } })).toBe(list);
  });
});

describe('envFromRows', () => {
  it('builds the map, skipping empty rows', () => {
    expect(envFromRows([{ key: 'PORT', value: '3000' }, { key: '', value: '' }, { key: ' NODE_ENV ', value: 'a=b' }])).toEqual({
      env: { PORT: '3000', NODE_ENV: 'a=b' },
      error: null,
      errorRow: null,
    });
  });
  it('names the bad row', () => {
    const r = envFromRows([{ key: 'OK', value: '1' }, { key: '1BAD', value: 'x' }]);
    expect(r.errorRow).toBe(1);
    expect(r.error).toContain('1BAD');
  });
});
