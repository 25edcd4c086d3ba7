// Builds the worker's one ModalClient from config (issue 8). Credentials are resolved first, without any
// network call, so "no credentials" is ERR_ADAPTER_AUTH before anything is dialled; they are passed to the
// SDK explicitly and kept nowhere else.
//
// The SDK (0.11.1) takes the server address only from MODAL_SERVER_URL or the profile's server_url (its
// `endpoint` parameter is accepted but unused), so src/config.ts reads MODAL_SERVER_URL for reporting and
// the SDK reads the same variable itself.
import { ModalClient } from 'modal';
import type { Config } from '../../config';
import { resolveModalCredentials, type ModalCredentials } from './credentials';

export interface ModalClientHandle {
  readonly client: ModalClient;
  /** Where the credentials came from (never their values). */
  readonly credentialSource: ModalCredentials['source'];
}

export function createModalClient(cfg: Config['modal'], read?: (path: string) => string): ModalClientHandle {
  const creds = resolveModalCredentials(cfg, read);
  const client = new ModalClient({
    tokenId: creds.tokenId,
    tokenSecret: creds.tokenSecret,
    ...(cfg.environment !== undefined ? { environment: cfg.environment } : {}),
    // The SDK's own retries stay on; each call is still bounded by withDeadline in the adapter.
    logLevel: 'warn',
  });
  return { client, credentialSource: creds.source };
}
