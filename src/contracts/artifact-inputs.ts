// Artifact inputs (docs/architecture.md §6, issue 11 part 4): inputs may name world artifacts anywhere as
// `{"$world": "world://artifacts/…"}`. Admit resolves each to its content digest and the run is defined by
// the *bound* inputs, where every reference also carries the digest:
//
//   submitted  {"doc": {"$world": "/artifacts/a/b.txt"}}
//   bound      {"doc": {"$world": "world://artifacts/a/b.txt", "blake3": "<64 hex>"}}
//
// The inputs hash (and so the cache key) is taken over the bound form, so the same path with other bytes
// is another input; the container receives the bound form, the processor kit checks each file against its
// digest and hands the processor a local path. Pure and dependency-free: Admit, Execute, the kit and the
// CLI share it.
import { WorldloopError } from './errors';
import { jsonPointerOf } from './inputs-limits';

/** The member that makes an object an artifact reference; no other use of it is accepted in inputs. */
export const WORLD_REF_MEMBER = '$world';

export interface ArtifactRef {
  /** JSON pointer of the reference object in the inputs. */
  readonly pointer: string;
  /** The path as written (canonicalised by Admit). */
  readonly path: string;
  /** Bound form only. */
  readonly blake3?: string;
}

/** What Admit resolved, listed in the receipt (`input_artifacts`) and the attestation's dependencies. */
export interface InputArtifact {
  readonly pointer: string;
  readonly path: string;
  readonly blake3: string;
  readonly sha256: string;
  readonly size_bytes: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

type Form = 'submitted' | 'bound';

function refOf(value: Record<string, unknown>, pointer: string, form: Form): ArtifactRef {
  const keys = Object.keys(value).sort();
  const expected = form === 'submitted' ? [WORLD_REF_MEMBER] : [WORLD_REF_MEMBER, 'blake3'].sort();
  const path = value[WORLD_REF_MEMBER];
  const ok =
    keys.length === expected.length &&
    keys.every((k, i) => k === expected[i]) &&
    typeof path === 'string' &&
    (form === 'submitted' || HEX64.test(String(value.blake3)));
  if (!ok) {
    throw new WorldloopError(
      'ERR_INPUTS',
      `artifact reference at ${pointer || '(root)'} must be exactly ${form === 'submitted' ? '{"$world": "world://artifacts/…"}' : '{"$world": "…", "blake3": "<64 hex>"}'}`,
    );
  }
  return form === 'submitted'
    ? { pointer, path: path as string }
    : { pointer, path: path as string, blake3: value.blake3 as string };
}

/**
 * Every artifact reference in `inputs`, in document order. `form` says which shape is legal: what a caller
 * submits, or what Admit bound. Iterative, so hostile depth cannot overflow the stack.
 */
export function findArtifactRefs(inputs: unknown, form: Form): ArtifactRef[] {
  const out: ArtifactRef[] = [];
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: inputs, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    const entries: [string | number, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.keys(value).map((k) => [k, (value as Record<string, unknown>)[k]]);
    if (!Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, WORLD_REF_MEMBER)) {
      out.push(refOf(value as Record<string, unknown>, jsonPointerOf(path), form));
      continue;
    }
    for (let i = entries.length - 1; i >= 0; i--)
      stack.push({ value: entries[i]![1], path: [...path, entries[i]![0]] });
  }
  return out;
}

/** A copy of `inputs` with the reference at each pointer replaced by `replace(ref)`. */
export function replaceArtifactRefs(
  inputs: unknown,
  refs: readonly ArtifactRef[],
  replace: (ref: ArtifactRef) => unknown,
): unknown {
  const at = new Map(refs.map((r) => [r.pointer, r]));
  const copy = (value: unknown, path: (string | number)[]): unknown => {
    const ref = at.get(jsonPointerOf(path));
    if (ref) return replace(ref);
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map((v, i) => copy(v, [...path, i]));
    const out: Record<string, unknown> = {};
    // defineProperty keeps every member name data (ADR 0006), exactly as the strict reader does.
    for (const k of Object.keys(value))
      Object.defineProperty(out, k, {
        value: copy((value as Record<string, unknown>)[k], [...path, k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  };
  return copy(inputs, []);
}

/** The bound inputs: each submitted reference with its canonical path and BLAKE3 digest. */
export function bindArtifacts(inputs: unknown, bound: readonly InputArtifact[]): unknown {
  return replaceArtifactRefs(inputs, bound, (r) => ({
    [WORLD_REF_MEMBER]: r.path,
    blake3: (r as InputArtifact).blake3,
  }));
}

/** The submitted shape of bound inputs (digests dropped), which is what processor input schemas describe. */
export function unbindArtifacts(inputs: unknown): unknown {
  return replaceArtifactRefs(inputs, findArtifactRefs(inputs, 'bound'), (r) => ({ [WORLD_REF_MEMBER]: r.path }));
}
