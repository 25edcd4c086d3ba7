// The independent check of issue 11: cosign (sigstore/cosign v3.1.3, built once per machine by
// scripts/go-tools.sh) verifies a real run's attestation offline against worldloop's public key, for the
// run's output — and refuses a tampered output and a tampered envelope. Also for a cache hit's attestation.
// Under CI=true a missing cosign fails the test instead of skipping it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { attestationPath } from '../../src/contracts/attestation';
import { defaultKeyFile, loadKeyFile } from '../../src/provenance';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';

const exec = promisify(execFile);

async function findCosign(): Promise<string | undefined> {
  try {
    const { stdout } = await exec('bash', [join(REPO_ROOT, 'scripts/go-tools.sh'), '--path', 'cosign'], {
      timeout: 1_500_000,
    });
    return stdout.trim() || undefined;
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    return undefined;
  }
}

const cosign = await findCosign();
let h: LoopHarness;
let dir: string;

beforeAll(async () => {
  if (!cosign) return;
  h = await startLoopHarness(integrationEnv());
  dir = await mkdtemp(join(tmpdir(), 'wl-cosign-'));
}, 900_000);

afterAll(async () => {
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function verifyBlob(blob: string, signature: string, pub: string): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await exec(
      cosign!,
      [
        'verify-blob-attestation',
        '--key',
        pub,
        '--signature',
        signature,
        '--type',
        'slsaprovenance1',
        '--insecure-ignore-tlog=true',
        blob,
      ],
      { timeout: 120_000 },
    );
    return { ok: true, out: `${r.stdout}${r.stderr}` };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe.skipIf(!cosign)('cosign verifies worldloop attestations offline (needs scripts/go-tools.sh cosign)', () => {
  it('a real run: the output verifies; a tampered output and a tampered envelope do not', async () => {
    const inputs = { text: `cosign ${Date.now()}` };
    const first = await h.run({ processor_ref: 'text/stats@1', inputs });
    const hit = await h.run({ processor_ref: 'text/stats@1', inputs });
    for (const { envelope } of [first, hit]) expect(envelope.status, JSON.stringify(envelope)).toBe('success');
    if (first.envelope.status !== 'success' || hit.envelope.status !== 'success') return;
    expect(hit.envelope.meta.cache_hit).toBe(true);

    const key = await loadKeyFile(defaultKeyFile(h.cfg.stateDir));
    const pub = join(dir, 'worldloop.pub');
    await writeFile(pub, key.publicPem);
    const output = join(dir, 'stats.json');
    await h.world.world.copyTo(first.envelope.outputs[0]!, output);

    for (const run of [first, hit]) {
      const signature = join(dir, `${run.execution_id}.dsse.json`);
      await writeFile(signature, await h.world.world.readBytes(attestationPath(run.execution_id)));
      const ok = await verifyBlob(output, signature, pub);
      expect(ok.ok, ok.out).toBe(true);
      expect(ok.out).toMatch(/Verified OK/);
    }

    // A tampered output: one byte flipped in the local copy.
    const bytes = await readFile(output);
    bytes[3] = bytes[3]! ^ 0x01;
    const tampered = join(dir, 'stats-tampered.json');
    await writeFile(tampered, bytes);
    const signature = join(dir, `${first.execution_id}.dsse.json`);
    const badOutput = await verifyBlob(tampered, signature, pub);
    expect(badOutput.ok, badOutput.out).toBe(false);
    expect(badOutput.out).toMatch(/no matching subject digest/);

    // A tampered envelope: the statement's payload changed (mode mock → real) without a new signature.
    const envelope = JSON.parse(await readFile(signature, 'utf8')) as { payload: string };
    const statement = Buffer.from(envelope.payload, 'base64')
      .toString('utf8')
      .replace('"mode":"mock"', '"mode":"real"');
    expect(statement).toContain('"mode":"real"');
    const badSignature = join(dir, 'tampered.dsse.json');
    await writeFile(badSignature, JSON.stringify({ ...envelope, payload: Buffer.from(statement).toString('base64') }));
    const badEnvelope = await verifyBlob(output, badSignature, pub);
    expect(badEnvelope.ok, badEnvelope.out).toBe(false);
  }, 600_000);
});
