// The one way a failed zod parse becomes a coded error: the first issue, located by its dotted path. zod's
// messages name the expectation, not the received value, so they are safe to show (no secret or input
// value leaks into the message).
import type { z } from 'zod';
import { WorldloopError, type ErrorCode } from './errors';

export interface IssueSummary {
  /**
   * Dotted path of the offending field (`runtime.cpu`); for an issue with the whole value, the `root` label
   * given, else undefined.
   */
  readonly where: string | undefined;
  readonly message: string;
}

/** The first issue of a zod error as "where" and "what". */
export function firstIssue(error: z.core.$ZodError, root?: string): IssueSummary {
  const issue = error.issues[0];
  if (!issue) return { where: root, message: 'invalid' };
  return { where: issue.path.length > 0 ? issue.path.map(String).join('.') : root, message: issue.message };
}

/**
 * A WorldloopError for the first issue, its detail `<context>: <where>: <message>`; the parts that are not
 * there (no context; an issue at the top level without a `root` label) are left out.
 */
export function zodIssueError(
  code: ErrorCode,
  error: z.core.$ZodError,
  options: { readonly context?: string; readonly root?: string } = {},
): WorldloopError {
  const { where, message } = firstIssue(error, options.root);
  const parts = [options.context, where, message].filter((part): part is string => part !== undefined && part !== '');
  return new WorldloopError(code, parts.join(': '));
}
