// The one builder of error envelopes (docs/architecture.md §6), used by the workflow, the adapters and the client, so
// an error envelope has the same shape wherever a run stops. Pure: safe in workflow code.
import { parseCodedMessage, type ErrorCode } from './errors';
import type { AdapterName, EnvelopeMeta, ErrorEnvelope, Mode } from './schemas';

/**
 * The meta of a run that stopped before anything ran or was charged: zero duration and cost, and empty
 * fingerprint/digest until Admit has computed them.
 */
export function unstartedMeta(fields: {
  readonly adapter: AdapterName;
  readonly mode: Mode;
  readonly env_fingerprint?: string | undefined;
  readonly image_digest?: string | undefined;
  readonly cache_hit?: boolean | undefined;
}): EnvelopeMeta {
  return {
    env_fingerprint: fields.env_fingerprint ?? '',
    image_digest: fields.image_digest ?? '',
    adapter: fields.adapter,
    mode: fields.mode,
    duration_ms: 0,
    cache_hit: fields.cache_hit ?? false,
    cost_micro: 0,
  };
}

/**
 * `{status:"error", execution_id, error:{code, message}, meta}`. The envelope's message is the detail only:
 * a leading `[ERR_…]` prefix is removed, because the code already travels in `error.code`.
 */
export function errorEnvelope(
  execution_id: string,
  code: ErrorCode,
  message: string,
  meta: EnvelopeMeta,
): ErrorEnvelope {
  return { status: 'error', execution_id, error: { code, message: parseCodedMessage(message).detail }, meta };
}
