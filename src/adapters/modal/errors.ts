// From what the Modal SDK throws to catalogue codes (issue 8), as a pure function so every mapping is
// unit-tested without a server, and a deadline around every SDK call (calls that never settle are a known
// problem of the SDK: a run must fail with a code, not hang an activity until its own timeout).
//
// The SDK surfaces gRPC failures as nice-grpc ClientErrors (a numeric `code` and the method `path`) and a
// few conditions as its own classes; the stage says which step of a run failed, because the same status
// means different things there (NOT_FOUND while building an image is a pull failure; elsewhere it is a bug).
import { NotFoundError, ResourceExhaustedError } from 'modal';
import { WorldloopError, type ErrorCode } from '../../contracts/errors';

/** The steps of a Modal run, in order. */
export type ModalStage = 'auth' | 'app' | 'image' | 'secret' | 'sandbox' | 'exec' | 'output' | 'terminate';

/** gRPC status codes (grpc/status.proto) the mapping distinguishes. */
export const GRPC = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const MAX_DETAIL = 300;

/** The gRPC status of a nice-grpc ClientError (it has a `path` like `/modal.client.ModalClient/…`). */
export function grpcStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, path } = err as { code?: unknown; path?: unknown };
  return typeof code === 'number' && typeof path === 'string' ? code : undefined;
}

/** Which catalogue code a failure of `stage` means. */
export function modalErrorCode(err: unknown, stage: ModalStage): ErrorCode {
  if (err instanceof WorldloopError) return err.code;
  if (err instanceof ResourceExhaustedError) return 'ERR_ADAPTER_QUOTA';
  const status = grpcStatusOf(err);
  // A processor secret Modal does not hold under that name: the same refusal as a missing local secret.
  if (stage === 'secret' && (err instanceof NotFoundError || status === GRPC.NOT_FOUND)) return 'ERR_MISSING_SECRET';
  switch (status) {
    case GRPC.UNAUTHENTICATED:
    case GRPC.PERMISSION_DENIED:
      return 'ERR_ADAPTER_AUTH';
    case GRPC.RESOURCE_EXHAUSTED:
      return 'ERR_ADAPTER_QUOTA';
    case GRPC.UNAVAILABLE:
    case GRPC.DEADLINE_EXCEEDED:
    case GRPC.CANCELLED:
      return 'ERR_ADAPTER_UNAVAILABLE';
    default:
      break;
  }
  // The SDK reports a failed image build as a plain Error("Image build for im-… failed …").
  if (stage === 'image') return 'ERR_IMAGE_PULL';
  return 'ERR_INTERNAL';
}

/** A coded error for `err` at `stage`; the detail names the stage and the server's words, bounded. */
export function toModalError(err: unknown, stage: ModalStage): WorldloopError {
  if (err instanceof WorldloopError) return err;
  const code = modalErrorCode(err, stage);
  const raw = err instanceof Error ? err.message : String(err);
  const detail = raw.length > MAX_DETAIL ? `${raw.slice(0, MAX_DETAIL)}…` : raw;
  return new WorldloopError(code, `Modal ${stage}: ${detail}`);
}

/**
 * Runs one SDK call under a deadline. On expiry the call is abandoned (its late result or error is
 * swallowed) and ERR_ADAPTER_UNAVAILABLE is thrown; any failure is mapped by toModalError.
 */
export async function withDeadline<T>(stage: ModalStage, ms: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const pending = call();
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WorldloopError('ERR_ADAPTER_UNAVAILABLE', `Modal ${stage}: no answer within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([pending, expired]);
  } catch (err) {
    pending.catch(() => undefined);
    throw toModalError(err, stage);
  } finally {
    clearTimeout(timer);
  }
}
