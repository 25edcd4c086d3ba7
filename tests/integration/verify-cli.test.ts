// `worldloop verify` end to end: real runs through the Temporal dev server and Docker, then every link
// re-checked — from a fresh run (exit 0) to a flipped byte of an output blob, a re-pointed receipt copy and an
// altered attestation (each its own code), and `--reexec` in a fresh container: identical for text/stats@1,
// ERR_NONDETERMINISTIC for the fixture's random behaviour, with no plan budget spent and nothing written.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { attestationPath } from '../../src/contracts/attestation';
import { NAMESPACES, blobKey, pathKey, worldRoot } from '../../src/world';
import { verifyExecution } from '../../src/temporal/verify-execution';
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

let n = 0;
async function statsRun(): Promise<{ id: string; output: string }> {
  const text = `verify me ${Date.now()} ${++n}`;
  const { execution_id, envelope } = await h.run({ processor_ref: 'text/stats@1', inputs: { text }, cache: false });
  expect(envelope.status, JSON.stringify(envelope)).toBe('success');
  if (envelope.status !== 'success') throw new Error('run failed');
  return { id: execution_id, output: envelope.outputs[0]! };
}

/** The CLI as a user runs it; never throws, returns the exit code and output. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [join(REPO_ROOT, 'bin/worldloop.js'), ...args], {
      env: h.env,
      timeout: 300_000,
      maxBuffer: 8 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const storeFile = (key: string) => join(worldRoot(h.cfg), ...key.split('/'));

async function rebind(path: string, bytes: Uint8Array): Promise<void> {
  const blob = await h.world.world.putBlob(bytes);
  const file = storeFile(pathKey(NAMESPACES.index, path));
  const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFile(file, JSON.stringify({ ...record, ...blob }));
}

const broken = (r: { links: { link: string; ok: boolean; code?: string }[] }) =>
  r.links.filter((l) => !l.ok).map((l) => [l.link, l.code]);

describe('worldloop verify', () => {
  it('a fresh run: every link holds and the CLI exits 0', async () => {
    const { id } = await statsRun();
    const r = await cli(['verify', id]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const link of ['receipt-copies', 'history', 'outputs', 'ledger', 'attestation']) {
      expect(r.stdout).toMatch(new RegExp(`✓ ${link}`));
    }
    expect(r.stdout).toMatch(/reserved \d+, charged 0, released \d+ micro-USD/);
  }, 300_000);

  it('one flipped byte of a stored output blob: exit 1, ERR_OUTPUT_TAMPERED naming that output', async () => {
    const { id, output } = await statsRun();
    const entry = (await h.world.world.stat(output))!;
    const file = storeFile(blobKey(entry.blake3));
    const bytes = await readFile(file);
    bytes[5] = bytes[5]! ^ 0x01;
    await writeFile(file, bytes);
    const r = await cli(['verify', id, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; code: string; links: { link: string; detail: string }[] };
    expect(report).toMatchObject({ ok: false, code: 'ERR_OUTPUT_TAMPERED' });
    expect(report.links.find((l) => l.link === 'outputs')?.detail).toContain(output);
  }, 300_000);

  it('a tampered receipt copy → ERR_RECEIPT_MISMATCH; a tampered attestation → ERR_ATTESTATION_INVALID', async () => {
    const a = await statsRun();
    const receiptPath = `world://artifacts/outputs/text/stats/${a.id}/receipt.json`;
    const forged = new TextDecoder().decode(await h.world.world.readBytes(receiptPath)).replace('"mock"', '"real"');
    await rebind(receiptPath, new TextEncoder().encode(forged));
    const ra = await verifyExecution(h.cfg, h.temporal, a.id);
    expect(ra.ok).toBe(false);
    expect(ra.links[0]).toMatchObject({ link: 'receipt-copies', code: 'ERR_RECEIPT_MISMATCH' });

    const b = await statsRun();
    const envelope = JSON.parse(new TextDecoder().decode(await h.world.world.readBytes(attestationPath(b.id)))) as {
      payload: string;
    };
    const statement = Buffer.from(envelope.payload, 'base64')
      .toString('utf8')
      .replace('"mode":"mock"', '"mode":"real"');
    const altered = { ...envelope, payload: Buffer.from(statement).toString('base64') };
    await rebind(attestationPath(b.id), new TextEncoder().encode(JSON.stringify(altered)));
    const rb = await verifyExecution(h.cfg, h.temporal, b.id);
    expect(broken(rb)).toEqual([['attestation', 'ERR_ATTESTATION_INVALID']]);
    expect(rb.links.at(-1)?.code).toBe('ERR_ATTESTATION_INVALID');
  }, 300_000);

  it('--reexec: text/stats@1 is identical per file; no budget spent, nothing written to the run prefix', async () => {
    const { id } = await statsRun();
    const prefix = `world://artifacts/outputs/text/stats/${id}/`;
    const before = { plan: await h.world.ledger.getPlan('default'), files: await h.world.world.list(prefix) };
    const r = await cli(['verify', id, '--reexec', '--json']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; reexec: { ok: boolean; files: { verdict: string }[] } };
    expect(report.ok).toBe(true);
    expect(report.reexec.files.map((f) => f.verdict)).toEqual(['identical']);
    expect(await h.world.ledger.getPlan('default')).toEqual(before.plan);
    expect(await h.world.world.list(prefix)).toEqual(before.files);
  }, 300_000);

  it('--reexec of a run that read a world artifact: the same bytes by digest, identical per file', async () => {
    const { output } = await statsRun();
    const { execution_id, envelope } = await h.run({
      processor_ref: 'text/stats@1',
      inputs: { file: { $world: output } },
      cache: false,
    });
    expect(envelope.status, JSON.stringify(envelope)).toBe('success');
    const result = await verifyExecution(h.cfg, h.temporal, execution_id, { reexec: true });
    expect(broken(result)).toEqual([]);
    expect(result.reexec?.files.map((f) => f.verdict)).toEqual(['identical']);
    expect(result.ok).toBe(true);
  }, 300_000);

  it('--reexec: a nondeterministic processor → ERR_NONDETERMINISTIC naming the file that differs', async () => {
    const { execution_id, envelope } = await h.run({
      processor_ref: 'test/fixture@1',
      inputs: { behaviour: 'random', text: `r ${Date.now()}` },
    });
    expect(envelope.status, JSON.stringify(envelope)).toBe('success');
    const result = await verifyExecution(h.cfg, h.temporal, execution_id, { reexec: true });
    expect(broken(result)).toEqual([]);
    expect(result.ok).toBe(false);
    const verdicts = Object.fromEntries(result.reexec!.files.map((f) => [f.path.split('/').at(-1), f.verdict]));
    expect(verdicts).toEqual({ 'out.txt': 'identical', 'random.txt': 'differs' });
    const r = await cli(['verify', execution_id, '--reexec']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ reexec\s+ERR_NONDETERMINISTIC/);
    expect(r.stderr).toMatch(/^ERR_NONDETERMINISTIC$/m);
  }, 300_000);
});
