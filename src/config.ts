// The only module that reads process.env (docs/architecture.md §1). Everything is parsed once, through zod, with no
// I/O in defaults; other modules receive a Config and never look at the environment themselves.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { zodIssueError } from './contracts/zod-issue';

/** The repository root (where registry/, processors/ and secrets.allow.yaml live). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const port = z.coerce.number().int().min(1).max(65_535);
const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const WORLD_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/?)*)?$/;

const EnvSchema = z.object({
  CI: z.string().optional(),
  WORLDLOOP_MODE: z.string().optional(),
  WORLDLOOP_STATE_DIR: z.string().min(1).optional(),
  WORLDLOOP_TOOLS_DIR: z.string().min(1).optional(),
  WORLDLOOP_REGISTRY_DIR: z.string().min(1).optional(),
  WORLDLOOP_SECRETS_DIR: z.string().min(1).default('/run/secrets'),
  WORLDLOOP_SECRETS_ALLOW: z.string().min(1).optional(),
  WORLDLOOP_SIGNING_KEY_SECRET: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{0,127}$/, 'expected a secret name (upper-case letters, digits and _)')
    .optional(),
  WORLDLOOP_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  WORLDLOOP_TEMPORAL_BIN: z.string().min(1).optional(),
  WORLDLOOP_TEMPORAL_PORT: port.default(7233),
  WORLDLOOP_UI_PORT: port.default(8233),
  WORLDLOOP_TASK_QUEUE: z.string().min(1).default('worldloop'),
  WORLDLOOP_OCI_REGISTRY: z.string().min(1).default('127.0.0.1:5000'),
  WORLDLOOP_OCI_USERNAME: z.string().min(1).optional(),
  WORLDLOOP_OCI_PASSWORD: z.string().min(1).optional(),
  WORLDLOOP_OCI_AUTH_HOST: z.string().min(1).default('ghcr.io'),
  WORLDLOOP_NO_EMBEDDED_WORKER: flag.optional(),
  WORLDLOOP_WORKER_ACTIVITIES: z.coerce.number().int().min(1).max(1_000).default(32),
  WORLDLOOP_METRICS_ADDR: z
    .string()
    .regex(/^(0|off|(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5})$/i, 'expected host:port, 0 or off')
    .default('127.0.0.1:9464'),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CA: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_UI_URL: z.string().url().optional(),
  DOCKER_HOST: z.string().optional(),
  PATH: z.string().optional(),
  WORLDLOOP_EGRESS_NETWORK: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'expected a Docker network name')
    .optional(),
  // The Modal adapter's own credentials (never processor secrets); the SDK also reads these names itself.
  MODAL_TOKEN_ID: z.string().min(1).optional(),
  MODAL_TOKEN_SECRET: z.string().min(1).optional(),
  MODAL_SERVER_URL: z.string().url().optional(),
  MODAL_PROFILE: z.string().min(1).optional(),
  MODAL_CONFIG_PATH: z.string().min(1).optional(),
  MODAL_ENVIRONMENT: z.string().min(1).optional(),
  // Whose Modal apps a non-CI worker uses (<user>-<branch>-<ns>-<name>-v<major>), and the registry pull secret.
  WORLDLOOP_MODAL_USER: z.string().min(1).optional(),
  WORLDLOOP_MODAL_BRANCH: z.string().min(1).optional(),
  WORLDLOOP_MODAL_PULL_SECRET: z.string().min(1).optional(),
  // The world store on S3-compatible storage (docs/scale-out.md): the URL is ours, the rest are the AWS
  // SDK's own standard variables, read here once and handed to the S3 client only.
  WORLDLOOP_WORLD_URL: z
    .string()
    .regex(
      WORLD_URL,
      'expected s3://<bucket>/<prefix> (bucket: 3-63 of a-z 0-9 . -; prefix: / separated A-Z a-z 0-9 . _ - segments)',
    )
    .optional(),
  AWS_ENDPOINT_URL_S3: z.string().url().optional(),
  AWS_ENDPOINT_URL: z.string().url().optional(),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  AWS_SESSION_TOKEN: z.string().min(1).optional(),
  AWS_REGION: z.string().min(1).optional(),
  AWS_DEFAULT_REGION: z.string().min(1).optional(),
  // GitHub REST API for the lanes (pins PR, secret sync): Actions sets the first three; WORLDLOOP_GITHUB_API_URL
  // wins over GITHUB_API_URL, which act overwrites, so a local run can point at a loopback fake.
  GITHUB_TOKEN: z.string().min(1).optional(),
  GITHUB_REPOSITORY: z.string().min(1).optional(),
  GITHUB_API_URL: z.string().url().default('https://api.github.com'),
  WORLDLOOP_GITHUB_API_URL: z.string().url().optional(),
  GITHUB_BASE_REF: z.string().optional(),
  GITHUB_REF_NAME: z.string().optional(),
});

/** Static S3 credentials; a function on the config so that printing or logging the config never shows them. */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Where the world store lives: the embedded default on local disk, or a bucket (docs/architecture.md §11). */
export type WorldStoreConfig =
  | { readonly kind: 'local' }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      /** Key prefix inside the bucket, without leading or trailing `/` (may be empty). */
      readonly prefix: string;
      /** AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL; absent means AWS itself. */
      readonly endpoint: string | undefined;
      readonly region: string;
      /** Absent: the SDK's default provider chain (profiles, instance roles) finds them. */
      readonly credentials: (() => S3Credentials) | undefined;
    };

export interface Config {
  /** True when CI == "true" exactly (docs/architecture.md §3). */
  readonly ci: boolean;
  /** The raw mode setting; resolveMode validates it. */
  readonly modeSetting: string | undefined;
  readonly stateDir: string;
  readonly toolsDir: string;
  readonly registryDir: string;
  readonly secretsDir: string;
  readonly secretsAllowFile: string;
  /**
   * The secret (by name, through the one resolver) holding the attestation signing key's PEM; unset, the key
   * under `<stateDir>/keys/` is used (docs/provenance.md).
   */
  readonly signingKeySecret: string | undefined;
  readonly logLevel: z.infer<typeof EnvSchema>['WORLDLOOP_LOG_LEVEL'];
  readonly temporal: {
    /** Absent means the embedded default: a local dev server worldloop starts and reuses. */
    readonly address: string | undefined;
    readonly namespace: string;
    readonly taskQueue: string;
    readonly tls: { cert?: string; key?: string; ca?: string } | undefined;
    readonly apiKey: string | undefined;
    readonly bin: string | undefined;
    readonly devPort: number;
    readonly uiPort: number;
    readonly uiUrl: string | undefined;
    readonly embeddedWorker: boolean;
    /**
     * Activities one worker runs at once (Temporal's maxConcurrentActivityTaskExecutions): bounds the
     * containers a worker runs in parallel, so that on a small host timeouts come from faults, not overload.
     * Keep it above the number of identical runs started at once (they wait in Reserve, holding a slot).
     */
    readonly maxActivities: number;
  };
  readonly dockerHost: string | undefined;
  /** PATH, for finding tools (temporal, go, docker-registry) the way a shell would. */
  readonly searchPath: string;
  readonly ociRegistry: string;
  /** Credentials for pushing/pulling at `host` only (never sent to another registry). */
  readonly ociAuth: { host: string; username: string; password: string } | undefined;
  /**
   * The Docker network real-mode runs with `network: egress` join (WORLDLOOP_EGRESS_NETWORK). Unset, the
   * adapter's default `bridge`, which a dockerd started with --bridge=none does not have.
   */
  readonly egressNetwork: string | undefined;
  /**
   * Where declared processor settings are read (registry `config.<NAME>.from.env`, ADR 0009) by
   * resolveProcessorConfig; only the names an entry declares are ever looked at.
   */
  readonly processorConfigEnv: Readonly<Record<string, string | undefined>>;
  /** The Modal adapter's configuration; its token is read here and handed to the ModalClient only. */
  readonly modal: {
    readonly tokenId: string | undefined;
    readonly tokenSecret: string | undefined;
    /** Absent means the profile's server_url or Modal's default; the SDK reads MODAL_SERVER_URL itself. */
    readonly serverUrl: string | undefined;
    readonly profile: string | undefined;
    /** The profile file (TOML) the SDK reads when no token is set in the environment. */
    readonly configPath: string;
    readonly environment: string | undefined;
    /** App owner for people's runs (unset: the login name, branch `local`); CI runs use the CI names. */
    readonly appUser: string | undefined;
    readonly appBranch: string | undefined;
    /** Name of the Modal secret with registry credentials for private images (GHCR); a name, never a value. */
    readonly pullSecret: string | undefined;
  };
  /** Where the worker serves Prometheus metrics (`host:port`; `0`/`off` disables them). */
  readonly metricsAddr: string;
  /** Where the world store lives (WORLDLOOP_WORLD_URL); unset, the local store under the state directory. */
  readonly world: WorldStoreConfig;
  /** The GitHub REST API the lanes talk to; the token is handed to src/github only. */
  readonly github: {
    readonly token: string | undefined;
    /** owner/name, as GITHUB_REPOSITORY. */
    readonly repository: string | undefined;
    readonly apiUrl: string;
    /** The branch a pins pull request targets (the branch this run is on), when Actions says. */
    readonly refName: string | undefined;
  };
  /** Secret values are looked up here by the secret resolver only. */
  readonly secretEnv: Readonly<Record<string, string | undefined>>;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw zodIssueError('ERR_CONFIG_INVALID', parsed.error);
  }
  const e = parsed.data;
  const stateDir = resolve(e.WORLDLOOP_STATE_DIR ?? join(homedir(), '.worldloop'));
  const tls =
    e.TEMPORAL_TLS_CERT || e.TEMPORAL_TLS_KEY || e.TEMPORAL_TLS_CA
      ? { cert: e.TEMPORAL_TLS_CERT, key: e.TEMPORAL_TLS_KEY, ca: e.TEMPORAL_TLS_CA }
      : undefined;
  return {
    ci: e.CI === 'true',
    modeSetting: e.WORLDLOOP_MODE,
    stateDir,
    // Per machine, not per clone, so a fresh clone finds the Temporal CLI built once (minutes cold).
    toolsDir: resolve(e.WORLDLOOP_TOOLS_DIR ?? join(homedir(), '.cache', 'worldloop', 'tools')),
    registryDir: resolve(e.WORLDLOOP_REGISTRY_DIR ?? join(REPO_ROOT, 'registry')),
    secretsDir: resolve(e.WORLDLOOP_SECRETS_DIR),
    secretsAllowFile: resolve(e.WORLDLOOP_SECRETS_ALLOW ?? join(REPO_ROOT, 'secrets.allow.yaml')),
    signingKeySecret: e.WORLDLOOP_SIGNING_KEY_SECRET,
    logLevel: e.WORLDLOOP_LOG_LEVEL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.WORLDLOOP_TASK_QUEUE,
      tls,
      apiKey: e.TEMPORAL_API_KEY,
      bin: e.WORLDLOOP_TEMPORAL_BIN,
      devPort: e.WORLDLOOP_TEMPORAL_PORT,
      uiPort: e.WORLDLOOP_UI_PORT,
      uiUrl: e.TEMPORAL_UI_URL,
      embeddedWorker: !(e.WORLDLOOP_NO_EMBEDDED_WORKER ?? false),
      maxActivities: e.WORLDLOOP_WORKER_ACTIVITIES,
    },
    dockerHost: e.DOCKER_HOST,
    searchPath: e.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    ociRegistry: e.WORLDLOOP_OCI_REGISTRY,
    ociAuth:
      e.WORLDLOOP_OCI_USERNAME && e.WORLDLOOP_OCI_PASSWORD
        ? { host: e.WORLDLOOP_OCI_AUTH_HOST, username: e.WORLDLOOP_OCI_USERNAME, password: e.WORLDLOOP_OCI_PASSWORD }
        : undefined,
    egressNetwork: e.WORLDLOOP_EGRESS_NETWORK,
    processorConfigEnv: Object.freeze({ ...env }),
    modal: {
      tokenId: e.MODAL_TOKEN_ID,
      tokenSecret: e.MODAL_TOKEN_SECRET,
      serverUrl: e.MODAL_SERVER_URL,
      profile: e.MODAL_PROFILE,
      configPath: resolve(e.MODAL_CONFIG_PATH ?? join(homedir(), '.modal.toml')),
      environment: e.MODAL_ENVIRONMENT,
      appUser: e.WORLDLOOP_MODAL_USER,
      appBranch: e.WORLDLOOP_MODAL_BRANCH,
      pullSecret: e.WORLDLOOP_MODAL_PULL_SECRET,
    },
    metricsAddr: e.WORLDLOOP_METRICS_ADDR,
    world: worldStoreConfig(e),
    github: {
      token: e.GITHUB_TOKEN,
      repository: e.GITHUB_REPOSITORY,
      apiUrl: e.WORLDLOOP_GITHUB_API_URL ?? e.GITHUB_API_URL,
      refName: e.GITHUB_BASE_REF || e.GITHUB_REF_NAME || undefined,
    },
    secretEnv: Object.freeze({ ...env }),
  };
}

function worldStoreConfig(e: z.infer<typeof EnvSchema>): WorldStoreConfig {
  const match = e.WORLDLOOP_WORLD_URL === undefined ? null : WORLD_URL.exec(e.WORLDLOOP_WORLD_URL);
  if (!match) return { kind: 'local' };
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = e;
  const sessionToken = e.AWS_SESSION_TOKEN;
  return {
    kind: 's3',
    bucket: match[1]!,
    prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, ''),
    endpoint: e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL,
    region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
    credentials: accessKeyId && secretAccessKey ? () => ({ accessKeyId, secretAccessKey, sessionToken }) : undefined,
  };
}

let cached: Config | undefined;
/** The process-wide config, parsed on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
