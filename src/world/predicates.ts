// Predicates are evaluated for real against the world store (docs/architecture.md §2): admission ones before a run,
// success ones against what the run landed. Each failure says what was expected and what was observed.
import type { ErrorObject, ValidateFunction } from 'ajv';
import { assertNever, type Predicate } from '../contracts';
import { predicateValidatorFor } from './json-schema';
import { canonicalPath, joinWorldPath } from './path';
import type { WorldStore } from './world-store';

export interface PredicateContext {
  /** The run's canonical write prefix; relative predicate paths resolve under it. */
  write_prefix: string;
  /** The run's landed outputs (canonical world paths); used by outputs.count_between. */
  outputs: readonly string[];
}

export interface PredicateFailure {
  predicate: Predicate;
  observed: string;
}

type WorldReader = Pick<WorldStore, 'stat' | 'readBytes'>;

export function resolvePredicatePath(path: string, writePrefix: string): string {
  return path.startsWith('world://') || path.startsWith('/')
    ? canonicalPath(path, 'exact')
    : joinWorldPath(writePrefix, path);
}

/** RFC 6901: `/a/b~1c/0`. Returns `undefined` when the pointer does not resolve. */
export function resolvePointer(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === '') return { found: true, value: doc };
  let current: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(current) && /^(0|[1-9][0-9]*)$/.test(token) && Number(token) < current.length) {
      current = current[Number(token)];
    } else if (
      current !== null &&
      typeof current === 'object' &&
      !Array.isArray(current) &&
      Object.hasOwn(current, token)
    ) {
      current = (current as Record<string, unknown>)[token];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: current };
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every(
      (k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}

async function readJson(
  world: WorldReader,
  path: string,
): Promise<{ ok: true; value: unknown } | { ok: false; why: string }> {
  const entry = await world.stat(path);
  if (!entry) return { ok: false, why: `${path} does not exist` };
  if (entry.size_bytes > MAX_PREDICATE_DOC_BYTES) {
    return {
      ok: false,
      why: `${path} is ${entry.size_bytes} bytes, above the ${MAX_PREDICATE_DOC_BYTES} a predicate reads`,
    };
  }
  const bytes = await world.readBytes(path);
  try {
    return { ok: true, value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) };
  } catch {
    return { ok: false, why: `${path} is not JSON` };
  }
}

/** A document a predicate reads is parsed whole; bigger ones are reported, not read (issue 14 item 9). */
export const MAX_PREDICATE_DOC_BYTES = 16 * 2 ** 20;

/** Evaluates every predicate; returns the failures (empty when all hold). */
export async function evaluatePredicates(
  world: WorldReader,
  predicates: readonly Predicate[],
  ctx: PredicateContext,
): Promise<PredicateFailure[]> {
  const failures: PredicateFailure[] = [];
  for (const predicate of predicates) {
    const observed = await evaluateOne(world, predicate, ctx);
    if (observed !== undefined) failures.push({ predicate, observed });
  }
  return failures;
}

/** Returns undefined when the predicate holds, else a description of what was observed. */
async function evaluateOne(world: WorldReader, p: Predicate, ctx: PredicateContext): Promise<string | undefined> {
  switch (p.kind) {
    case 'artifact.exists': {
      const path = resolvePredicatePath(p.path, ctx.write_prefix);
      return (await world.stat(path)) ? undefined : `${path} does not exist`;
    }
    case 'file.size_lte': {
      const path = resolvePredicatePath(p.path, ctx.write_prefix);
      const entry = await world.stat(path);
      if (!entry) return `${path} does not exist`;
      return entry.size_bytes <= p.bytes ? undefined : `${path} is ${entry.size_bytes} bytes, limit ${p.bytes}`;
    }
    case 'json.schema_ok': {
      const path = resolvePredicatePath(p.path, ctx.write_prefix);
      const doc = await readJson(world, path);
      if (!doc.ok) return doc.why;
      let validate: ValidateFunction;
      try {
        validate = predicateValidatorFor(p.schema);
      } catch (err) {
        return `the schema does not compile: ${err instanceof Error ? err.message : String(err)}`;
      }
      return validate(doc.value) ? undefined : `${path}: ${errorsText(validate.errors)}`;
    }
    case 'json.path_equals': {
      const path = resolvePredicatePath(p.path, ctx.write_prefix);
      const doc = await readJson(world, path);
      if (!doc.ok) return doc.why;
      const found = resolvePointer(doc.value, p.pointer);
      if (!found.found) return `${path}#${p.pointer} does not exist`;
      return deepEqual(found.value, p.value)
        ? undefined
        : `${path}#${p.pointer} is ${JSON.stringify(found.value)}, expected ${JSON.stringify(p.value)}`;
    }
    case 'outputs.count_between': {
      const n = ctx.outputs.length;
      return n >= p.min && n <= p.max ? undefined : `${n} outputs, expected between ${p.min} and ${p.max}`;
    }
    default:
      return assertNever(p);
  }
}

/** Ajv's errorsText without an Ajv instance: `/a must be integer, /b must …`. */
function errorsText(errors: readonly ErrorObject[] | null | undefined): string {
  if (!errors?.length) return 'No errors';
  return errors.map((e) => `data${e.instancePath} ${e.message ?? 'is invalid'}`).join(', ');
}

export function describeFailures(failures: readonly PredicateFailure[]): string {
  return failures.map((f) => `${f.predicate.kind}: ${f.observed}`).join('; ');
}
