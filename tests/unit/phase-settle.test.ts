// Settle through the real activities (createActivities) over a real world store and ledger in a temp
// folder; the processor is a scripted adapter writing out/ — no Docker, no Temporal server.
import { link, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { InvokeArgs } from '../../src/adapters/adapter';
import { ReceiptSchema } from '../../src/contracts';
import { determinismPath } from '../../src/contracts/write-prefix';
import {
  PLAN,
  admit,
  blobCount,
  failureCode,
  inActivity,
  indexEntry,
  phaseEnv,
  prefixOf,
  processorReceipt,
  registryEntry,
  settle,
  text,
  upToSettle,
  writeOutputs,
  type PhaseEnv,
  type ProcessorScript,
} from './phase-harness';

let env: PhaseEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

const ok = { relpath: 'outputs/result.txt', bytes: text('hello') };

async function withScript(script: ProcessorScript, entry = registryEntry()): Promise<PhaseEnv> {
  env = await phaseEnv({ script, entry });
  return env;
}

describe('settle lands a verified run', () => {
  it('binds the outputs, outputs.json and both receipts, charges the actual cost, frees lease and records the cache', async () => {
    const e = await withScript(async (out, args) => writeOutputs(out, args, [ok], { cost: 7 }));
    const envelope = await settle(e, 'e1');
    expect(envelope.outputs).toEqual([`${prefixOf('e1')}outputs/result.txt`]);
    expect(envelope.meta.cost_micro).toBe(7);
    const receipt = ReceiptSchema.parse(
      JSON.parse(new TextDecoder().decode(await e.world.readBytes(determinismPath('e1')))),
    );
    expect(receipt.cost_micro).toBe(7);
    expect(await e.world.readBytes(`${prefixOf('e1')}receipt.json`)).toEqual(
      await e.world.readBytes(determinismPath('e1')),
    );
    const plan = await e.plans.getPlan(PLAN);
    expect(plan).toMatchObject({ spent_micro: 7, reserved_micro: 0, available_micro: 993 });
    expect(await e.leases.activeLeases()).toEqual([]);
    const { cache_key } = await admit(e, 'probe');
    expect(await e.world.getJson(`cache/${cache_key}`)).toMatchObject({ execution_id: 'e1', cost_micro: 7 });
  });

  it('keeps the Execute → Settle payload small: 300 outputs cross Temporal as one manifest digest', async () => {
    const files = Array.from({ length: 300 }, (_, i) => ({
      relpath: `outputs/f${String(i).padStart(4, '0')}.txt`,
      bytes: text(`file ${i}`),
    }));
    const e = await withScript(async (out, args) => writeOutputs(out, args, files));
    const { executed, settleInput } = await upToSettle(e, 'big');
    expect(executed.staging).toMatchObject({ status: 'staged', files: 300 });
    // Before, every staged entry and the whole processor index travelled in this payload.
    expect(JSON.stringify(executed).length).toBeLessThan(1024);
    const envelope = await inActivity(e.activities.settle, settleInput);
    expect(envelope.outputs).toHaveLength(300);
  });
});

// Each refusal: the code, nothing bound, no blob added by staging, budget back after release.
type Case = [name: string, code: string, script: ProcessorScript, entry?: ReturnType<typeof registryEntry>];

const bad = (over: (out: string, args: InvokeArgs) => Promise<void>): ProcessorScript => over;

const refusals: Case[] = [
  [
    '1 a symbolic link under outputs/',
    'ERR_OUTPUT_INVALID',
    bad(async (out, args) => {
      await writeOutputs(out, args, [ok]);
      await symlink('/etc/passwd', join(out, 'outputs/link'));
    }),
  ],
  [
    '2 a special file (fifo) under outputs/',
    'ERR_OUTPUT_INVALID',
    bad(async (out, args) => {
      await writeOutputs(out, args, [ok]);
      execFileSync('mkfifo', [join(out, 'outputs/pipe')]);
    }),
  ],
  [
    '3 a hard link under outputs/',
    'ERR_OUTPUT_INVALID',
    bad(async (out, args) => {
      await writeOutputs(out, args, [ok]);
      await link(join(out, 'outputs/result.txt'), join(out, '..', 'second-name'));
    }),
  ],
  [
    '4 a file outside outputs/',
    'ERR_OUTPUT_INVALID',
    bad(async (out, args) => {
      await writeOutputs(out, args, [ok]);
      await writeFile(join(out, 'escape.txt'), 'x');
    }),
  ],
  [
    '5 no outputs.json',
    'ERR_OUTPUT_INVALID',
    bad(async (out, args) => writeOutputs(out, args, [ok], { index: 'not an index' })),
  ],
  [
    '6 receipt.json missing or malformed',
    'ERR_OUTPUT_INVALID',
    bad(async (out, args) => writeOutputs(out, args, [ok], { receipt: { nope: true } })),
  ],
  [
    '7 the receipt names another execution or other inputs',
    'ERR_DIGEST_MISMATCH',
    bad(async (out, args) =>
      writeOutputs(out, args, [ok], { receipt: processorReceipt({ ...args, execution_id: 'other' }) }),
    ),
  ],
  [
    '8 outputs.json lists a file the processor did not write',
    'ERR_OUTPUT_INVALID',
    bad(async (out, args) =>
      writeOutputs(out, args, [ok], {
        index: {
          outputs: [
            indexEntry(args.write_prefix, ok),
            indexEntry(args.write_prefix, { relpath: 'outputs/ghost', bytes: text('') }),
          ],
        },
      }),
    ),
  ],
  [
    '9 a file whose digest differs from its index entry',
    'ERR_DIGEST_MISMATCH',
    bad(async (out, args) =>
      writeOutputs(out, args, [ok], {
        index: { outputs: [indexEntry(args.write_prefix, { relpath: ok.relpath, bytes: text('HELLO') })] },
      }),
    ),
  ],
  [
    '10 a file whose size differs from its index entry',
    'ERR_DIGEST_MISMATCH',
    bad(async (out, args) =>
      writeOutputs(out, args, [ok], {
        index: { outputs: [indexEntry(args.write_prefix, { relpath: ok.relpath, bytes: text('hello!') })] },
      }),
    ),
  ],
  [
    '11 a file outputs.json does not list',
    'ERR_OUTPUT_INVALID',
    bad(async (out, args) => {
      await writeOutputs(out, args, [ok]);
      await writeFile(join(out, 'outputs/unlisted.txt'), 'x');
    }),
  ],
  [
    '12 two files equal after canonicalisation (case folding)',
    'ERR_OUTPUT_DUPLICATE',
    bad(async (out, args) => writeOutputs(out, args, [ok, { relpath: 'outputs/RESULT.txt', bytes: text('x') }])),
  ],
  [
    '13 a cost above the reserved bound',
    'ERR_BUDGET_EXCEEDED',
    bad(async (out, args) => writeOutputs(out, args, [ok], { cost: 101 })),
  ],
  [
    '14 more files than runtime.outputs.max_files',
    'ERR_OUTPUT_TOO_LARGE',
    bad(async (out, args) =>
      writeOutputs(out, args, [
        ok,
        { relpath: 'outputs/b', bytes: text('b') },
        { relpath: 'outputs/c', bytes: text('c') },
      ]),
    ),
    registryEntry({ runtime: { cpu: 0.5, memory_mb: 128, timeout_s: 30, network: 'none', outputs: { max_files: 2 } } }),
  ],
  [
    '15 a sparse 1 GiB file over max_file_bytes (apparent size counts)',
    'ERR_OUTPUT_TOO_LARGE',
    bad(async (out, args) => {
      await writeOutputs(out, args, [ok]);
      execFileSync('truncate', ['-s', '1G', join(out, 'outputs/sparse.bin')]);
    }),
  ],
  [
    '16 a total over max_total_bytes',
    'ERR_OUTPUT_TOO_LARGE',
    bad(async (out, args) => writeOutputs(out, args, [ok, { relpath: 'outputs/b', bytes: new Uint8Array(600) }])),
    registryEntry({
      runtime: {
        cpu: 0.5,
        memory_mb: 128,
        timeout_s: 30,
        network: 'none',
        outputs: { max_total_bytes: 500, max_file_bytes: 1000 },
      },
    }),
  ],
  [
    '17 no out/ folder at all',
    'ERR_OUTPUT_INVALID',
    bad(async (out) => {
      execFileSync('rm', ['-r', out]);
    }),
  ],
];

describe('settle refuses, and staging copied nothing', () => {
  it.each(refusals)('%s → %s', async (_name, code, script, entry) => {
    const e = await withScript(script, entry);
    const before = await blobCount(e);
    const { settleInput, executed } = await upToSettle(e, 'bad');
    expect(executed.staging).toMatchObject({ status: 'refused', code });
    expect(await blobCount(e)).toBe(before);
    expect(await failureCode(inActivity(e.activities.settle, settleInput))).toBe(code);
    expect(await e.world.list(prefixOf('bad'))).toEqual([]);
    expect(await e.world.stat(determinismPath('bad'))).toBeUndefined();
    expect(await blobCount(e)).toBe(before);
    // The workflow's compensation gives everything back.
    await inActivity(e.activities.release, { execution_id: 'bad', plan: PLAN });
    expect(await e.plans.getPlan(PLAN)).toMatchObject({ reserved_micro: 0, spent_micro: 0 });
    expect(await e.leases.activeLeases()).toEqual([]);
  });

  it('a digest check that needs the bytes still stages nothing (the file is hashed, never copied)', async () => {
    const e = await withScript(refusals[8]![2]);
    const before = await blobCount(e);
    const { executed } = await upToSettle(e, 'bad');
    expect(executed.staging).toMatchObject({ status: 'refused', code: 'ERR_DIGEST_MISMATCH' });
    expect(await blobCount(e)).toBe(before);
  });

  it('refuses an oversize outputs.json by its size, before reading it (64 MiB index)', async () => {
    const e = await withScript(async (out, args) => {
      await writeOutputs(out, args, [ok]);
      execFileSync('truncate', ['-s', '64M', join(out, 'outputs.json')]);
    });
    const started = performance.now();
    const { executed } = await upToSettle(e, 'bad');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(executed.staging).toMatchObject({ status: 'refused', code: 'ERR_OUTPUT_TOO_LARGE' });
  });

  // 100k entries (25 MB of JSON), all naming files that do not exist. Built once, outside the timers.
  const hugeIndex = (prefix: string): string => {
    const empty = indexEntry(prefix, { relpath: 'outputs/x', bytes: text('') });
    const outputs = Array.from({ length: 100_000 }, (_, i) => ({
      ...empty,
      path: `${prefix}outputs/f${String(i).padStart(6, '0')}`,
    }));
    return JSON.stringify({ outputs });
  };

  it('refuses an index of 100k entries in milliseconds under the default max_files (1000)', async () => {
    const index = JSON.parse(hugeIndex(prefixOf('bad'))) as unknown;
    const e = await withScript(async (out, args) => writeOutputs(out, args, [ok], { index }));
    const before = await blobCount(e);
    const started = performance.now();
    const { executed } = await upToSettle(e, 'bad');
    const ms = performance.now() - started;
    expect(executed.staging).toMatchObject({ status: 'refused', code: 'ERR_OUTPUT_TOO_LARGE' });
    expect(await blobCount(e)).toBe(before);
    expect(ms).toBeLessThan(3000);
  });

  it('refuses an index of 100k entries with a code when max_files allows them, hashing and copying nothing', async () => {
    const index = JSON.parse(hugeIndex(prefixOf('bad'))) as unknown;
    const entry = registryEntry({
      runtime: { cpu: 0.5, memory_mb: 128, timeout_s: 30, network: 'none', outputs: { max_files: 100_000 } },
    });
    const e = await withScript(async (out, args) => writeOutputs(out, args, [ok], { index }), entry);
    const before = await blobCount(e);
    const started = performance.now();
    const { executed } = await upToSettle(e, 'bad');
    const ms = performance.now() - started;
    expect(executed.staging).toMatchObject({ status: 'refused', code: 'ERR_OUTPUT_INVALID' });
    expect(JSON.stringify(executed).length).toBeLessThan(1024);
    expect(await blobCount(e)).toBe(before);
    expect(ms).toBeLessThan(15_000);
  });

  it('refuses an outputs/ that is a file, not a folder', async () => {
    const e = await withScript(async (out, args) => {
      await writeOutputs(out, args, []);
      await writeFile(join(out, 'outputs'), 'x');
    });
    const { executed } = await upToSettle(e, 'bad');
    expect(executed.staging).toMatchObject({ status: 'refused', code: 'ERR_OUTPUT_INVALID' });
  });

  it('refuses a manifest digest that is not in the store (a forged Execute result)', async () => {
    const e = await withScript(async (out, args) => writeOutputs(out, args, [ok]));
    const { settleInput } = await upToSettle(e, 'bad');
    const forged = {
      ...settleInput,
      executed: {
        ...settleInput.executed,
        staging: {
          status: 'staged' as const,
          manifest: { blake3: 'f'.repeat(64), size_bytes: 10 },
          files: 1,
          total_bytes: 5,
        },
      },
    };
    expect(await failureCode(inActivity(e.activities.settle, forged))).toBe('ERR_DIGEST_MISMATCH');
    expect(await e.world.list(prefixOf('bad'))).toEqual([]);
  });
});
