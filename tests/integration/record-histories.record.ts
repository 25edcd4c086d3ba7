// Records the histories that tests/replay replays: real runs on the real loop, saved as JSON.
// Run with `npm run replay:record` after a deliberate workflow change, review the diff, commit.
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { envelopeOf } from '../../src/cli/commands/run-actions';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';

const out = join(REPO_ROOT, 'tests', 'replay', 'histories');
let h: LoopHarness;

beforeAll(async () => {
  h = await startLoopHarness(integrationEnv());
  await mkdir(out, { recursive: true });
  for (const f of await readdir(out)) if (f.endsWith('.json')) await rm(join(out, f));
}, 900_000);

afterAll(async () => {
  await h?.close();
});

const cases = [
  { name: 'text-stats-success', request: { processor_ref: 'text/stats@1', inputs: { text: 'recorded run' }, cache: false }, status: 'success' },
  { name: 'text-stats-cache-hit', request: { processor_ref: 'text/stats@1', inputs: { text: 'recorded run' } }, status: 'success' },
  { name: 'llm-chat-mock', request: { processor_ref: 'llm/chat@1', inputs: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } }, status: 'success' },
  { name: 'fixture-crash', request: { processor_ref: 'test/fixture@1', inputs: { behaviour: 'crash' } }, status: 'error' },
  { name: 'text-stats-bad-inputs', request: { processor_ref: 'text/stats@1', inputs: { text: 1 } }, status: 'error' },
] as const;

for (const c of cases) {
  it(`records ${c.name}`, async () => {
    const { handle } = await h.start({ ...c.request });
    const envelope = await envelopeOf(handle);
    expect(envelope.status).toBe(c.status);
    const history = await handle.fetchHistory();
    await writeFile(join(out, `${c.name}.json`), `${historyToJSON(history)}\n`);
  }, 300_000);
}
