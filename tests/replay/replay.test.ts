// Replays the committed histories (tests/replay/histories/*.json, recorded from real runs by
// `npm run replay:record`) against today's workflow code through the same module `worldloop replay` uses
// (src/temporal/replay.ts). A change that would break a running workflow fails here, before it ships; the
// negative cases prove the check can fail and that the CLI names the workflow, the run and the event.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import {
  assertReplayed,
  describeReplayFailure,
  historiesFromDir,
  replayHistories,
  type ReplaySource,
} from '../../src/temporal/replay';

const dir = join(REPO_ROOT, 'tests', 'replay', 'histories');
const current = join(REPO_ROOT, 'workflows', 'index.ts');
const altered = join(REPO_ROOT, 'tests', 'replay', 'altered-workflows', 'index.ts');

describe('replay of recorded histories', () => {
  let sources: ReplaySource[];

  it('has histories to replay: success, cache hit and failure paths', async () => {
    sources = await historiesFromDir(dir);
    expect(sources.length).toBeGreaterThanOrEqual(3);
    for (const s of sources) expect(s.workflowId).toMatch(/^run\//);
  });

  it('replays every committed history deterministically', async () => {
    const outcomes = await replayHistories(sources, current);
    expect(outcomes.map((o) => [o.origin, o.ok, o.error?.message])).toEqual(
      sources.map((s) => [s.origin, true, undefined]),
    );
    expect(() => assertReplayed(outcomes)).not.toThrow();
  });

  it('catches a non-deterministic change (negative case), naming the workflow, run and event', async () => {
    const [first] = sources;
    const outcomes = await replayHistories([first!], altered);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ ok: false, workflowId: first!.workflowId, runId: first!.runId });
    expect(outcomes[0]!.error).toMatchObject({ kind: 'DeterminismViolationError', eventId: expect.any(Number) });
    expect(() => assertReplayed(outcomes)).toThrow(
      new RegExp(`workflow ${first!.workflowId} run ${first!.runId} event \\d+`),
    );
  });

  it('worldloop replay exits 1 with ERR_REPLAY_NONDETERMINISM on the altered code, 0 on the current', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'worldloop.js'), 'replay', '--dir', dir, ...args], {
        encoding: 'utf8',
        timeout: 110_000,
      });
    const bad = run('--workflows', altered);
    expect(bad.status, bad.stderr).toBe(1);
    expect(bad.stderr).toMatch(/^ERR_REPLAY_NONDETERMINISM: workflow run\/\S+ run \S+ event \d+ \(\w+\)/);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
    const good = run('--json');
    expect(good.status, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, failed: 0, replayed: sources.length });
  });

  it('refuses a folder without histories and a file that is not one (ERR_REPLAY_HISTORY)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'wl-replay-'));
    await expect(historiesFromDir(empty)).rejects.toMatchObject({ code: 'ERR_REPLAY_HISTORY' });
    writeFileSync(join(empty, 'x.json'), '{"events":[{"eventId":"1"}]}');
    await expect(historiesFromDir(empty)).rejects.toMatchObject({ code: 'ERR_REPLAY_HISTORY' });
    writeFileSync(join(empty, 'x.json'), 'not json');
    await expect(historiesFromDir(empty)).rejects.toMatchObject({ code: 'ERR_REPLAY_HISTORY' });
  });

  it('keeps the coded line and the event of a core failure message', () => {
    expect(
      describeReplayFailure(
        'Replay failed. Details: Failure { message: "[TMPRL1100] Nondeterminism error: x: HistoryEvent(id: 5, UpsertWorkflowSearchAttributes)", source: "" }',
      ),
    ).toEqual({
      message: '[TMPRL1100] Nondeterminism error: x: HistoryEvent(id: 5, UpsertWorkflowSearchAttributes)',
      eventId: 5,
      eventType: 'UpsertWorkflowSearchAttributes',
    });
  });
});
