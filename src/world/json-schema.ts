// JSON Schema on the worker (issue 14 items 4 and 5). Two hazards of the obvious "one module-level Ajv":
//  - `pattern`/`patternProperties` ran on V8's backtracking engine, on the worker's event loop: `^(a+)+$`
//    against 28 `a`s and `!` took 12.6 s. Every schema here compiles its regexes with RE2
//    (src/contracts/linear-regexp.ts), in time linear in the input.
//  - One shared instance keeps every compiled schema forever: a schema with `$id` fails "already exists" on
//    its second evaluation, one request can register an `$id` that another's `$ref` then resolves to, and
//    each evaluation leaks. Here every distinct schema gets its own Ajv instance (nothing is shared between
//    schemas), compiled once and cached by the BLAKE3 of its canonical JSON, in a bounded LRU.
import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { linearRegExp } from '../contracts/linear-regexp';
import { blake3Hex, canonicalizeToBytes } from '../hashing';

/** Enough for every processor version of a registry and the predicate schemas in flight. */
export const SCHEMA_CACHE_LIMIT = 256;

/** Compiled things keyed by the BLAKE3 of a schema's canonical JSON, least recently used evicted first. */
export class SchemaCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly limit = SCHEMA_CACHE_LIMIT) {}

  get size(): number {
    return this.entries.size;
  }

  getOrCreate(schema: unknown, create: () => V): V {
    const key = blake3Hex(canonicalizeToBytes(schema));
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key); // re-insert: Map order is the recency order
      this.entries.set(key, hit);
      return hit;
    }
    const value = create(); // a schema that does not compile throws here and is not cached
    this.entries.set(key, value);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}

const predicateValidators = new SchemaCache<ValidateFunction>();

/**
 * A `json.schema_ok` predicate's schema (from the registry or from a request), compiled in an Ajv of its
 * own: its `$id`s are visible to nobody else, and evaluating it again re-uses the compiled function.
 * Throws what Ajv throws when the schema does not compile.
 */
export function predicateValidatorFor(schema: Record<string, unknown>): ValidateFunction {
  return predicateValidators.getOrCreate(schema, () =>
    new Ajv2020({ allErrors: true, strict: false, code: { regExp: linearRegExp } }).compile(schema),
  );
}

/** How many compiled predicate schemas are held (tests: evaluation must not grow it). */
export function predicateCacheSize(): number {
  return predicateValidators.size;
}
