// What the integration global setup found or started, handed to tests through vitest's provide/inject.
// Import `integrationEnv()` in a test instead of re-discovering servers.
import { inject } from 'vitest';

export interface IntegrationEnv {
  /** host:port of the Temporal frontend (the embedded dev server unless TEMPORAL_ADDRESS is set). */
  readonly temporalAddress: string;
  readonly namespace: string;
  /** Web UI base URL, e.g. http://127.0.0.1:8233 */
  readonly uiUrl: string;
  readonly embedded: boolean;
  /** pid of the dev server worldloop manages; 0 when it runs but was not started by worldloop. */
  readonly devServerPid: number;
  /** Base URL of the loopback OCI registry, e.g. http://127.0.0.1:5000 */
  readonly registryUrl: string;
  /** host:port form of the registry for image references, e.g. 127.0.0.1:5000 */
  readonly registryHost: string;
  readonly dockerVersion: string;
  readonly stateDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    worldloopIntegration: IntegrationEnv;
  }
}

export function integrationEnv(): IntegrationEnv {
  const env = inject('worldloopIntegration');
  if (!env) throw new Error('integrationEnv() used outside the integration project (no global setup ran)');
  return env;
}
