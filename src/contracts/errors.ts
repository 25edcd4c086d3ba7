// The error catalogue: the single source of truth for every code worldloop emits. It is append-only —
// codes are part of the public contract (envelopes, exit codes, Temporal failure types), so a code is
// never renamed or removed; tests/unit/errors.test.ts pins the list.
//
// `retryable` drives Temporal's retry policy (see toApplicationFailure) and the CLI: a non-retryable code
// means "the same request will fail the same way". `kind` drives the CLI exit code: `input` → 2 (the
// caller must change something they sent), everything else → 1.
import { formatCodedMessage, splitCodedMessage } from './coded-message';

export interface ErrorSpec {
  readonly retryable: boolean;
  readonly kind: 'input' | 'policy' | 'runtime' | 'integrity';
  readonly explanation: string;
  readonly action: string;
}

const spec = (kind: ErrorSpec['kind'], retryable: boolean, explanation: string, action: string): ErrorSpec => ({
  kind,
  retryable,
  explanation,
  action,
});

export const ERROR_CATALOGUE = {
  // WorldPath grammar (docs/architecture.md §4)
  ERR_PATH_TOO_LONG: spec(
    'input',
    false,
    'The path is longer than 4096 characters before decoding, or longer than 1024 UTF-8 bytes once canonical.',
    'To fix: shorten the path; keep the canonical form within 1024 bytes.',
  ),
  ERR_BAD_FACET: spec(
    'input',
    false,
    'The path does not start with world:// or /, its first segment is not a facet (artifacts, streams), or an exact path names only the facet.',
    'To fix: write world://artifacts/<segment>/… or world://streams/<segment>/….',
  ),
  ERR_PERCENT_DECODE: spec(
    'input',
    false,
    'A segment has a malformed percent escape, or its decoded bytes are not valid UTF-8.',
    'To fix: encode a literal % as %25 and use only %XX escapes of valid UTF-8.',
  ),
  ERR_DECODED_SLASH: spec(
    'input',
    false,
    'A percent escape decodes to / or \\, which would smuggle a separator into a segment.',
    'To fix: use a literal / to separate segments; %2F and %5C are not allowed.',
  ),
  ERR_FORBIDDEN_CHAR: spec(
    'input',
    false,
    'A segment contains a control character (U+0000–U+001F or U+007F).',
    'To fix: remove control characters from the path.',
  ),
  ERR_DOT_SEGMENTS: spec(
    'input',
    false,
    'A segment is . or .. (also when written as %2e), which could walk out of its parent.',
    'To fix: name every segment explicitly; relative segments are never resolved.',
  ),
  ERR_FORBIDDEN_SEGMENT: spec(
    'input',
    false,
    'A segment is reserved (.git, .well-known, .worldloop, compared case-insensitively).',
    'To fix: rename the segment.',
  ),
  ERR_SEGMENT_TOO_LONG: spec(
    'input',
    false,
    'A decoded segment is longer than 255 UTF-8 bytes.',
    'To fix: shorten the segment to at most 255 bytes.',
  ),
  ERR_SELECTOR_KIND_MISMATCH: spec(
    'input',
    false,
    'An exact path was given where a prefix (ending in /) is required, or the other way round.',
    'To fix: end prefixes with / and exact paths without it.',
  ),
  ERR_OUTPUT_DUPLICATE: spec(
    'integrity',
    false,
    'Two paths in one set are equal after canonicalisation, or equal up to Unicode case folding.',
    'To fix: give every output a distinct name that does not differ only in case or encoding.',
  ),

  // Inputs, modes, CI guard, secrets (docs/architecture.md §3, §5, §9)
  ERR_INPUTS: spec(
    'input',
    false,
    'The inputs are not valid: not I-JSON (lone surrogates, non-finite numbers, duplicate member names), a number literal a double cannot hold exactly (more digits than it keeps), not an object, or not valid against the processor input schema.',
    'To fix: correct the inputs (send a number a double cannot hold as a string); `worldloop registry show <ref>` prints the processor input schema.',
  ),
  ERR_MODE_INVALID: spec(
    'input',
    false,
    'The mode is not one of mock or real.',
    'To fix: pass --mode mock or --mode real (WORLDLOOP_MODE has the same values).',
  ),
  ERR_CI_SAFETY: spec(
    'policy',
    false,
    'Real mode was requested while CI=true; CI runs never spend money or reach providers.',
    'To fix: use --mode mock in CI, or run real mode outside CI.',
  ),
  ERR_MISSING_SECRET: spec(
    'input',
    false,
    'A required secret is not set in the environment or the secrets folder.',
    'To fix: export the variable or write the file <secrets dir>/<NAME>; names are listed in secrets.allow.yaml.',
  ),
  ERR_SECRET_NOT_ALLOWED: spec(
    'policy',
    false,
    'A secret was requested by a name that is not on the allow-list, or in mock mode where no secret is ever read.',
    'To fix: add the name to secrets.allow.yaml (names only), or run in real mode when a secret is truly needed.',
  ),
  ERR_CONFIG_INVALID: spec(
    'input',
    false,
    'A worldloop setting from the environment or a config file is malformed.',
    'To fix: correct the variable named in the message; `worldloop doctor` shows the effective settings.',
  ),
  ERR_USAGE: spec(
    'input',
    false,
    'The command line is not valid: an unknown flag, a missing argument, or a value of the wrong form.',
    'To fix: see `worldloop <command> --help` for the accepted arguments and examples.',
  ),

  // Registry and supply chain (docs/architecture.md §7, §10)
  ERR_UNKNOWN_PROCESSOR: spec(
    'input',
    false,
    'No registry entry matches the processor reference.',
    'To fix: use a reference of the form ns/name@major that `worldloop registry ls` lists.',
  ),
  ERR_REGISTRY_INVALID: spec(
    'input',
    false,
    'A registry entry does not match the registry schema.',
    'To fix: run `worldloop registry validate` and correct the file and field it names.',
  ),
  ERR_IMAGE_UNPINNED: spec(
    'policy',
    false,
    'The image for this platform is missing, referenced by tag, or not pinned by sha256 digest.',
    'To fix: run `worldloop build --push <prefix>` then `worldloop pin`; production and staging accept digests only.',
  ),
  ERR_PLATFORM_MISSING: spec(
    'integrity',
    false,
    'A pushed image index does not list every required platform (linux/amd64 and linux/arm64).',
    'To fix: rebuild both platforms; the build fails closed until both are present.',
  ),
  ERR_OCI: spec(
    'runtime',
    true,
    'The OCI registry refused or failed a request.',
    'To fix: check that the registry is reachable and the repository and credentials are right.',
  ),
  ERR_DRIFT: spec(
    'integrity',
    false,
    'What an environment runs or publishes differs from the registry pin.',
    'To fix: redeploy the pinned digest, or re-pin after a reviewed build; see docs/supply-chain.md.',
  ),

  // Plans, budgets, leases, ledger (docs/architecture.md §2)
  ERR_PLAN_NOT_FOUND: spec(
    'input',
    false,
    'The plan named by the run does not exist.',
    'To fix: create it with `worldloop plan create <key> --budget-usd N`, or pass an existing --plan.',
  ),
  ERR_PLAN_EXISTS: spec(
    'input',
    false,
    'A plan with this key already exists with a different budget.',
    'To fix: choose another key, or use the existing plan.',
  ),
  ERR_BUDGET_EXCEEDED: spec(
    'policy',
    false,
    'Reserving the cost upper bound of this run would overdraw the plan budget.',
    'To fix: raise the plan budget, wait for running executions to settle, or use another plan.',
  ),
  ERR_LEASE_CONFLICT: spec(
    'policy',
    false,
    'Another running execution holds a lease on an overlapping write prefix.',
    'To fix: write to a different prefix, or wait for the other execution to finish.',
  ),
  ERR_LEDGER_BROKEN: spec(
    'integrity',
    false,
    'The plan ledger hash chain does not verify: an event was altered, removed or reordered.',
    'To fix: stop writing to the plan and restore the ledger from backup; report it, this is never expected.',
  ),
  ERR_LEDGER_CONTENTION: spec(
    'runtime',
    true,
    'Too many concurrent writers raced for the same ledger (plan or leases); this attempt gave up after bounded retries.',
    'To fix: retry; Temporal retries it automatically. If it persists, lower the number of concurrent runs per plan.',
  ),

  // Execution (docs/architecture.md §2, §8)
  ERR_ADAPTER_UNAVAILABLE: spec(
    'runtime',
    true,
    'The execution backend (Docker engine or Modal) cannot be reached.',
    'To fix: start the Docker engine (`worldloop doctor` shows how) or check Modal credentials.',
  ),
  ERR_TIMEOUT: spec(
    'runtime',
    false,
    'The processor did not finish within its timeout; its container was killed and removed.',
    'To fix: raise runtime.timeout_s in the registry entry, or make the inputs smaller.',
  ),
  ERR_PROCESSOR_FAILED: spec(
    'runtime',
    false,
    'The processor exited with a non-zero status.',
    'To fix: read the stderr tail in the message and `worldloop show <execution_id>`; fix the inputs or the processor.',
  ),
  ERR_CANCELLED: spec(
    'runtime',
    false,
    'The run was cancelled; its container was killed and its reservation released.',
    'To fix: nothing to fix; start the run again if it is still wanted.',
  ),
  // Provider calls made by a processor in real mode (the kit reports them in its execution.fail line).
  ERR_PROVIDER_AUTH: spec(
    'input',
    false,
    'The provider refused the credentials (HTTP 401 or 403).',
    'To fix: check the secret named in the message (e.g. OPENAI_API_KEY) and its access to the requested model.',
  ),
  ERR_PROVIDER_RATE_LIMITED: spec(
    'runtime',
    true,
    'The provider is rate-limiting or out of quota for these credentials (HTTP 429).',
    'To fix: wait and retry, lower concurrency, or raise the quota with the provider.',
  ),
  ERR_PROVIDER_UNAVAILABLE: spec(
    'runtime',
    true,
    'The provider could not be reached, timed out, failed (HTTP 5xx) or sent a response that is not what its API promises.',
    'To fix: retry later; check the provider status page and the base URL in the work folder config.json.',
  ),
  ERR_PROVIDER_REJECTED: spec(
    'input',
    false,
    'The provider rejected the request itself (HTTP 4xx other than 401, 403 and 429), e.g. an unknown model or a prompt over the context limit.',
    'To fix: correct the inputs as the provider message says (model name, prompt length, parameters).',
  ),

  // Settle, world store, predicates (docs/architecture.md §2, §6)
  ERR_OUTPUT_INVALID: spec(
    'integrity',
    false,
    'The processor left something under outputs/ that is not a regular file (a symlink, device, or a path escaping outputs/), or a file the index does not list.',
    'To fix: make the processor write only regular files under outputs/ and index every one.',
  ),
  ERR_OUTPUT_TOO_LARGE: spec(
    'integrity',
    false,
    'The processor wrote more than its registry runtime allows under outputs/ (total bytes, number of files or one file too large); the run was stopped and nothing was staged.',
    'To fix: raise runtime.outputs (max_total_bytes, max_files, max_file_bytes) in the registry entry, or make the processor write less.',
  ),
  ERR_ADOPTION_REFUSED: spec(
    'integrity',
    false,
    "A container already carries this execution's name and label, but its configuration (image digest, user, capabilities, root filesystem, mounts or network) is not what the adapter would have created; it was neither adopted nor removed.",
    'To fix: inspect the container named wl-<execution_id>, remove it if it is not yours, then retry the run.',
  ),
  ERR_DIGEST_MISMATCH: spec(
    'integrity',
    false,
    'A stored blob or output does not hash to the digest recorded for it.',
    'To fix: the bytes changed after they were recorded; rerun with --no-cache and investigate the store.',
  ),
  ERR_WORLD_CONFLICT: spec(
    'integrity',
    false,
    'The world path was already written with different bytes; world paths never change once written.',
    'To fix: write to a new path (the default write prefix includes the execution id).',
  ),
  ERR_NOT_FOUND: spec(
    'input',
    false,
    'No artifact, execution or run exists at the given path or id.',
    'To fix: list what exists with `worldloop world ls <prefix>` or `worldloop ls`.',
  ),
  ERR_PREDICATE_FAILED: spec(
    'integrity',
    false,
    'An admission or success predicate did not hold; success outputs were quarantined, nothing was deleted.',
    'To fix: read the predicate and its observed value in the message, then fix the inputs or the processor.',
  ),

  // Modal adapter (docs/architecture.md §8)
  ERR_MODAL_APP_NAME: spec(
    'input',
    false,
    'A Modal app name cannot be made: the processor ref is not ns/name@major, or the user or branch has no letter or digit.',
    'To fix: pass a ref like text/stats@1, and a --user and --branch that contain at least one of a-z or 0-9.',
  ),
  ERR_ADAPTER_AUTH: spec(
    'input',
    false,
    'Modal credentials are missing, or Modal rejected them (unauthenticated or permission denied).',
    'To fix: set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET (or a profile in ~/.modal.toml) to a valid token of the workspace; see docs/modal-adapter.md.',
  ),
  ERR_ADAPTER_QUOTA: spec(
    'runtime',
    true,
    'Modal refused for lack of quota or capacity (resource exhausted, rate limited, or no capacity to schedule the sandbox).',
    'To fix: retry later, or raise the workspace limits in Modal; lower runtime.cpu/memory_mb if they exceed the plan.',
  ),
  ERR_IMAGE_PULL: spec(
    'runtime',
    false,
    'Modal could not build the pinned image from its registry digest (not found, private without a pull secret, or the build failed).',
    'To fix: check that the digest in registry/<ns>/<name>.yaml is pushed, and that the pull secret named for its registry exists in Modal.',
  ),

  // OCI client bounds and credential scope (registry; issue 14)
  ERR_OCI_TOO_LARGE: spec(
    'integrity',
    false,
    'A registry answered with more bytes than worldloop reads (a manifest over 4 MiB, a blob over 64 MiB into memory, an oversized tag list or token); reading stopped there.',
    'To fix: check the repository and reference are the ones you meant; a valid manifest is never this large, so re-push the image or use another registry.',
  ),
  ERR_OCI_SIZE_MISMATCH: spec(
    'integrity',
    false,
    'A blob the registry served is longer or shorter than the size its descriptor declares.',
    'To fix: the registry or a proxy altered the blob; re-push the image (`worldloop build --push`) and check the registry storage.',
  ),
  ERR_OCI_INSECURE_REALM: spec(
    'policy',
    false,
    "The registry's token challenge names a token service that would receive credentials over plain http on a non-loopback host.",
    'To fix: serve the registry token service over https (or use credentials only with a registry that does).',
  ),

  // Contracts: non-retryable codes that say what happened, where ERR_INTERNAL (retryable) used to be thrown
  ERR_TOOLCHAIN: spec(
    'runtime',
    false,
    'A build tool worldloop drives (apt-get, the bundler, the image or tar writer) failed or produced something other than expected; the same build fails the same way again.',
    'To fix: read the tool and the output named in the message, correct the build inputs (Dockerfile, build fields of the registry entry, apt sources), and run `worldloop doctor`.',
  ),
  ERR_CHARGE_MISMATCH: spec(
    'integrity',
    false,
    'A settle retry tried to charge an execution a different amount than the charge already recorded for it; a charge repeats only with the same amount.',
    'To fix: do not retry; compare the receipt with the plan ledger (`worldloop plan show <key>`) and report it, settle must be deterministic.',
  ),
  ERR_INVARIANT: spec(
    'integrity',
    false,
    "A check of worldloop's own invariants failed (a store key or record name it built itself, a path that escaped its base, a store layout that cannot exist); this is a bug or a hand-edited state folder, and retrying cannot fix it.",
    'To fix: report it with the execution id and the message; if the state folder was edited by hand, restore it from backup.',
  ),

  // Durability: the Docker engine stopped a run's container (issue 13 item 1, dockerd restart mid-run)
  ERR_ENGINE_STOPPED: spec(
    'runtime',
    true,
    "The Docker engine stopped or killed the run's container from outside the processor (dockerd restarted or shut down without --live-restore, or a kill sent to the container by hand); the processor did not fail by itself, so the run is retried in a fresh container.",
    'To fix: nothing for this run (it is retried); to keep containers running across engine restarts, run dockerd with --live-restore (docs/local-adapter.md), and do not stop `wl-<execution_id>` containers by hand.',
  ),

  // The front door: the compiled CLI and the resident worker (issue 10)
  ERR_BUILD_STALE: spec(
    'runtime',
    false,
    'The compiled CLI in dist/ is missing or was built from other sources than the ones in this checkout, so running it would run old code.',
    'To fix: run `npm run build` (setup does it too), or `node bin/worldloop-dev.js` to run the sources through tsx.',
  ),
  ERR_WORKER_UNAVAILABLE: spec(
    'runtime',
    true,
    'The resident worker (started by `worldloop server start` or the first `run`) exited during start-up or did not become ready in time.',
    'To fix: read the worker log that `worldloop server status` names, then `worldloop server start` again; `run --embedded-worker` runs one in-process meanwhile.',
  ),

  // Artifact inputs and lineage (issue 11 part 4): inputs naming world artifacts with {"$world": …}
  ERR_INPUT_ARTIFACT_MISSING: spec(
    'input',
    false,
    'An input names a world artifact ({"$world": "world://artifacts/…"}) that is not bound in the world, so the run has nothing to read.',
    'To fix: check the path with `worldloop world ls <prefix>`, or run the processor that produces it first.',
  ),
  ERR_INPUT_ARTIFACT_QUARANTINED: spec(
    'input',
    false,
    'An input names a world artifact that is quarantined (a success predicate of the run that produced it failed), so no run may build on it.',
    'To fix: use another artifact, or re-run the producing processor and pass its new output.',
  ),

  // World store on S3-compatible storage (docs/scale-out.md)
  ERR_S3_BUCKET_MISSING: spec(
    'runtime',
    false,
    'The bucket named by WORLDLOOP_WORLD_URL does not exist at the S3 endpoint, so the world store has nowhere to live.',
    'To fix: create the bucket (e.g. `aws s3 mb s3://<bucket>`), or correct WORLDLOOP_WORLD_URL and AWS_ENDPOINT_URL_S3; `worldloop doctor` checks it.',
  ),
  ERR_S3_CREDENTIALS: spec(
    'runtime',
    false,
    'The S3 endpoint refused the credentials (unknown access key, wrong secret, or no permission on the bucket).',
    'To fix: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_REGION) to a key allowed to read, write and list the bucket; `worldloop doctor` checks it.',
  ),
  ERR_S3_UNAVAILABLE: spec(
    'runtime',
    true,
    'The S3 endpoint could not be reached, or kept answering with server errors or throttling after retries with backoff.',
    'To fix: check that the endpoint in AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) is up and reachable from this worker, then retry.',
  ),

  // Delivery lanes: pins PR, GitHub API, pinned digests, secret sync, replay, deploy (issue 9)
  ERR_DIGEST_NOT_FOUND: spec(
    'integrity',
    false,
    'A digest pinned in the registry (a platform image or the index) is not served by the OCI registry, so no environment could pull it.',
    'To fix: run `worldloop build --push` for that processor and `worldloop pin`, or restore the image in the registry; then run `npm run lane:digests` again.',
  ),
  ERR_GITHUB_API: spec(
    'runtime',
    true,
    'A GitHub REST API call failed (network, authentication, permissions or an unexpected answer); nothing after the failing call was done.',
    'To fix: check GITHUB_TOKEN and GITHUB_REPOSITORY (owner/name), the workflow permissions (contents, pull-requests, secrets) and GITHUB_API_URL; then run the command again — it is idempotent.',
  ),
  ERR_PIN_PR: spec(
    'runtime',
    true,
    'The pins pull request could not be prepared: a git step (commit or push of the worldloop/pins branch) failed.',
    'To fix: check that the checkout has the full history and a push remote (origin) the token may push to; then run `worldloop pin --pr` again — it is idempotent.',
  ),
  ERR_SECRET_TARGET: spec(
    'runtime',
    true,
    'A secret store (GitHub Actions or Modal) refused or failed a read or write during secret sync; names already written are unchanged in value.',
    'To fix: check the target credentials (GITHUB_TOKEN with secrets write, or MODAL_TOKEN_ID/MODAL_TOKEN_SECRET) and run `worldloop secrets sync` again — a second run writes only what still differs.',
  ),
  ERR_REPLAY_NONDETERMINISM: spec(
    'integrity',
    false,
    'Replaying a recorded workflow history against the current workflow code produced different commands: a running workflow of that kind would fail after a deploy.',
    'To fix: make the change replay-safe (patched() / a new workflow type), or, when the change is intended and no such workflow runs any more, re-record the histories; see docs/lanes.md (replay).',
  ),
  ERR_REPLAY_HISTORY: spec(
    'input',
    false,
    'A workflow history to replay cannot be read: the file is missing, not JSON, or not a Temporal history export.',
    'To fix: pass a folder of histories exported by `worldloop replay --export` or `temporal workflow show --output json`.',
  ),
  ERR_DEPLOY_PROBE: spec(
    'runtime',
    false,
    'A post-deploy check failed: a processor did not settle in mock mode through the deployed adapter, or the negative probe (a real-mode run without its secret) ended in something other than ERR_MISSING_SECRET.',
    'To fix: read the probe line in the output (processor, code, message), fix the deployment or the processor, and deploy again; the environment was not promoted.',
  ),

  // Provenance: signed attestations, keys, `worldloop verify` (issue 11 parts 1–2; docs/provenance.md)
  ERR_SIGNING_KEY: spec(
    'runtime',
    false,
    'The attestation signing key is missing, unreadable, readable by other users, or not an Ed25519 private key in PKCS#8 PEM.',
    'To fix: run `worldloop keys init` (a new key under the state folder, mode 0600), or set WORLDLOOP_SIGNING_KEY_SECRET to the name of the secret holding the PEM key; `chmod 600` a key file others can read.',
  ),
  ERR_RECEIPT_MISMATCH: spec(
    'integrity',
    false,
    "The run's two receipt copies (<write prefix>receipt.json and execution/<id>/determinism.json) are not byte-identical, or one is missing.",
    'To fix: nothing in the world is ever rewritten, so someone changed the store by hand; restore the state folder from backup and treat the run as unproven.',
  ),
  ERR_HISTORY_MISMATCH: spec(
    'integrity',
    false,
    'The receipt disagrees with the Temporal history of the run (admitted image digest, inputs hash, cache key, workflow ids), or the history has no admitted run.',
    'To fix: the receipt is not the record of this run; compare `worldloop show <id>` with the history in the Web UI and treat the outputs as unproven.',
  ),
  ERR_OUTPUT_TAMPERED: spec(
    'integrity',
    false,
    'A stored output (or outputs.json) no longer hashes to the BLAKE3/SHA-256 digests its receipt and index record, or is missing.',
    'To fix: the blob named in the message changed on disk; restore it from backup or re-run the processor, and do not trust the output meanwhile.',
  ),
  ERR_LEDGER_MISMATCH: spec(
    'integrity',
    false,
    "The plan ledger's entries for the run do not match its receipt: no reservation, not charged, charged another amount, or reserved another amount than Admit decided.",
    'To fix: compare `worldloop plan show <plan>` with the receipt; if the chain itself is intact this is a settlement bug, report it with the execution id.',
  ),
  ERR_ATTESTATION_INVALID: spec(
    'integrity',
    false,
    "The run's attestation is missing, not a DSSE envelope of an in-toto SLSA Provenance v1 statement, not signed by the expected key, or its subjects do not match the stored outputs, outputs.json and receipt.",
    'To fix: check you verify with the right public key (`worldloop keys show --public`); otherwise the attestation or an output was altered — treat the run as unproven.',
  ),
  ERR_NONDETERMINISTIC: spec(
    'integrity',
    false,
    'Re-running the same image digest with the same inputs in a fresh container produced outputs that differ from the recorded ones (per file in the message).',
    'To fix: make the processor deterministic (no clocks, randomness or unordered iteration in outputs), or mark it `deterministic: false` in its registry entry so its results are never cached.',
  ),

  // Processor images' Node runtime: the npm node-linux-<arch> tarballs, integrity-pinned (issue 10 part 4)
  ERR_NODE_RUNTIME_INTEGRITY: spec(
    'integrity',
    false,
    'The Node runtime tarball for a processor image (npm package node-linux-<arch>) does not hash to the sha512 integrity pinned in src/build/node-runtime.ts, so it is not the file the pin was made from; nothing was cached or built from it.',
    'To fix: do not change the pin to make it pass; check which registry or proxy served the tarball (the URL is in the message) and run `worldloop build` again. Change the pin only together with the version, from `npm view node-linux-<arch>@<version> dist.integrity`.',
  ),
  ERR_NODE_RUNTIME_UNAVAILABLE: spec(
    'runtime',
    true,
    'The Node runtime tarball for a processor image could not be downloaded from the npm registry (network error, timeout or a non-200 answer), and it is not in the per-machine tools cache yet.',
    'To fix: check that the URL in the message is reachable from this machine (proxy, DNS), then run `worldloop build` again; once downloaded it is cached under the tools folder (WORLDLOOP_TOOLS_DIR/npm).',
  ),

  // Infrastructure
  ERR_TEMPORAL_UNAVAILABLE: spec(
    'runtime',
    true,
    'The Temporal server cannot be reached.',
    'To fix: run `worldloop server start`, or set TEMPORAL_ADDRESS to a reachable cluster.',
  ),
  ERR_INTERNAL: spec(
    'runtime',
    true,
    'An unexpected internal error; this is a bug in worldloop.',
    'To fix: retry; if it persists, report it with the execution id and the log line.',
  ),
} as const satisfies Record<`ERR_${string}`, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOGUE, value);
}

/** Formats the stable message every layer uses: `[ERR_…] detail` (grammar in coded-message.ts). */
export const codedMessage: (code: ErrorCode, detail: string) => string = formatCodedMessage;

/**
 * Thrown when any worldloop contract is broken. Carries a catalogue code so the CLI, envelopes and
 * Temporal failures agree on what went wrong.
 */
export class WorldloopError extends Error {
  override readonly name: string = 'WorldloopError';
  readonly code: ErrorCode;
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, options?: { cause?: unknown }) {
    super(codedMessage(code, detail), options);
    this.code = code;
    this.detail = detail;
  }

  get spec(): ErrorSpec {
    return ERROR_CATALOGUE[this.code];
  }
}

/**
 * Reads a coded message back: the catalogue code in its prefix (undefined when there is none, or the token
 * is not a catalogue code) and the detail. An unknown token stays part of the detail, so nothing is lost.
 */
export function parseCodedMessage(message: string): { readonly code: ErrorCode | undefined; readonly detail: string } {
  const { token, detail } = splitCodedMessage(message);
  return isErrorCode(token) ? { code: token, detail } : { code: undefined, detail: message };
}

/** Reads a code back out of a coded message such as a Temporal failure message. */
export function codeFromMessage(message: string): ErrorCode | undefined {
  return parseCodedMessage(message).code;
}

/** The detail of a coded message without its `[ERR_…]` prefix (a message without one is returned whole). */
export function detailOfMessage(message: string): string {
  return parseCodedMessage(message).detail;
}

export function assertNever(value: never): never {
  throw new Error(`unreachable: ${String(value)}`);
}
