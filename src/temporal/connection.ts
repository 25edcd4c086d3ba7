// Temporal connections from config: a configured cluster (TEMPORAL_ADDRESS, namespace, TLS, API key), or —
// with no address — the embedded dev server, started on first use. Only bootstrap code (CLI, worker)
// calls these; activities receive the clients they build.
import { readFile } from 'node:fs/promises';
import { Connection, type TLSConfig } from '@temporalio/client';
// Type only: the worker SDK (its native core) costs a second to load, and only workers need it.
import type { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';
import { WorldloopError } from '../contracts/errors';
import { devServerUiUrl, ensureDevServer } from './dev-server';

const CONNECT_TIMEOUT_MS = 10_000;

export interface TemporalTarget {
  readonly address: string;
  readonly namespace: string;
  readonly uiUrl: string;
  /** True when this is the dev server worldloop manages. */
  readonly embedded: boolean;
  readonly tls: TLSConfig | boolean | undefined;
  readonly apiKey: string | undefined;
}

/** A connection (client or worker) and the target it reaches. */
export interface ConnectedTarget<C> {
  readonly connection: C;
  readonly address: string;
  readonly namespace: string;
  readonly uiUrl: string;
  readonly embedded: boolean;
}

export type TemporalConnection = ConnectedTarget<Connection>;

async function readTlsFile(path: string | undefined, what: string): Promise<Buffer | undefined> {
  if (!path) return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    throw new WorldloopError(
      'ERR_CONFIG_INVALID',
      `cannot read the TLS ${what} file ${path}: ${(err as Error).message}`,
    );
  }
}

async function tlsFromConfig(cfg: Config): Promise<TLSConfig | boolean | undefined> {
  const files = cfg.temporal.tls;
  if (!files) {
    // API keys (Temporal Cloud) are only ever sent over TLS.
    return cfg.temporal.apiKey ? true : undefined;
  }
  if (Boolean(files.cert) !== Boolean(files.key)) {
    throw new WorldloopError('ERR_CONFIG_INVALID', 'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together');
  }
  const [crt, key, ca] = await Promise.all([
    readTlsFile(files.cert, 'certificate'),
    readTlsFile(files.key, 'key'),
    readTlsFile(files.ca, 'CA'),
  ]);
  return {
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
  };
}

/**
 * The Web UI for a configured cluster: TEMPORAL_UI_URL when set; otherwise Temporal Cloud's UI for a
 * *.tmprl.cloud address, else the UI server's default port on the frontend's host (a guess; set
 * TEMPORAL_UI_URL to be exact).
 */
export function uiUrlForAddress(address: string, configured: string | undefined): string {
  if (configured) return configured.replace(/\/+$/, '');
  const host = address.replace(/:\d+$/, '');
  if (host.endsWith('.tmprl.cloud')) return 'https://cloud.temporal.io';
  return `http://${host}:8080`;
}

/**
 * Resolves where to connect; with no TEMPORAL_ADDRESS this starts (or reuses) the embedded dev server —
 * `trustReady` takes a server this state folder already checked as it is (ensureDevServer).
 */
export async function resolveTemporalTarget(cfg: Config, opts: { trustReady?: boolean } = {}): Promise<TemporalTarget> {
  const { address, namespace, apiKey } = cfg.temporal;
  if (address) {
    return {
      address,
      namespace,
      uiUrl: uiUrlForAddress(address, cfg.temporal.uiUrl),
      embedded: false,
      tls: await tlsFromConfig(cfg),
      apiKey,
    };
  }
  const dev = await ensureDevServer(cfg, opts);
  return {
    address: dev.address,
    namespace,
    uiUrl: cfg.temporal.uiUrl?.replace(/\/+$/, '') ?? devServerUiUrl(cfg),
    embedded: true,
    tls: undefined,
    apiKey: undefined,
  };
}

function unavailable(target: TemporalTarget, err: unknown): WorldloopError {
  const hint = target.embedded
    ? 'the embedded dev server stopped answering; `worldloop server status` shows its log'
    : 'check TEMPORAL_ADDRESS, TLS and API key settings';
  return new WorldloopError(
    'ERR_TEMPORAL_UNAVAILABLE',
    `cannot reach Temporal at ${target.address} (namespace ${target.namespace}): ${(err as Error).message} — ${hint}`,
    { cause: err },
  );
}

/**
 * Resolves the target and connects to it; any failure to connect becomes ERR_TEMPORAL_UNAVAILABLE. The embedded
 * dev server is first taken as last checked (one connection, no probe); if that connection fails, the server
 * gets the full check (and a restart when it hangs) and the connection one more try.
 */
async function connectTarget<C>(
  cfg: Config,
  connect: (target: TemporalTarget) => Promise<C>,
): Promise<ConnectedTarget<C>> {
  let target = await resolveTemporalTarget(cfg, { trustReady: true });
  try {
    const connection = await connect(target).catch(async (err: unknown) => {
      if (!target.embedded) throw err;
      target = await resolveTemporalTarget(cfg);
      return connect(target);
    });
    return {
      connection,
      address: target.address,
      namespace: target.namespace,
      uiUrl: target.uiUrl,
      embedded: target.embedded,
    };
  } catch (err) {
    throw unavailable(target, err);
  }
}

/** A client connection (Connection.connect already proves the server answers). */
export function connectTemporal(cfg: Config): Promise<TemporalConnection> {
  return connectTarget(cfg, (target) =>
    Connection.connect({
      address: target.address,
      tls: target.tls,
      apiKey: target.apiKey,
      connectTimeout: CONNECT_TIMEOUT_MS,
    }),
  );
}

/** The worker's native (Rust core) connection, with the same settings as connectTemporal. */
export async function connectWorkerNativeConnection(cfg: Config): Promise<ConnectedTarget<NativeConnection>> {
  const { NativeConnection } = await import('@temporalio/worker');
  return connectTarget(cfg, (target) =>
    NativeConnection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey }),
  );
}

/** The Web UI page of a workflow's history (the latest run when no runId is given). */
export function uiLinkForWorkflow(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
