// inputs_hash (DESIGN.md §5): BLAKE3 over the UTF-8 bytes of the JCS form of the processor `inputs`
// object exactly as submitted — no mode, no ids, no defaults filled in.
import { WorldloopError } from '../contracts/errors';
import type { InputsHash } from '../contracts/schemas';
import { blake3Hex } from './blake3';
import { canonicalizeToBytes } from './jcs';

export const HASH_SCHEMA = 'jcs-blake3-v1' as const;

export function inputsHash(inputs: unknown): InputsHash {
  const isObject = typeof inputs === 'object' && inputs !== null && !Array.isArray(inputs);
  if (!isObject) {
    const got = inputs === null ? 'null' : Array.isArray(inputs) ? 'an array' : typeof inputs;
    throw new WorldloopError('ERR_INPUTS', `inputs must be a JSON object, got ${got}`);
  }
  return { hash_schema: HASH_SCHEMA, value: blake3Hex(canonicalizeToBytes(inputs)) };
}
