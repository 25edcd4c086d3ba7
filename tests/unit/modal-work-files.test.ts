// What the Modal adapter's prepare step writes under /work (src/adapters/modal/work-files.ts and the prepare
// program of sandbox-commands.ts): the payload built on the host — artifact inputs re-hashed, names of secrets
// but never their values — and the very program the sandbox runs, run here with node on a temporary folder.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { PREPARE_COMMAND, PREPARE_MISSING_SECRET_EXIT } from '../../src/adapters/modal/sandbox-commands';
import { preparePayload, type PrepareSpec } from '../../src/adapters/modal/work-files';
import { blake3Hex } from '../../src/hashing/blake3';
import { codeOf } from './helpers/expect-code';

let workdir: string;
beforeEach(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'wl-modal-work-'));
});

async function artifact(bytes: string): Promise<string> {
  const digest = blake3Hex(bytes);
  await mkdir(join(workdir, 'artifacts'), { recursive: true });
  await writeFile(join(workdir, 'artifacts', digest), bytes, { mode: 0o444 });
  return digest;
}

const ref = (digest: string, path = 'world://artifacts/in/a.txt') => ({ $world: path, blake3: digest });

function split(bytes: Uint8Array): { spec: PrepareSpec; rest: Buffer } {
  const all = Buffer.from(bytes);
  const nl = all.indexOf(10);
  return { spec: JSON.parse(all.subarray(0, nl).toString()) as PrepareSpec, rest: all.subarray(nl + 1) };
}

describe('the prepare payload', () => {
  it('carries each input artifact once, by digest, its bytes after the spec line in the spec’s order', async () => {
    const a = await artifact('first artifact\n');
    const b = await artifact('second\n');
    const inputs = { one: ref(a), again: ref(a, 'world://artifacts/in/copy.txt'), list: [ref(b)] };
    const { bytes } = await preparePayload({ inputs, workdir, mode: 'mock', secrets: {} });
    const { spec, rest } = split(bytes);
    expect(spec.dirs).toEqual(['/work/out', '/work/artifacts']);
    expect(spec.blobs).toEqual([
      [`/work/artifacts/${a}`, 15],
      [`/work/artifacts/${b}`, 7],
    ]);
    expect(rest.toString()).toBe('first artifact\nsecond\n');
    expect(spec.files).toEqual([['/work/inputs.json', JSON.stringify(inputs)]]);
  });

  it('real mode names the secrets and never carries a value; mock mode names none', async () => {
    const real = await preparePayload({ inputs: {}, workdir, mode: 'real', secrets: { B_KEY: 'sk-b', A_KEY: 'sk-a' } });
    expect(split(real.bytes).spec).toMatchObject({ secrets: ['A_KEY', 'B_KEY'], secretsDir: '/work/secrets' });
    expect(Buffer.from(real.bytes).toString()).not.toMatch(/sk-a|sk-b/);
    const mock = await preparePayload({ inputs: {}, workdir, mode: 'mock', secrets: {} });
    expect(split(mock.bytes).spec.secrets).toEqual([]);
  });

  it('an artifact that is missing or holds other bytes is refused before anything is sent', async () => {
    const digest = await artifact('original');
    await expect(
      codeOf(preparePayload({ inputs: { x: ref('f'.repeat(64)) }, workdir, mode: 'mock', secrets: {} })),
    ).resolves.toBe('ERR_INPUT_ARTIFACT_MISSING');
    // Other bytes under the digest's name, as a broken store would leave them.
    await rm(join(workdir, 'artifacts', digest));
    await writeFile(join(workdir, 'artifacts', digest), 'tampered');
    await expect(
      codeOf(preparePayload({ inputs: { x: ref(digest) }, workdir, mode: 'mock', secrets: {} })),
    ).resolves.toBe('ERR_DIGEST_MISMATCH');
  });
});

/** Runs the sandbox's prepare program with `env` on `payload`; its exit code and stderr. */
function runPrepare(payload: Uint8Array, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const [, flag, script] = PREPARE_COMMAND;
  const child = spawn(process.execPath, [flag!, script!], { env, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(Buffer.from(payload));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stderr })));
}

function payloadFor(root: string, secrets: string[], blob = 'artifact bytes'): Uint8Array {
  const spec: PrepareSpec = {
    dirs: [join(root, 'out'), join(root, 'artifacts')],
    files: [[join(root, 'inputs.json'), '{"text":"x"}']],
    blobs: [[join(root, 'artifacts', 'blob'), Buffer.byteLength(blob)]],
    secrets,
    secretsDir: join(root, 'secrets'),
  };
  return Buffer.concat([Buffer.from(`${JSON.stringify(spec)}\n`), Buffer.from(blob)]);
}

describe('the prepare program (what runs in the sandbox)', () => {
  it('writes inputs, artifacts 0444 and each secret from its environment to a 0400 file in a 0700 folder', async () => {
    const root = join(workdir, 'work');
    const { code, stderr } = await runPrepare(payloadFor(root, ['API_TOKEN']), { API_TOKEN: 'tok-123\nend' });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(await readFile(join(root, 'inputs.json'), 'utf8')).toBe('{"text":"x"}');
    expect(await readFile(join(root, 'artifacts', 'blob'), 'utf8')).toBe('artifact bytes');
    expect((await stat(join(root, 'artifacts', 'blob'))).mode & 0o777).toBe(0o444);
    expect(await readFile(join(root, 'secrets', 'API_TOKEN'), 'utf8')).toBe('tok-123\nend');
    expect((await stat(join(root, 'secrets', 'API_TOKEN'))).mode & 0o777).toBe(0o400);
    expect((await stat(join(root, 'secrets'))).mode & 0o777).toBe(0o700);
  });

  it('a secret missing from its environment: the dedicated exit code, the name on stderr, never a value', async () => {
    const root = join(workdir, 'work');
    const { code, stderr } = await runPrepare(payloadFor(root, ['API_TOKEN']), { OTHER: 'x' });
    expect(code).toBe(PREPARE_MISSING_SECRET_EXIT);
    expect(stderr).toBe('the environment has no API_TOKEN\n');
  });

  it('no secrets named: no secrets folder', async () => {
    const root = join(workdir, 'work');
    expect((await runPrepare(payloadFor(root, []), {})).code).toBe(0);
    await expect(stat(join(root, 'secrets'))).rejects.toThrow(/ENOENT/);
  });
});
