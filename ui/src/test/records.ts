import type { ProcessRecord } from '../bindings/ProcessRecord';

/** A record for tests. */
export function record(over: Partial<ProcessRecord> = {}): ProcessRecord {
  return {
    id: 'proc_2026-11-24T0408_4db84d',
    workspaceId: 'ws1',
    title: 'dev',
    command: 'npm run dev',
    cwd: '/tmp/p',
    status: 'running',
    pid: 1234,
    startedAt: '2026-11-24T04:08:00Z',
    stoppedAt: null,
    exitCode: null,
    signal: null,
    outputSizeBytes: 0,
    droppedBytes: 0,
    stopRequested: false,
    stoppingSince: null,
    env: {},
    stopGraceMs: 2000,
    outputCapBytes: 268435456,
    origin: 'own',
    startedBy: { kind: 'app' },
    service: `/tmp/p\u0000${over.title ?? 'dev'}`,
    ...over,
  };
}
