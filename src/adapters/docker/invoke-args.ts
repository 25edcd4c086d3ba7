// The adapter's arguments, checked at the boundary: an unpinned image gets its own code, anything else
// that does not match the contract is ERR_USAGE naming the field.
import { WorldloopError } from '../../contracts/errors';
import { InvokeArgsSchema, type InvokeArgs } from '../adapter';
import { parsePinnedImage } from './image-ref';

export function parseInvokeArgs(raw: unknown): InvokeArgs {
  if (raw !== null && typeof raw === 'object' && 'image' in raw && typeof raw.image === 'string') {
    parsePinnedImage(raw.image);
  }
  const parsed = InvokeArgsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : '(arguments)';
    throw new WorldloopError('ERR_USAGE', `adapter invoke: ${where}: ${issue.message}`);
  }
  return parsed.data;
}
