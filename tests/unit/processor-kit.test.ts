// The container side of docs/architecture.md §7, run in-process with temp folders standing in for /work and
// /run/secrets. Digests are recomputed independently (@noble/hashes BLAKE3, node:crypto SHA-256) rather
// than through src/hashing, so a bug there cannot hide here.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blake3 } from '@noble/hashes/blake3.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecutionIdSchema, OutputsIndexSchema, ProcessorReceiptSchema } from '../../src/contracts/schemas';
import { canonicalize } from '../../src/hashing/jcs';
import { parseKitArgs } from '../../src/processor-kit/args';
import { EXECUTION_ID_PATTERN, runProcessor } from '../../src/processor-kit/run-processor';
import type { EmbeddedSpec, OutputItem, ProcessorDefinition, RunnerConfig } from '../../src/processor-kit/types';
import { LIFECYCLE_EVENTS } from '../../src/processor-kit/log';

const EXEC_ID = '0190a5b2-1c3d-7e4f-8a9b-0c1d2e3f4a5b';
const PREFIX = 'world://artifacts/outputs/test/echo/run-1/';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const SPEC: EmbeddedSpec = {
  ref: 'test/echo@1',
  inputs: {
    type: 'object',
    additionalProperties: false,
    required: ['text'],
    properties: { text: { type: 'string', maxLength: 64 }, n: { type: 'integer' } },
  },
  outputs: ['outputs/**'],
  secrets: { required: [], optional: [] },
  cost: { reserve_micro: 1000 },
  deterministic: true,
};

interface Run {
  code: number;
  lines: Record<string, unknown>[];
  raw: string;
  out: string;
  seen: RunnerConfig | undefined;
}

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'wl-kit-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

function definition(
  produce: (inputs: Record<string, unknown>, config: RunnerConfig) => Promise<OutputItem[]> | OutputItem[],
  overrides: Partial<EmbeddedSpec> = {},
  cost = 7,
): { def: ProcessorDefinition; seen: () => RunnerConfig | undefined } {
  let seen: RunnerConfig | undefined;
  const def: ProcessorDefinition = {
    spec: { ...SPEC, ...overrides },
    version: '9.9.9',
    makeRunner: (config) => {
      seen = config;
      return async (inputs) => ({
        outputs: await produce(inputs, config),
        usage: { units: 1 },
        cost_micro: cost,
        processor_info: { provider: 'test' },
      });
    },
  };
  return { def, seen: () => seen };
}

/** The flags the control plane passes, in its order (the failure cases below cut and edit this list). */
function standardArgv(mode = 'mock'): string[] {
  return [
    '--inputs',
    `@${join(work, 'inputs.json')}`,
    '--write-prefix',
    PREFIX,
    '--execution-id',
    EXEC_ID,
    '--mode',
    mode,
    '--out',
    join(work, 'out'),
  ];
}

async function run(
  built: ReturnType<typeof definition>,
  inputs: unknown,
  extra: { argv?: string[]; mode?: string; secretsDir?: string; rawInputs?: string } = {},
): Promise<Run> {
  await writeFile(join(work, 'inputs.json'), extra.rawInputs ?? JSON.stringify(inputs));
  const out = join(work, 'out');
  let raw = '';
  const argv = extra.argv ?? standardArgv(extra.mode);
  const code = await runProcessor(built.def, {
    argv,
    stderr: (line) => {
      raw += line;
    },
    secretsDir: extra.secretsDir ?? join(work, 'secrets'),
  });
  const lines = raw
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines, raw, out, seen: built.seen() };
}

// A fresh definition per run, so what one run's runner saw cannot leak into the next assertion.
const echo = (): ReturnType<typeof definition> =>
  definition((inputs) => [
    { relpath: 'outputs/b.txt', bytes: String(inputs.text), mime: 'text/plain' },
    { relpath: 'outputs/a/deep.json', bytes: new Uint8Array([123, 125]), mime: 'application/json' },
    { relpath: 'outputs/Zeta %.txt', bytes: 'pct', mime: 'text/plain' },
  ]);

describe('runProcessor success path', () => {
  it('writes outputs/**, a sorted outputs.json and a JCS receipt with an independently computed inputs_hash', async () => {
    const r = await run(echo(), { text: 'héllo', n: 2 });
    expect(r.code).toBe(0);

    const index = OutputsIndexSchema.parse(JSON.parse(await readFile(join(r.out, 'outputs.json'), 'utf8')));
    const paths = index.outputs.map((o) => o.path);
    expect(paths).toEqual([...paths].sort());
    expect(paths).toEqual([`${PREFIX}outputs/Zeta %25.txt`, `${PREFIX}outputs/a/deep.json`, `${PREFIX}outputs/b.txt`]);
    for (const [entry, rel] of [
      [index.outputs[0]!, 'outputs/Zeta %.txt'],
      [index.outputs[1]!, 'outputs/a/deep.json'],
      [index.outputs[2]!, 'outputs/b.txt'],
    ] as const) {
      const bytes = await readFile(join(r.out, rel));
      expect(entry.size_bytes).toBe(bytes.byteLength);
      expect(entry.blake3).toBe(hex(blake3(bytes)));
      expect(entry.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    expect(await readFile(join(r.out, 'outputs/b.txt'), 'utf8')).toBe('héllo');

    const receiptText = await readFile(join(r.out, 'receipt.json'), 'utf8');
    const receipt = ProcessorReceiptSchema.parse(JSON.parse(receiptText));
    expect(receiptText).toBe(canonicalize(receipt));
    // Independent: JCS written by hand for this object, BLAKE3 from @noble/hashes.
    const jcs = '{"n":2,"text":"héllo"}';
    expect(receipt.inputs_hash).toEqual({ hash_schema: 'jcs-blake3-v1', value: hex(blake3(Buffer.from(jcs))) });
    expect(receipt).toMatchObject({
      receipt_schema: 'worldloop.processor-receipt/v1',
      execution_id: EXEC_ID,
      processor_ref: 'test/echo@1',
      mode: 'mock',
      usage: { units: 1 },
      cost_micro: 7,
      processor_info: { provider: 'test', processor_version: '9.9.9' },
    });
    // Receipts are not outputs: only outputs/** is indexed.
    expect(paths.some((p) => p.endsWith('receipt.json') || p.endsWith('outputs.json'))).toBe(false);
  });

  it('logs each lifecycle event exactly once, in order, with context, and never the raw inputs', async () => {
    const canary = 'CANARY-INPUT-7f3a';
    const r = await run(echo(), { text: canary });
    expect(r.code).toBe(0);
    const events = r.lines.map((l) => l.event);
    expect(events).toEqual([
      'execution.start',
      'provider.call',
      'provider.response',
      'storage.write',
      'execution.settle',
    ]);
    for (const line of r.lines) {
      expect(line).toMatchObject({
        execution_id: EXEC_ID,
        processor_ref: 'test/echo@1',
        mode: 'mock',
        version: '9.9.9',
      });
    }
    expect(r.raw).not.toContain(canary);
    expect(LIFECYCLE_EVENTS).toContain('execution.fail');
  });

  it('gives the same output bytes and receipt for the same inputs', async () => {
    const a = await run(echo(), { text: 'same' });
    const first = [await readFile(join(a.out, 'outputs.json')), await readFile(join(a.out, 'receipt.json'))];
    await rm(a.out, { recursive: true });
    const b = await run(echo(), { n: 1, text: 'same' }, { rawInputs: '{"text":"same"}' });
    expect(b.code).toBe(0);
    expect(await readFile(join(b.out, 'outputs.json'))).toEqual(first[0]);
    expect(await readFile(join(b.out, 'receipt.json'))).toEqual(first[1]);
  });

  it('caps the charge at the reservation and records the uncapped figure', async () => {
    const greedy = definition(() => [{ relpath: 'outputs/x', bytes: 'x', mime: 'text/plain' }], {}, 5000);
    const r = await run(greedy, { text: 'x' });
    expect(r.code).toBe(0);
    const receipt = JSON.parse(await readFile(join(r.out, 'receipt.json'), 'utf8')) as Record<string, unknown>;
    expect(receipt.cost_micro).toBe(1000);
    expect(receipt.processor_info).toMatchObject({ cost_uncapped_micro: 5000 });
  });

  it('reads config.json beside the inputs file as non-secret settings', async () => {
    await writeFile(join(work, 'config.json'), '{"OPENAI_BASE_URL":"http://127.0.0.1:9/v1"}');
    const r = await run(echo(), { text: 'x' });
    expect(r.code).toBe(0);
    expect(r.seen?.settings).toEqual({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
  });
});

function failOf(r: Run): Record<string, unknown> {
  const fails = r.lines.filter((l) => l.event === 'execution.fail');
  expect(fails).toHaveLength(1);
  expect(r.lines.filter((l) => l.event === 'execution.settle')).toHaveLength(0);
  return fails[0]!;
}

describe('runProcessor failures', () => {
  it.each([
    ['an unknown flag', (a: string[]) => [...a, '--verbose']],
    ['a positional argument', (a: string[]) => [...a, 'extra']],
    ['a repeated flag', (a: string[]) => [...a, '--mode', 'mock']],
    ['a missing flag', (a: string[]) => a.slice(2)],
    ['a flag without value', (a: string[]) => [...a.slice(0, -1)]],
    ['an execution id that is not a UUIDv7', (a: string[]) => a.map((x) => (x === EXEC_ID ? 'not-a-uuid' : x))],
  ])('refuses %s with ERR_USAGE and exit 2', async (_what, mutate) => {
    const r = await run(echo(), { text: 'x' }, { argv: mutate(standardArgv()) });
    expect(r.code).toBe(2);
    expect(failOf(r)).toMatchObject({ code: 'ERR_USAGE' });
    expect(existsSync(join(work, 'out'))).toBe(false);
  });

  it('accepts --flag=value and an optional --config', () => {
    const args = parseKitArgs([
      '--inputs={"a":1}',
      '--write-prefix=/artifacts/x/',
      '--execution-id',
      EXEC_ID,
      '--mode=real',
      '--out',
      '/o',
      '--config',
      '@/c.json',
    ]);
    expect(args).toEqual({
      inputs: '{"a":1}',
      writePrefix: '/artifacts/x/',
      executionId: EXEC_ID,
      mode: 'real',
      out: '/o',
      config: '@/c.json',
    });
  });

  it.each(['smoke', 'Real', ''])('refuses mode %j with ERR_MODE_INVALID (exit 2)', async (mode) => {
    const argv = standardArgv().map((x, i, a) => (a[i - 1] === '--mode' ? mode : x));
    const r = await run(
      echo(),
      { text: 'x' },
      { argv: mode === '' ? [...argv.slice(0, 7), '--mode=', ...argv.slice(8)] : argv },
    );
    expect(r.code).toBe(2);
    expect(failOf(r).code).toBe(mode === '' ? 'ERR_USAGE' : 'ERR_MODE_INVALID');
  });

  it.each([
    ['schema violation', undefined, { text: 'x'.repeat(65) }, /\/text must NOT have more than 64 characters/],
    ['unknown key', undefined, { text: 'x', extra: 1 }, /must NOT have additional properties \("extra"\)/],
    ['missing key', undefined, { n: 1 }, /must have required property 'text'/],
    ['not JSON', '{"text":', undefined, /invalid JSON/],
    ['duplicate keys (not I-JSON)', '{"text":"a","text":"b"}', undefined, /duplicate/i],
    ['not an object', '["x"]', undefined, /JSON object/],
  ])('refuses inputs with %s: ERR_INPUTS, exit 2, nothing written', async (_what, rawInputs, inputs, message) => {
    const r = await run(echo(), inputs, rawInputs === undefined ? {} : { rawInputs });
    expect(r.code).toBe(2);
    const fail = failOf(r);
    expect(fail.code).toBe('ERR_INPUTS');
    expect(String(fail.message)).toMatch(message);
    expect(existsSync(join(work, 'out'))).toBe(false);
    expect(r.seen).toBeUndefined();
  });

  it('refuses a write prefix that is not a world prefix', async () => {
    const argv = standardArgv().map((x) => (x === PREFIX ? 'world://artifacts/outputs/x' : x));
    const r = await run(echo(), { text: 'x' }, { argv });
    expect(r.code).toBe(2);
    expect(failOf(r).code).toBe('ERR_SELECTOR_KIND_MISMATCH');
  });

  it.each([
    ['outputs/../escape.txt', 'ERR_OUTPUT_INVALID'],
    ['../escape.txt', 'ERR_OUTPUT_INVALID'],
    ['/etc/passwd', 'ERR_OUTPUT_INVALID'],
    ['outputs/a/./b', 'ERR_OUTPUT_INVALID'],
    ['outputs//b', 'ERR_OUTPUT_INVALID'],
    ['outputs/', 'ERR_OUTPUT_INVALID'],
    ['receipt.json', 'ERR_OUTPUT_INVALID'],
    ['outputs.json', 'ERR_OUTPUT_INVALID'],
    ['outputs\\..\\x', 'ERR_OUTPUT_INVALID'],
    ['outputs/a\u0000b', 'ERR_OUTPUT_INVALID'],
    ['outputs/.GIT/x', 'ERR_OUTPUT_INVALID'],
    ['outputs/cafe\u0301', 'ERR_OUTPUT_INVALID'],
  ])('refuses the output relpath %j (%s) and writes nothing', async (relpath, code) => {
    const bad = definition(() => [
      { relpath: 'outputs/ok.txt', bytes: 'ok', mime: 'text/plain' },
      { relpath, bytes: 'x', mime: 'text/plain' },
    ]);
    const r = await run(bad, { text: 'x' });
    expect(r.code).toBe(1);
    expect(failOf(r).code).toBe(code);
    expect(existsSync(join(work, 'out'))).toBe(false);
    expect(existsSync(join(work, 'escape.txt'))).toBe(false);
  });

  it.each([
    [['outputs/A.txt', 'outputs/a.txt'], 'ERR_OUTPUT_DUPLICATE'],
    [['outputs/x', 'outputs/x'], 'ERR_OUTPUT_DUPLICATE'],
    [['outputs/Straße', 'outputs/STRASSE'], 'ERR_OUTPUT_DUPLICATE'],
    [['outputs/x', 'outputs/x/y'], 'ERR_OUTPUT_INVALID'],
  ])('refuses the output set %j with %s', async (relpaths, code) => {
    const dup = definition(() => relpaths.map((relpath) => ({ relpath, bytes: 'x', mime: 'text/plain' })));
    const r = await run(dup, { text: 'x' });
    expect(r.code).toBe(1);
    expect(failOf(r).code).toBe(code);
    expect(existsSync(join(work, 'out'))).toBe(false);
  });

  it('refuses outputs the registry entry does not declare', async () => {
    const undeclared = definition(
      () => [{ relpath: 'outputs/other.bin', bytes: 'x', mime: 'application/octet-stream' }],
      { outputs: ['outputs/*.json'] },
    );
    const r = await run(undeclared, { text: 'x' });
    expect(r.code).toBe(1);
    expect(failOf(r)).toMatchObject({ code: 'ERR_OUTPUT_INVALID' });
    expect(String(failOf(r).message)).toMatch(/not declared/);
  });

  it('reports a runner crash as ERR_PROCESSOR_FAILED (exit 1) without writing anything', async () => {
    const crash = definition(() => {
      throw new TypeError('boom');
    });
    const r = await run(crash, { text: 'x' });
    expect(r.code).toBe(1);
    expect(failOf(r)).toMatchObject({ code: 'ERR_PROCESSOR_FAILED', message: 'boom' });
    expect(r.lines.map((l) => l.event)).toEqual(['execution.start', 'provider.call', 'execution.fail']);
    expect(existsSync(join(work, 'out'))).toBe(false);
  });
});

describe('zod-free checks in the kit agree with the contracts', () => {
  it.each([
    EXEC_ID,
    '0190a5b2-1c3d-4e4f-8a9b-0c1d2e3f4a5b',
    '0190a5b2-1c3d-7e4f-ca9b-0c1d2e3f4a5b',
    '0190A5B2-1C3D-7E4F-8A9B-0C1D2E3F4A5B',
    '0190a5b2-1c3d-7e4f-8a9b-0c1d2e3f4a5',
    `${EXEC_ID}\n`,
    '',
    'not-a-uuid',
  ])('the execution id pattern matches ExecutionIdSchema for %j', (id) => {
    expect(EXECUTION_ID_PATTERN.test(id)).toBe(ExecutionIdSchema.safeParse(id).success);
  });

  it('refuses usage that is not a flat record of scalars', async () => {
    const nested: ProcessorDefinition = {
      spec: SPEC,
      version: '1',
      makeRunner: () => async () => ({
        outputs: [],
        usage: { deep: { x: 1 } } as unknown as Record<string, number>,
        cost_micro: 0,
        processor_info: {},
      }),
    };
    const r = await run({ def: nested, seen: () => undefined }, { text: 'x' });
    expect(r.code).toBe(1);
    expect(failOf(r)).toMatchObject({ code: 'ERR_PROCESSOR_FAILED' });
  });
});

describe('secrets', () => {
  const SECRET = 'sk-test-SECRETVALUE-0123456789';
  const withSecret = { secrets: { required: ['OPENAI_API_KEY'], optional: ['EXTRA_TOKEN'] } };

  it('mock mode reads no secret even when it is mounted', async () => {
    await mkdir(join(work, 'secrets'));
    await writeFile(join(work, 'secrets', 'OPENAI_API_KEY'), `${SECRET}\n`);
    const r = await run(
      definition(() => [{ relpath: 'outputs/x', bytes: 'x', mime: 'text/plain' }], withSecret),
      { text: 'x' },
    );
    expect(r.code).toBe(0);
    expect(r.seen?.secrets).toEqual({});
  });

  it('real mode reads required and present optional secrets from files, without the trailing newline', async () => {
    await mkdir(join(work, 'secrets'));
    await writeFile(join(work, 'secrets', 'OPENAI_API_KEY'), `${SECRET}\n`);
    const r = await run(
      definition(() => [{ relpath: 'outputs/x', bytes: 'x', mime: 'text/plain' }], withSecret),
      { text: 'x' },
      { mode: 'real' },
    );
    expect(r.code).toBe(0);
    expect(r.seen?.secrets).toEqual({ OPENAI_API_KEY: SECRET });
  });

  it('real mode: the mounted folder first, then secrets/ beside the inputs file (where the Modal adapter writes)', async () => {
    const mounted = join(work, 'run-secrets');
    await mkdir(mounted);
    await mkdir(join(work, 'secrets'));
    await writeFile(join(work, 'secrets', 'OPENAI_API_KEY'), `${SECRET}\n`);
    await writeFile(join(work, 'secrets', 'EXTRA_TOKEN'), 'beside-the-inputs');
    await writeFile(join(mounted, 'EXTRA_TOKEN'), 'mounted-wins');
    const r = await run(
      definition(() => [{ relpath: 'outputs/x', bytes: 'x', mime: 'text/plain' }], withSecret),
      { text: 'x' },
      { mode: 'real', secretsDir: mounted },
    );
    expect(r.code).toBe(0);
    expect(r.seen?.secrets).toEqual({ OPENAI_API_KEY: SECRET, EXTRA_TOKEN: 'mounted-wins' });
  });

  it('real mode without a required secret fails with ERR_MISSING_SECRET (exit 2) before the runner is built', async () => {
    const r = await run(
      definition(() => [], withSecret),
      { text: 'x' },
      { mode: 'real' },
    );
    expect(r.code).toBe(2);
    expect(failOf(r)).toMatchObject({ code: 'ERR_MISSING_SECRET' });
    expect(r.seen).toBeUndefined();
  });

  it('never lets a secret value reach the log, even through an error message', async () => {
    await mkdir(join(work, 'secrets'));
    await writeFile(join(work, 'secrets', 'OPENAI_API_KEY'), SECRET);
    const leaky = definition((_inputs, config) => {
      config.log('provider.retry', { note: `using ${config.secrets.OPENAI_API_KEY}` });
      throw new Error(`provider said: bad key ${config.secrets.OPENAI_API_KEY}`);
    }, withSecret);
    const r = await run(leaky, { text: 'x' }, { mode: 'real' });
    expect(r.code).toBe(1);
    expect(r.raw).not.toContain(SECRET);
    expect(r.raw).not.toContain('SECRETVALUE');
    expect(r.raw).toContain('[REDACTED]');
  });
});
