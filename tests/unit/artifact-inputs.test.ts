// Artifact inputs through the real phases (real world store in a temp folder, scripted processor):
// Admit resolves {"$world": …} to a digest that enters the inputs hash and the cache key, refuses a
// missing or quarantined artifact with its own code, Execute puts the verified bytes where the container
// reads them, the receipt lists them, and `traceLineage` walks from the second run's output to the first.
import { mkdtemp, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { traceLineage, lineageText } from '../../src/cli/commands/lineage';
import {
  bindArtifacts,
  findArtifactRefs,
  unbindArtifacts,
  type InputArtifact,
} from '../../src/contracts/artifact-inputs';
import { ReceiptSchema } from '../../src/contracts/schemas';
import { determinismPath } from '../../src/contracts/write-prefix';
import { blake3Hex, inputsHash, parseJsonBytes } from '../../src/hashing';
import { localArtifactInputs } from '../../src/processor-kit/artifacts';
import { expectCode } from './helpers/expect-code';
import {
  admit,
  failureCode,
  phaseEnv,
  prefixOf,
  registryEntry,
  request,
  settle,
  text,
  writeOutputs,
  type PhaseEnv,
} from './phase-harness';

let env: PhaseEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

const DOC = {
  type: 'object',
  additionalProperties: false,
  required: ['$world'],
  properties: { $world: { type: 'string' } },
};
const entry = () =>
  registryEntry({
    inputs: {
      type: 'object',
      additionalProperties: false,
      required: ['text'],
      properties: { text: { type: 'string' }, doc: DOC, more: { type: 'array', items: DOC } },
    },
  });
const FIRST_OUTPUT = `${prefixOf('e1')}outputs/result.txt`;

describe('the reference grammar (pure)', () => {
  it('finds references anywhere, in document order, and binds and unbinds them', () => {
    const inputs = { a: [{ x: { $world: '/artifacts/p' } }], b: { $world: 'world://artifacts/q' } };
    expect(findArtifactRefs(inputs, 'submitted')).toEqual([
      { pointer: '/a/0/x', path: '/artifacts/p' },
      { pointer: '/b', path: 'world://artifacts/q' },
    ]);
    const d = 'a'.repeat(64);
    const bound: InputArtifact[] = [
      { pointer: '/a/0/x', path: 'world://artifacts/p', blake3: d, sha256: d, size_bytes: 1 },
      { pointer: '/b', path: 'world://artifacts/q', blake3: d, sha256: d, size_bytes: 1 },
    ];
    const b = bindArtifacts(inputs, bound);
    expect(b).toEqual({
      a: [{ x: { $world: 'world://artifacts/p', blake3: d } }],
      b: { $world: 'world://artifacts/q', blake3: d },
    });
    expect(unbindArtifacts(b)).toEqual({
      a: [{ x: { $world: 'world://artifacts/p' } }],
      b: { $world: 'world://artifacts/q' },
    });
    expect(inputs).toEqual({ a: [{ x: { $world: '/artifacts/p' } }], b: { $world: 'world://artifacts/q' } });
  });

  it.each([
    [{ d: { $world: 1 } }, '/d'],
    [{ d: { $world: '/artifacts/p', blake3: 'a'.repeat(64) } }, '/d'],
    [{ d: [{ $world: '/artifacts/p', extra: true }] }, '/d/0'],
  ])('a malformed reference is ERR_INPUTS naming %j', (inputs, pointer) => {
    expect(expectCode('ERR_INPUTS', () => findArtifactRefs(inputs, 'submitted'))).toContain(`reference at ${pointer}`);
  });
});

describe('Admit', () => {
  it('resolves the digest into the inputs hash and the cache key; other bytes at the path are another input', async () => {
    env = await phaseEnv({ entry: entry() });
    await settle(env, 'e1');
    const inputs = { text: 'x', doc: { $world: FIRST_OUTPUT.replace('world://', '/') } };
    const a = await admit(env, 'e2', request({ inputs }));
    const digest = blake3Hex(text('hello'));
    expect(a.input_artifacts).toEqual([
      expect.objectContaining({ pointer: '/doc', path: FIRST_OUTPUT, blake3: digest, size_bytes: 5 }),
    ]);
    expect(a.inputs_hash).toEqual(inputsHash({ text: 'x', doc: { $world: FIRST_OUTPUT, blake3: digest } }));
    expect(a.inputs_hash).not.toEqual(inputsHash(inputs));

    // The same submitted inputs in a world where the path holds other bytes: another hash and key.
    const other = await phaseEnv({ entry: entry() });
    try {
      await settle(other, 'e1', request({ inputs: { text: 'HELLO' } }));
      const b = await admit(other, 'e2', request({ inputs }));
      expect(b.inputs_hash).not.toEqual(a.inputs_hash);
      expect(b.cache_key).not.toBe(a.cache_key);
    } finally {
      await other.cleanup();
    }
  });

  it('refuses a missing artifact, a quarantined one, one outside artifacts/ and a malformed reference', async () => {
    env = await phaseEnv({ entry: entry() });
    await settle(env, 'e1');
    const code = (doc: unknown) => failureCode(admit(env!, 'e2', request({ inputs: { text: 'x', doc } as never })));
    expect(await code({ $world: '/artifacts/nothing/here' })).toBe('ERR_INPUT_ARTIFACT_MISSING');
    expect(await code({ $world: 'world://streams/s/x' })).toBe('ERR_INPUTS');
    expect(await code({ $world: '/artifacts/../x' })).toBe('ERR_DOT_SEGMENTS');
    await env.world.quarantine(FIRST_OUTPUT, { execution_id: 'e1', reason: 'predicate failed' });
    expect(await code({ $world: FIRST_OUTPUT })).toBe('ERR_INPUT_ARTIFACT_QUARANTINED');
  });
});

describe('Execute, Settle and lineage', () => {
  it('the bytes are beside the inputs by digest, the receipt lists them, lineage walks back to run e1', async () => {
    let seen: { inputs: unknown; bytes: string } | undefined;
    env = await phaseEnv({
      entry: entry(),
      script: async (out, args) => {
        const refs = findArtifactRefs(args.inputs, 'bound');
        const file = join(args.workdir, 'artifacts', refs[0]?.blake3 ?? 'none');
        seen = { inputs: args.inputs, bytes: refs.length ? await readFile(file, 'utf8') : '' };
        if (refs.length) expect((await stat(file)).mode & 0o777).toBe(0o444);
        await writeOutputs(out, args, [{ relpath: 'outputs/result.txt', bytes: text(`read:${seen.bytes}`) }]);
      },
    });
    await settle(env, 'e1');
    const inputs = { text: 'second', more: [{ $world: FIRST_OUTPUT }] };
    await settle(env, 'e2', request({ inputs }));
    // e1 read nothing and wrote "read:"; e2 read exactly those bytes.
    expect(seen?.bytes).toBe('read:');
    expect(seen?.inputs).toEqual({
      text: 'second',
      more: [{ $world: FIRST_OUTPUT, blake3: blake3Hex(text('read:')) }],
    });

    const readReceipt = async (id: string) => {
      const at = determinismPath(id);
      return (await env!.world.stat(at))
        ? ReceiptSchema.parse(parseJsonBytes(await env!.world.readBytes(at)))
        : undefined;
    };
    const receipt = await readReceipt('e2');
    expect(receipt?.input_artifacts).toEqual([
      expect.objectContaining({ pointer: '/more/0', path: FIRST_OUTPUT, blake3: blake3Hex(text('read:')) }),
    ]);
    expect((await readReceipt('e1'))?.input_artifacts).toBeUndefined();

    const tree = await traceLineage(`${prefixOf('e2')}outputs/result.txt`, {
      stat: (p) => env!.world.stat(p),
      quarantined: (p) => env!.world.isQuarantined(p),
      receipt: readReceipt,
      inputsOf: async () => null,
    });
    expect(tree.produced_by?.execution_id).toBe('e2');
    expect(tree.inputs).toHaveLength(1);
    expect(tree.inputs[0]).toMatchObject({
      pointer: '/more/0',
      path: FIRST_OUTPUT,
      produced_by: { execution_id: 'e1' },
    });
    expect(tree.inputs[0]?.inputs).toEqual([]);
    const shown = lineageText(tree);
    expect(shown).toContain('run     e2');
    expect(shown).toContain(`/more/0 ← ${FIRST_OUTPUT}`);
    expect(shown).toContain('run     e1');
  });
});

describe('the processor kit', () => {
  it('hands the processor a verified local path, and refuses a wrong or missing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wl-kit-artifacts-'));
    await mkdir(join(dir, 'artifacts'));
    const bytes = text('bytes');
    const d = blake3Hex(bytes);
    await writeFile(join(dir, 'artifacts', d), bytes);
    const bound = { doc: { $world: 'world://artifacts/a', blake3: d } };
    expect(await localArtifactInputs(bound, join(dir, 'artifacts'))).toEqual({
      doc: { $world: 'world://artifacts/a', blake3: d, path: join(dir, 'artifacts', d) },
    });
    const wrong = 'b'.repeat(64);
    await writeFile(join(dir, 'artifacts', wrong), bytes);
    await expect(
      localArtifactInputs({ doc: { $world: 'world://artifacts/a', blake3: wrong } }, join(dir, 'artifacts')),
    ).rejects.toMatchObject({ code: 'ERR_DIGEST_MISMATCH' });
    await expect(
      localArtifactInputs({ doc: { $world: 'world://artifacts/a', blake3: 'c'.repeat(64) } }, join(dir, 'artifacts')),
    ).rejects.toMatchObject({ code: 'ERR_INPUT_ARTIFACT_MISSING' });
    expect(await localArtifactInputs({ text: 'no refs' }, undefined)).toEqual({ text: 'no refs' });
  });
});
