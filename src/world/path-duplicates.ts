// Duplicate-after-canon (docs/architecture.md §4): one set of paths (a processor's outputs, an outputs index) may not
// name one file twice — neither by two spellings of one canonical path nor by two canonical paths that only
// a case-sensitive disk could tell apart.
import { WorldloopError } from '../contracts/errors';
import { canonicalPath } from './path';
import { foldKey } from './path-fold';

export interface DuplicatePaths {
  code: 'ERR_OUTPUT_DUPLICATE';
  /** The earlier input, as given. */
  first: string;
  /** The later input that collides with it, as given. */
  second: string;
  /** The canonical form of `first` (for a case-only collision, `second`'s canonical form differs in case). */
  canonical: string;
}

/**
 * The first pair of paths that collide after canonicalisation or case folding, or undefined. Each input is
 * canonicalised (either selector kind); an input that breaks the grammar throws its own code, since a set
 * with an invalid member cannot be judged.
 */
export function findDuplicate(paths: readonly string[]): DuplicatePaths | undefined {
  const seen = new Map<string, { raw: string; canonical: string }>();
  for (const raw of paths) {
    const canonical = canonicalPath(raw);
    const key = foldKey(canonical);
    const earlier = seen.get(key);
    if (earlier) return { code: 'ERR_OUTPUT_DUPLICATE', first: earlier.raw, second: raw, canonical: earlier.canonical };
    seen.set(key, { raw, canonical });
  }
  return undefined;
}

/** Throws ERR_OUTPUT_DUPLICATE naming both inputs when `findDuplicate` finds a pair. */
export function assertNoDuplicates(paths: readonly string[]): void {
  const dup = findDuplicate(paths);
  if (!dup) return;
  const secondCanonical = canonicalPath(dup.second);
  const how =
    secondCanonical === dup.canonical
      ? `both canonicalise to ${dup.canonical}`
      : `${dup.canonical} and ${secondCanonical} differ only in case (one file on a case-insensitive disk)`;
  throw new WorldloopError(
    'ERR_OUTPUT_DUPLICATE',
    `${JSON.stringify(dup.first)} and ${JSON.stringify(dup.second)} collide: ${how}`,
  );
}
