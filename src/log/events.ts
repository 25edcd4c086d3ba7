// Lifecycle events of docs/architecture.md §9; each is logged exactly once per run, under the `event` field, so a
// run's story can be read with one filter. Failures are logged at error level, everything else at info.
import { assertNever } from '../contracts/errors';
import type { Logger } from './logger';

export const LIFECYCLE_EVENTS = [
  'execution.start',
  'execution.settle',
  'execution.fail',
  'adapter.invoke',
  'adapter.complete',
  'provider.call',
  'provider.response',
  'storage.write',
  'storage.error',
] as const;

export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

export function isLifecycleEvent(value: unknown): value is LifecycleEvent {
  return typeof value === 'string' && (LIFECYCLE_EVENTS as readonly string[]).includes(value);
}

function levelOf(event: LifecycleEvent): 'info' | 'error' {
  switch (event) {
    case 'execution.fail':
    case 'storage.error':
      return 'error';
    case 'execution.start':
    case 'execution.settle':
    case 'adapter.invoke':
    case 'adapter.complete':
    case 'provider.call':
    case 'provider.response':
    case 'storage.write':
      return 'info';
    default:
      return assertNever(event);
  }
}

/**
 * Writes one lifecycle record. Callers pass identifiers, sizes, digests and codes — never raw inputs,
 * outputs or secrets (docs/architecture.md §9); the redactor is the safety net, not the policy.
 */
export function logEvent(
  logger: Logger,
  event: LifecycleEvent,
  fields: Readonly<Record<string, unknown>> = {},
  message: string = event,
): void {
  logger[levelOf(event)]({ ...fields, event }, message);
}
