// The adapter's arguments, checked at the boundary: an unpinned image gets its own code, anything else
// that does not match the contract is ERR_USAGE naming the field, and secrets in mock mode are refused.
import { WorldloopError } from '../../contracts/errors';
import { InvokeArgsSchema, type InvokeArgs } from '../adapter';
import { parsePinnedImageRef } from '../../oci/image-ref';
import { zodIssueError } from '../../contracts/zod-issue';

export function parseInvokeArgs(raw: unknown): InvokeArgs {
  if (raw !== null && typeof raw === 'object' && 'image' in raw && typeof raw.image === 'string') {
    parsePinnedImageRef(raw.image);
  }
  const parsed = InvokeArgsSchema.safeParse(raw);
  if (!parsed.success) {
    throw zodIssueError('ERR_USAGE', parsed.error, { context: 'adapter invoke', root: '(arguments)' });
  }
  const secrets = Object.keys(parsed.data.secrets).sort();
  if (parsed.data.mode === 'mock' && secrets.length > 0) {
    throw new WorldloopError(
      'ERR_SECRET_NOT_ALLOWED',
      `mock mode never receives secrets, but ${secrets.join(', ')} were passed`,
    );
  }
  return parsed.data;
}
