// The only module that reads process.env (docs/architecture.md §1). Everything is parsed once, through zod, with no
// I/O in defaults; other modules receive a Config and never look at the environment themselves.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import en from 'zod/v4/locales/en.js';
import * as z from 'zod/mini';
import { zodIssueError } from './contracts/zod-issue';

// zod's functional build (zod/mini): the same checks and messages as the chained API, but a CLI start loads a few
// dozen kilobytes of it instead of all of zod with every locale (docs/benchmarks.md, "Front door"). It carries no
// locale of its own: the English one gives the messages the chained API gives.
z.config(en());

/** The repository root (where registry/, processors/ and secrets.allow.yaml live). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const port = z.coerce.number().check(z.int(), z.gte(1), z.lte(65_535));
const flag = z.pipe(
  z.enum(['1', '0', 'true', 'false', 'yes', 'no', '']),
  z.transform((v) => v === '1' || v === 'true' || v === 'yes'),
);
/** A non-empty string. */
const text = () => z.string().check(z.minLength(1));

const WORLD_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/?)*)?$/;

const EnvSchema = z.object({
  CI: z.optional(z.string()),
  WORLDLOOP_MODE: z.optional(z.string()),
  WORLDLOOP_STATE_DIR: z.optional(text()),
  WORLDLOOP_TOOLS_DIR: z.optional(text()),
  WORLDLOOP_REGISTRY_DIR: z.optional(text()),
  WORLDLOOP_SECRETS_DIR: z._default(text(), '/run/secrets'),
  WORLDLOOP_SECRETS_ALLOW: z.optional(text()),
  WORLDLOOP_SIGNING_KEY_SECRET: z.optional(
    z.string().check(z.regex(/^[A-Z][A-Z0-9_]{0,127}$/, 'expected a secret name (upper-case letters, digits and _)')),
  ),
  WORLDLOOP_LOG_LEVEL: z._default(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), 'info'),
  WORLDLOOP_TEMPORAL_BIN: z.optional(text()),
  WORLDLOOP_TEMPORAL_PORT: z._default(port, 7233),
  WORLDLOOP_UI_PORT: z._default(port, 8233),
  WORLDLOOP_TASK_QUEUE: z._default(text(), 'worldloop'),
  WORLDLOOP_OCI_REGISTRY: z._default(text(), '127.0.0.1:5000'),
  WORLDLOOP_OCI_USERNAME: z.optional(text()),
  WORLDLOOP_OCI_PASSWORD: z.optional(text()),
  WORLDLOOP_OCI_AUTH_HOST: z._default(text(), 'ghcr.io'),
  WORLDLOOP_NO_EMBEDDED_WORKER: z.optional(flag),
  WORLDLOOP_WORKER_ACTIVITIES: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(1_000)), 32),
  WORLDLOOP_METRICS_ADDR: z._default(
    z.string().check(z.regex(/^(0|off|(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5})$/i, 'expected host:port, 0 or off')),
    '127.0.0.1:9464',
  ),
  TEMPORAL_ADDRESS: z.optional(text()),
  TEMPORAL_NAMESPACE: z._default(text(), 'default'),
  TEMPORAL_TLS_CERT: z.optional(text()),
  TEMPORAL_TLS_KEY: z.optional(text()),
  TEMPORAL_TLS_CA: z.optional(text()),
  TEMPORAL_API_KEY: z.optional(text()),
  TEMPORAL_UI_URL: z.optional(z.url()),
  DOCKER_HOST: z.optional(z.string()),
  PATH: z.optional(z.string()),
  WORLDLOOP_EGRESS_NETWORK: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'expected a Docker network name')),
  ),
  // The Modal adapter's own credentials (never processor secrets); the SDK also reads these names itself.
  MODAL_TOKEN_ID: z.optional(text()),
  MODAL_TOKEN_SECRET: z.optional(text()),
  MODAL_SERVER_URL: z.optional(z.url()),
  MODAL_PROFILE: z.optional(text()),
  MODAL_CONFIG_PATH: z.optional(text()),
  MODAL_ENVIRONMENT: z.optional(text()),
  // Whose Modal apps a non-CI worker uses (<user>-<branch>-<ns>-<name>-v<major>), and the registry pull secret.
  WORLDLOOP_MODAL_USER: z.optional(text()),
  WORLDLOOP_MODAL_BRANCH: z.optional(text()),
  WORLDLOOP_MODAL_PULL_SECRET: z.optional(text()),
  // The world store on S3-compatible storage (docs/scale-out.md): the URL is ours, the rest are the AWS
  // SDK's own standard variables, read here once and handed to the S3 client only.
  WORLDLOOP_WORLD_URL: z.optional(
    z
      .string()
      .check(
        z.regex(
          WORLD_URL,
          'expected s3://<bucket>/<prefix> (bucket: 3-63 of a-z 0-9 . -; prefix: / separated A-Z a-z 0-9 . _ - segments)',
        ),
      ),
  ),
  AWS_ENDPOINT_URL_S3: z.optional(z.url()),
  AWS_ENDPOINT_URL: z.optional(z.url()),
  AWS_ACCESS_KEY_ID: z.optional(text()),
  AWS_SECRET_ACCESS_KEY: z.optional(text()),
  AWS_SESSION_TOKEN: z.optional(text()),
  AWS_REGION: z.optional(text()),
  AWS_DEFAULT_REGION: z.optional(text()),
  // GitHub REST API for the lanes (pins PR, secret sync): Actions sets the first three; WORLDLOOP_GITHUB_API_URL
  // wins over GITHUB_API_URL, which act overwrites, so a local run can point at a loopback fake.
  GITHUB_TOKEN: z.optional(text()),
  GITHUB_REPOSITORY: z.optional(text()),
  GITHUB_API_URL: z._default(z.url(), 'https://api.github.com'),
  WORLDLOOP_GITHUB_API_URL: z.optional(z.url()),
  GITHUB_BASE_REF: z.optional(z.string()),
  GITHUB_REF_NAME: z.optional(z.string()),
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
  readonly logLevel: z.output<typeof EnvSchema>['WORLDLOOP_LOG_LEVEL'];
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

function worldStoreConfig(e: z.output<typeof EnvSchema>): WorldStoreConfig {
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
