// Issue 14 items 4 and 5: schema regexes run in linear time on the worker, and predicate schemas are
// compiled per distinct schema in isolated Ajv instances with a bounded cache.
import { afterEach, describe, expect, it } from 'vitest';
import type { Predicate } from '../../src/contracts';
import { compileInputsSchema } from '../../src/contracts/inputs-schema';
import { LocalObjectStore, WorldStore } from '../../src/world';
import { linearRegExp } from '../../src/contracts/linear-regexp';
import { SchemaCache, predicateCacheSize } from '../../src/world/json-schema';
import { MAX_PREDICATE_DOC_BYTES, evaluatePredicates } from '../../src/world/predicates';
import { expectCode } from './helpers/expect-code';
import { admit, failureCode, phaseEnv, registryEntry, request, text, type PhaseEnv } from './phase-harness';

const EVIL = '^(a+)+$';
const ATTACK = `${'a'.repeat(28)}!`; // 12.6 s with V8's backtracking engine (issue 14)

let env: PhaseEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

async function worldWith(doc: unknown): Promise<{ world: WorldStore; prefix: string }> {
  env = await phaseEnv();
  const world = new WorldStore(new LocalObjectStore(`${env.dir}/w`));
  const bytes = text(JSON.stringify(doc));
  const blob = await world.putBlob(bytes);
  const prefix = 'world://artifacts/t/';
  await world.bind(`${prefix}doc.json`, { ...blob, mime: 'application/json', execution_id: 'x' });
  return { world, prefix };
}

const schemaOk = (schema: Record<string, unknown>): Predicate => ({ kind: 'json.schema_ok', path: 'doc.json', schema });

describe('linear-time schema regexes', () => {
  it('Admit refuses ^(a+)+$ against 28 a and ! in milliseconds, with ERR_INPUTS', async () => {
    const entry = registryEntry({
      inputs: { type: 'object', required: ['text'], properties: { text: { type: 'string', pattern: EVIL } } },
    });
    env = await phaseEnv({ entry });
    // Warm up (schema compiled, plan read) so the timer measures the match alone.
    expect((await admit(env, 'e2', request({ inputs: { text: 'aaaa' } }))).inputs_hash.value).toMatch(/^[0-9a-f]{64}$/);
    const started = performance.now();
    expect(await failureCode(admit(env, 'e1', request({ inputs: { text: ATTACK } })))).toBe('ERR_INPUTS');
    // V8's engine needs seconds (1.8 s at 26 a, doubling per a); RE2 needs well under a millisecond.
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a json.schema_ok predicate with ^(a+)+$ fails in milliseconds', async () => {
    const { world, prefix } = await worldWith({ s: ATTACK });
    const started = performance.now();
    const failures = await evaluatePredicates(
      world,
      [schemaOk({ type: 'object', properties: { s: { type: 'string', pattern: EVIL } } })],
      { write_prefix: prefix, outputs: [] },
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.observed).toMatch(/must match pattern/);
  });

  it('patternProperties use the same engine', () => {
    const validate = compileInputsSchema(
      { type: 'object', patternProperties: { [EVIL]: { type: 'string' } }, additionalProperties: false },
      'inputs',
      { regExp: linearRegExp },
    );
    const started = performance.now();
    expectCode('ERR_INPUTS', () => validate({ [ATTACK]: 'x' }));
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('a pattern RE2 cannot run in linear time (backreference, lookahead) is refused when the registry loads', () => {
    for (const pattern of ['^(a)\\1$', '^(?=a)a$']) {
      const schema = { type: 'object', properties: { s: { type: 'string', pattern } } };
      expect(
        expectCode('ERR_REGISTRY_INVALID', () => compileInputsSchema(schema, 'inputs', { regExp: linearRegExp })),
      ).toMatch(/not a valid JSON Schema/);
    }
  });

  it('keeps the regex semantics schemas rely on (anchors, classes, Unicode)', () => {
    const validate = compileInputsSchema(
      {
        type: 'object',
        properties: { h: { type: 'string', pattern: '^[0-9a-f]{64}$' }, w: { type: 'string', pattern: '^\\p{L}+$' } },
      },
      'inputs',
      { regExp: linearRegExp },
    );
    validate({ h: 'a'.repeat(64), w: 'héllo' });
    expectCode('ERR_INPUTS', () => validate({ h: 'A'.repeat(64) }));
    expectCode('ERR_INPUTS', () => validate({ w: 'héllo1' }));
  });
});

describe('predicate schemas: compiled once, isolated', () => {
  it('a schema with $id evaluates twice (the shared Ajv said "already exists" the second time)', async () => {
    const { world, prefix } = await worldWith({ n: 1 });
    const p = schemaOk({ $id: 'urn:worldloop:test:twice', type: 'object', required: ['n'] });
    for (let i = 0; i < 2; i++) {
      // A fresh, equal object each time, as every activity input is after Temporal deserialises it.
      const fresh = structuredClone(p);
      expect(await evaluatePredicates(world, [fresh], { write_prefix: prefix, outputs: [] })).toEqual([]);
    }
  });

  it("a request's schema cannot register an $id that another schema's $ref then resolves to", async () => {
    const { world, prefix } = await worldWith({ n: 'not a number' });
    const ctx = { write_prefix: prefix, outputs: [] };
    // The "attacker" registers urn:shadow as a schema that accepts anything …
    await evaluatePredicates(world, [schemaOk({ $id: 'urn:shadow', type: 'object' })], ctx);
    // … a later schema referring to urn:shadow must not resolve it to that: it does not compile alone.
    const failures = await evaluatePredicates(world, [schemaOk({ $ref: 'urn:shadow' })], ctx);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.observed).toMatch(/does not compile/);
  });

  it('evaluating the same schema 50 times compiles it once (the cache does not grow per evaluation)', async () => {
    const { world, prefix } = await worldWith({ n: 1 });
    const p = schemaOk({ type: 'object', properties: { n: { type: 'integer', minimum: 0 } }, title: 'growth probe' });
    await evaluatePredicates(world, [p], { write_prefix: prefix, outputs: [] });
    const size = predicateCacheSize();
    for (let i = 0; i < 50; i++) {
      await evaluatePredicates(world, [structuredClone(p)], { write_prefix: prefix, outputs: [] });
    }
    expect(predicateCacheSize()).toBe(size);
  });

  it('the cache is bounded: least recently used schemas are evicted', () => {
    const cache = new SchemaCache<number>(3);
    for (let i = 0; i < 10; i++) cache.getOrCreate({ i }, () => i);
    expect(cache.size).toBe(3);
    let created = 0;
    expect(cache.getOrCreate({ i: 9 }, () => ++created)).toBe(9);
    expect(created).toBe(0);
  });

  it('a document over the predicate read bound is reported, not read', async () => {
    env = await phaseEnv();
    const entry = {
      path: 'world://artifacts/t/doc.json',
      blake3: 'a'.repeat(64),
      sha256: 'b'.repeat(64),
      size_bytes: MAX_PREDICATE_DOC_BYTES + 1,
      mime: 'application/json',
      execution_id: 'x',
      written_at: '',
    };
    let reads = 0;
    const world = {
      stat: async () => entry,
      readBytes: async () => {
        reads += 1;
        return new Uint8Array();
      },
    };
    const failures = await evaluatePredicates(world, [schemaOk({ type: 'object' })], {
      write_prefix: 'world://artifacts/t/',
      outputs: [],
    });
    expect(failures[0]!.observed).toMatch(/above the .* a predicate reads/);
    expect(reads).toBe(0);
  });
});
