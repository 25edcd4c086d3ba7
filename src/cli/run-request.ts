// Completes a run draft (src/cli/run-draft.ts) into a validated RunRequest: the inputs parsed strictly and within
// the shared limits, the request schema, the write prefix's grammar. Nothing here has side effects, so it runs
// wherever the draft goes: in the resident worker for a run through its socket, else in the CLI, before anything
// is created. The first failing check is the coded error the user sees, the same in both places.
import { WorldloopError } from '../contracts/errors';
import { BIG_DATA_HINT, MAX_INPUTS_TEXT_BYTES } from '../contracts/inputs-limits';
import { RunRequestSchema, type RunRequest } from '../contracts/schemas';
import { defaultWritePrefix, expandWritePrefix } from '../contracts/write-prefix';
import { firstIssue } from '../contracts/zod-issue';
import { inputsHash } from '../hashing/inputs-hash';
import { parseJsonBytes } from '../hashing/json-text';
import { canonicalPath } from '../world/path';
import { tooBigInputs, type RunDraft } from './run-draft';

/** Strict JSON (no duplicate names), within the inputs limits, hashable. */
function parseInputs(bytes: Uint8Array): unknown {
  if (bytes.length > MAX_INPUTS_TEXT_BYTES) throw tooBigInputs('--inputs');
  let inputs: unknown;
  try {
    inputs = parseJsonBytes(bytes);
  } catch (err) {
    // The parser refuses excessive nesting itself (same MAX_INPUTS_DEPTH); say what to do instead.
    if (err instanceof WorldloopError && err.detail.includes('nesting deeper'))
      throw new WorldloopError(err.code, `${err.detail}; ${BIG_DATA_HINT}`);
    throw err;
  }
  // The inputs hash applies the shared limits (depth, size, no `__proto__`) and refuses what is not
  // I-JSON — the very checks Admit's hash makes, here before anything is created.
  inputsHash(inputs);
  return inputs;
}

/** Validates a draft entirely before any workflow exists, so bad input never starts one. */
export function completeRunRequest(draft: RunDraft): RunRequest {
  const ref = draft.processor_ref;
  const candidate = {
    processor_ref: ref,
    inputs: parseInputs(Buffer.from(draft.inputs_base64, 'base64')),
    mode: draft.mode,
    plan: draft.plan,
    write_prefix: draft.write_prefix ?? (/^[a-z0-9-]+\/[a-z0-9-]+@\d+$/.test(ref) ? defaultWritePrefix(ref) : ''),
    adapter: draft.adapter,
    ...(draft.cache ? {} : { cache: false }),
  };
  const parsed = RunRequestSchema.safeParse(candidate);
  if (!parsed.success) {
    const { where: field = 'request', message } = firstIssue(parsed.error, 'request');
    const code =
      field === 'processor_ref' ? 'ERR_UNKNOWN_PROCESSOR' : field === 'mode' ? 'ERR_MODE_INVALID' : 'ERR_INPUTS';
    throw new WorldloopError(code, `${field}: ${message}`);
  }
  // Validate the prefix grammar now with a stand-in id; Admit checks it again with the real one.
  canonicalPath(expandWritePrefix(parsed.data.write_prefix, '00000000-0000-7000-8000-000000000000'), 'prefix');
  return parsed.data;
}
