// cache_key (docs/architecture.md §5): BLAKE3 over the JCS form of exactly these fields plus hash_schema. Every
// field is required and nothing else is allowed: a field that silently did not take part in the key
// would let two different runs share one cached result.
import { z } from 'zod';
import { zodIssueError } from '../contracts/zod-issue';
import { InputsHashSchema, ModeSchema } from '../contracts/schemas';
import { blake3Hex } from './blake3';
import { HASH_SCHEMA } from './inputs-hash';
import { canonicalizeToBytes } from './jcs';

export const CacheKeyFieldsSchema = z.strictObject({
  processor_ref: z.string().min(1),
  image_digest: z.string().min(1),
  platform: z.string().min(1),
  inputs_hash: InputsHashSchema,
  mode: ModeSchema,
  env_fingerprint: z.string().min(1),
  salt: z.string(),
});
export type CacheKeyFields = z.infer<typeof CacheKeyFieldsSchema>;

export function cacheKey(fields: CacheKeyFields): string {
  const parsed = CacheKeyFieldsSchema.safeParse(fields);
  if (!parsed.success) {
    throw zodIssueError('ERR_INPUTS', parsed.error, { context: 'cache key fields', root: '(root)' });
  }
  return blake3Hex(canonicalizeToBytes({ hash_schema: HASH_SCHEMA, ...parsed.data }));
}
