import type { ProcessRecord } from '../bindings/ProcessRecord';

/** A record for tests; u64 fields go through `unknown` since ts-rs may type them as bigint. */
export function record(over: Partial<Omit<ProcessRecord, 'outputSizeBytes' | 'droppedBytes'>> & { outputSizeBytes?: number } = {}): ProcessRecord {
  const { outputSizeBytes = 0, ...rest } = over;
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
    outputSizeBytes: outputSizeBytes as unknown as ProcessRecord['outputSizeBytes'],
    droppedBytes: 0 as unknown as ProcessRecord['droppedBytes'],
    stopRequested: false,
    stoppingSince: null,
    env: {},
    stopGraceMs: 2000,
    ...rest,
  };
}
