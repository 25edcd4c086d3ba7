// inputs_hash (docs/architecture.md §5): BLAKE3 over the UTF-8 bytes of the JCS form of the processor `inputs`
// object exactly as submitted — no mode, no ids, no defaults filled in.
import { checkInputsLimits } from '../contracts/inputs-limits';
import type { InputsHash } from '../contracts/schemas';
import { blake3Hex } from './blake3';
import { canonicalizeToBytes } from './jcs';

export const HASH_SCHEMA = 'jcs-blake3-v1' as const;

export function inputsHash(inputs: unknown): InputsHash {
  // The same limits the CLI checks before it starts anything, so Admit and the processor kit (both hash
  // through here) refuse exactly what the CLI refuses — among them a `__proto__` member (ADR 0006).
  checkInputsLimits(inputs);
  return { hash_schema: HASH_SCHEMA, value: blake3Hex(canonicalizeToBytes(inputs)) };
}
