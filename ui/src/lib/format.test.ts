import { describe, expect, it } from 'vitest';
import { record } from '../test/records';
import { basename, displayStatus, exitLabel, formatBytes, formatDuration, runDuration, stopRemaining } from './format';

describe('format', () => {
  it('formats sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300 MiB');
  });

  it('formats durations', () => {
    expect(formatDuration(999)).toBe('0s');
    expect(formatDuration(65_000)).toBe('1m 05s');
    expect(formatDuration(3_720_000)).toBe('1h 02m');
    expect(formatDuration(2 * 86_400_000 + 3 * 3_600_000)).toBe('2d 3h');
  });

  it('labels statuses with exit code or signal name', () => {
    expect(exitLabel(record({ status: 'error', exitCode: 1 }))).toBe('exit 1');
    expect(exitLabel(record({ status: 'error', signal: 9 }))).toBe('SIGKILL');
    expect(exitLabel(record({ status: 'stopped', signal: 15, exitCode: null }))).toBe('SIGTERM');
    expect(exitLabel(record({ status: 'stopped', signal: 31 }))).toBe('signal 31');
    expect(exitLabel(record({ status: 'running' }))).toBeNull();
    expect(displayStatus(record({ stoppingSince: '2026-01-01T00:00:00Z' }))).toBe('stopping');
    expect(displayStatus(record({ status: 'lost' }))).toBe('lost');
  });

  it('counts the stop grace period down', () => {
    const r = record({ stoppingSince: '2026-01-01T00:00:00.000Z', stopGraceMs: 2000 });
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');
    expect(stopRemaining(r, t0 + 500)).toBe(1500);
    expect(stopRemaining(r, t0 + 5000)).toBe(0);
    expect(stopRemaining(r, t0 - 800)).toBe(2000); // the clock ticks once a second
    expect(stopRemaining(record(), t0)).toBeNull();
  });

  it('measures run time up to now or to the stop', () => {
    const r = record({ startedAt: '2026-01-01T00:00:00Z' });
    expect(runDuration(r, Date.parse('2026-01-01T00:01:00Z'))).toBe(60_000);
    const s = record({ status: 'stopped', startedAt: '2026-01-01T00:00:00Z', stoppedAt: '2026-01-01T00:00:30Z' });
    expect(runDuration(s, Date.parse('2026-01-02T00:00:00Z'))).toBe(30_000);
  });

  it('takes folder basenames', () => {
    expect(basename('/home/dev/web-shop/')).toBe('web-shop');
    expect(basename('C:\\code\\api')).toBe('api');
  });
});
