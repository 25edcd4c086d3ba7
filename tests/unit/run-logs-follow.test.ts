import { describe, expect, it } from 'vitest';
import { humanLine } from '../../src/cli/commands/logs';
import { followRunLogs, type FollowSources } from '../../src/run-logs';

const line = (event: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ level: 'info', time: '2026-01-01T10:20:30.456Z', event, execution_id: 'x', ...extra });

/** A run told as a sequence of polls: what the container showed, whether the artifact landed, closed or not. */
function script(polls: { live?: string; artifact?: string; closed: boolean }[]): FollowSources & { calls: number } {
  let at = 0;
  const now = () => polls[Math.min(at, polls.length - 1)]!;
  return {
    calls: 0,
    closed: async () => now().closed,
    artifact: async () => now().artifact,
    live: async () => now().live,
    async sleep() {
      at++;
      this.calls++;
    },
  };
}

describe('followRunLogs', () => {
  it('prints live events as they appear, each once, then the artifact, and stops when the run is closed', async () => {
    const start = line('execution.start');
    const write = line('storage.write', { path: 'outputs/a' });
    const settle = line('execution.settle');
    const src = script([
      { closed: false },
      { closed: false, live: `noise\n${start}` },
      { closed: false, live: `noise\n${start}\n${write}` },
      { closed: false, artifact: `${start}\n${write}\n${settle}\n` },
      { closed: true, artifact: `${start}\n${write}\n${settle}\n` },
    ]);
    const out: string[] = [];
    const { printed } = await followRunLogs(src, { redactLine: (l) => l, print: (l) => out.push(l), pollMs: 1 });
    expect(out).toEqual([start, write, settle]);
    expect(printed).toBe(3);
    expect(src.calls).toBe(4);
  });

  it('stops when a run closes without ever having a log (a cache hit)', async () => {
    const out: string[] = [];
    await followRunLogs(script([{ closed: false }, { closed: true }]), {
      redactLine: (l) => l,
      print: (l) => out.push(l),
    });
    expect(out).toEqual([]);
  });

  it('redacts live lines with the given redactor', async () => {
    const out: string[] = [];
    const src = script([{ closed: true, live: line('provider.call', { key: 'sekrit-value' }) }]);
    await followRunLogs(src, { redactLine: (l) => l.replace('sekrit-value', '[REDACTED]'), print: (l) => out.push(l) });
    expect(out).toEqual([line('provider.call', { key: '[REDACTED]' })]);
  });
});

describe('humanLine', () => {
  it('shows time, level, event and the per-event fields', () => {
    expect(humanLine(line('storage.write', { path: 'outputs/a', bytes: 3 }))).toBe(
      '10:20:30.456  info   storage.write  path=outputs/a bytes=3',
    );
    expect(humanLine(JSON.stringify({ level: 'error', event: 'execution.fail', code: 'ERR_X' }))).toBe(
      'ERROR  execution.fail  code=ERR_X',
    );
    expect(humanLine('not json')).toBe('not json');
  });
});
