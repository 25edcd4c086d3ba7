// The Modal app naming rule (docs/architecture.md §8), a pure function so the adapter, the CLI and the deploy lane all
// compute the same name:
//
//   CI:     <ns>-<name>-v<major>
//   people: <user>-<branch>-<ns>-<name>-v<major>
//
// Rule 1. Each segment is lower-cased, every run of characters outside [a-z0-9] becomes one `-`, and leading
//         and trailing `-` are removed. A segment left empty is refused (ERR_MODAL_APP_NAME): a name with an
//         empty part would let `alice` + `` and `` + `alice` meet.
// Rule 2. The segments are joined with `-`. The result has no empty segment and no leading/trailing `-`.
// Rule 3. A name over 64 characters keeps its first 55 characters (without a trailing `-`) and gets `-` and
//         the first 8 hex digits of BLAKE3 over the whole untruncated name: deterministic, and two long names
//         that share their first 55 characters still differ.
//
// Rule 1 is lossy on purpose (`Feature/X` and `feature-x` are the same branch to a person); distinctness is
// promised for distinct names after Rule 2.
import { blake3Hex } from '../../hashing/index';
import { WorldloopError } from '../../contracts/errors';
import { parseProcessorRef } from '../../contracts/schemas';

export const MODAL_APP_NAME_MAX = 64;
const HASH_CHARS = 8;
const KEPT_CHARS = MODAL_APP_NAME_MAX - HASH_CHARS - 1;

/** Who the app is for: the CI lane, or one person on one branch. */
export type AppOwner = { readonly ci: true } | { readonly ci: false; readonly user: string; readonly branch: string };

/** Rule 1: lower-case, [a-z0-9] runs joined by single `-`; '' when nothing usable is left. */
export function sanitiseSegment(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function segment(label: string, raw: string): string {
  const clean = sanitiseSegment(raw);
  if (clean === '') {
    throw new WorldloopError(
      'ERR_MODAL_APP_NAME',
      `${label} ${JSON.stringify(raw.slice(0, 100))} has no letter or digit left after lower-casing`,
    );
  }
  return clean;
}

/** The untruncated name of Rules 1–2. */
export function fullAppName(processorRef: string, owner: AppOwner): string {
  const ref = parseProcessorRef(processorRef);
  if (!ref) {
    throw new WorldloopError(
      'ERR_MODAL_APP_NAME',
      `${JSON.stringify(processorRef.slice(0, 100))} is not a processor ref (expected ns/name@major, e.g. text/stats@1)`,
    );
  }
  const tail = [segment('namespace', ref.ns), segment('name', ref.name), `v${ref.major}`];
  const head = owner.ci ? [] : [segment('user', owner.user), segment('branch', owner.branch)];
  return [...head, ...tail].join('-');
}

/** The Modal app name for `processorRef` owned by `owner` (Rules 1–3). */
export function modalAppName(processorRef: string, owner: AppOwner): string {
  const full = fullAppName(processorRef, owner);
  if (full.length <= MODAL_APP_NAME_MAX) return full;
  const kept = full.slice(0, KEPT_CHARS).replace(/-+$/, '');
  return `${kept}-${blake3Hex(full).slice(0, HASH_CHARS)}`;
}
