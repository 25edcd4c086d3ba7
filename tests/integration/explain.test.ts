// `worldloop explain` against real runs (real dev server, real Docker): a miss names the inputs pointer
// that changed, a hit names the run it re-used, and the recorded key is recomputed from its material.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import type { Explanation } from '../../src/cli/commands/explain';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';

const exec = promisify(execFile);
let h: LoopHarness;

beforeAll(async () => {
  h = await startLoopHarness(integrationEnv());
}, 900_000);

afterAll(async () => {
  await h?.close();
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec('node', [join(REPO_ROOT, 'bin/worldloop.js'), ...args], { env: h.env, timeout: 120_000 });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('worldloop explain', () => {
  const tag = `${Date.now()}`;
  const ids: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };

  beforeAll(async () => {
    for (const [name, text] of [
      ['a', `same ${tag}`],
      ['b', `other ${tag}`],
      ['c', `same ${tag}`],
    ] as const) {
      const { execution_id, envelope } = await h.run({ processor_ref: 'text/stats@1', inputs: { text } });
      expect(envelope.status, JSON.stringify(envelope)).toBe('success');
      ids[name] = execution_id;
    }
  }, 600_000);

  it('a miss against the latest earlier run names inputs_hash and the pointer /text', async () => {
    const r = await cli('explain', ids.b, '--json');
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout) as Explanation;
    expect(e.decision).toEqual({ cache: 'miss' });
    expect(e.run.key_verified).toBe(true);
    expect(e.against?.execution_id).toBe(ids.a);
    expect(e.differences).toEqual([expect.objectContaining({ field: 'inputs_hash', pointers: ['/text'] })]);
  });

  it('a hit names the run it re-used; --against compares with any run of the processor', async () => {
    const hit = JSON.parse((await cli('explain', ids.c, '--json')).stdout) as Explanation;
    expect(hit.decision).toEqual({ cache: 'hit', source_execution_id: ids.a });
    expect(hit.against?.execution_id).toBe(ids.b);
    const vsA = JSON.parse((await cli('explain', ids.c, '--against', ids.a, '--json')).stdout) as Explanation;
    expect(vsA.differences).toEqual([]);
    expect(vsA.run.cache_key).toBe(vsA.against?.cache_key);
  });

  it('prints the material as text', async () => {
    const r = await cli('explain', ids.b);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`cache miss: the key differs from run ${ids.a}'s in inputs_hash`);
    expect(r.stdout).toMatch(/recomputed from the material below: matches/);
    for (const f of ['processor_ref', 'image_digest', 'platform', 'inputs_hash', 'mode', 'env_fingerprint', 'salt'])
      expect(r.stdout).toContain(`  ${f}`);
    expect(r.stdout).toContain('inputs differ at /text');
  });

  it('an unknown run is ERR_NOT_FOUND, exit 2', async () => {
    const r = await cli('explain', '01900000-0000-7000-8000-000000000000');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ERR_NOT_FOUND/);
  });
});
