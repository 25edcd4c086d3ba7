// The drift audit (docs/architecture.md §10): what each environment runs or publishes, compared with the registry
// pins — digests only, never tags or timestamps. Two sources per environment:
//   - the OCI registry: the digest behind the environment's tag (`<image.repository>:<env>`), which a
//     deploy or promotion moves;
//   - `deployments/<env>.json`, written by a deploy or promotion: the digests it rolled out.
// Either source disagreeing with the pin is drift. On dev and staging drift is reported; on main it fails
// closed (the caller exits non-zero / the workflow fails), and so does anything main cannot prove.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { WorldloopError } from '../contracts/errors';
import { OciDigestSchema, type Platform } from '../contracts/schemas';
import type { OciClient } from '../oci/client';
import { digestOfRef, isDigest, pinnedImageProblem } from '../oci/image-ref';
import { assertIndexPlatforms } from '../oci/index-platforms';
import { readPinnedStates } from './pin';
import { firstIssue } from '../contracts/zod-issue';
import { writeFileAtomic } from '../write-file-atomic';

export const ENVIRONMENTS = ['dev', 'staging', 'main'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export function isEnvironment(value: string): value is Environment {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}

/** The environment's tag in each processor repository. */
export function environmentTag(env: Environment): string {
  return env;
}

const PinRefSchema = z
  .string()
  .refine((v) => pinnedImageProblem(v) === undefined, 'expected <repository>@sha256:<64 hex>');

/** `deployments/<env>.json`: what the last deploy or promotion of that environment rolled out. */
export const DeploymentsFileSchema = z.strictObject({
  environment: z.enum(ENVIRONMENTS),
  processors: z.record(
    z.string(),
    z.strictObject({
      index: OciDigestSchema.optional(),
      platforms: z.strictObject({ amd64: PinRefSchema.optional(), arm64: PinRefSchema.optional() }).optional(),
      deployed_at: z.string().optional(),
      by: z.string().optional(),
    }),
  ),
});
export type DeploymentsFile = z.infer<typeof DeploymentsFileSchema>;

/** The pins the audit compares against (plain data: it crosses the Temporal activity boundary). */
export interface PinSnapshot {
  readonly ref: string;
  readonly repository: string;
  readonly index: string | null;
  readonly platforms: Partial<Record<Platform, string>>;
}

export interface DeployedSnapshot {
  readonly ref: string;
  /** index digest behind `<repository>:<env>`, null when the tag does not exist */
  readonly tag: string;
  readonly tagDigest: string | null;
  /** from deployments/<env>.json, null when the file or the processor is absent */
  readonly recorded: { readonly index: string | null; readonly platforms: Partial<Record<Platform, string>> } | null;
}

export type DriftStatus = 'ok' | 'drift' | 'unpinned' | 'undeployed';

export interface DriftRow {
  readonly ref: string;
  readonly pinned: string | null;
  /** the deployed digest that differs from the pin, else the first one that matches */
  readonly deployed: string | null;
  readonly source: string;
  readonly status: DriftStatus;
  readonly detail: string;
}

export interface DriftReport {
  readonly env: Environment;
  readonly rows: readonly DriftRow[];
  /** true when the audit must fail: any non-ok row on main (fail closed); never on dev or staging */
  readonly failed: boolean;
  readonly counts: Record<DriftStatus, number>;
}

export async function readPins(registryDir: string): Promise<PinSnapshot[]> {
  return (await readPinnedStates(registryDir)).map((s) => ({
    ref: s.ref,
    repository: s.repository,
    index: s.index ?? null,
    platforms: s.platforms,
  }));
}

export async function readDeploymentsFile(deploymentsDir: string, env: Environment): Promise<DeploymentsFile | null> {
  const file = join(deploymentsDir, `${env}.json`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new WorldloopError('ERR_REGISTRY_INVALID', `${file} is not JSON`);
  }
  const parsed = DeploymentsFileSchema.safeParse(data);
  if (!parsed.success) {
    const { where = '', message } = firstIssue(parsed.error);
    throw new WorldloopError('ERR_REGISTRY_INVALID', `${file} ${where}: ${message}`);
  }
  if (parsed.data.environment !== env) {
    throw new WorldloopError('ERR_REGISTRY_INVALID', `${file} says environment ${parsed.data.environment}, not ${env}`);
  }
  return parsed.data;
}

export async function readDeployed(args: {
  client: OciClient;
  deploymentsDir: string;
  env: Environment;
  pins: readonly PinSnapshot[];
}): Promise<DeployedSnapshot[]> {
  const file = await readDeploymentsFile(args.deploymentsDir, args.env);
  const tag = environmentTag(args.env);
  const out: DeployedSnapshot[] = [];
  for (const pin of args.pins) {
    const tagDigest = (await args.client.headManifest(pin.repository, tag)) ?? null;
    const rec = file?.processors[pin.ref];
    out.push({
      ref: pin.ref,
      tag: `${pin.repository}:${tag}`,
      tagDigest,
      recorded: rec ? { index: rec.index ?? null, platforms: rec.platforms ?? {} } : null,
    });
  }
  return out;
}

function digestOf(ref: string | undefined | null): string | null {
  return (ref ? digestOfRef(ref) : undefined) ?? null;
}

/** Pure: compares digests only. */
export function compareDrift(
  env: Environment,
  pins: readonly PinSnapshot[],
  deployed: readonly DeployedSnapshot[],
): DriftReport {
  const rows: DriftRow[] = [];
  for (const pin of pins) {
    const d = deployed.find((x) => x.ref === pin.ref);
    const pinnedIndex = pin.index && isDigest(pin.index) ? pin.index : null;
    const pinnedPlatform = (p: Platform): string | null => digestOf(pin.platforms[p]);
    if (!pinnedIndex) {
      rows.push({
        ref: pin.ref,
        pinned: null,
        deployed: d?.tagDigest ?? null,
        source: 'registry pin',
        status: 'unpinned',
        detail: 'image.index is not a digest; run worldloop pin',
      });
      continue;
    }
    const observations: { source: string; want: string; got: string }[] = [];
    if (d?.tagDigest) observations.push({ source: d.tag, want: pinnedIndex, got: d.tagDigest });
    if (d?.recorded?.index)
      observations.push({ source: `deployments/${env}.json index`, want: pinnedIndex, got: d.recorded.index });
    for (const p of ['amd64', 'arm64'] as const) {
      const got = digestOf(d?.recorded?.platforms[p]);
      const want = pinnedPlatform(p);
      if (got) observations.push({ source: `deployments/${env}.json ${p}`, want: want ?? '(not pinned)', got });
    }
    if (observations.length === 0) {
      rows.push({
        ref: pin.ref,
        pinned: pinnedIndex,
        deployed: null,
        source: '-',
        status: 'undeployed',
        detail: `no ${env} tag and no deployments/${env}.json record`,
      });
      continue;
    }
    const bad = observations.filter((o) => o.got !== o.want);
    const shown = bad[0] ?? observations[0]!;
    rows.push({
      ref: pin.ref,
      pinned: shown.want,
      deployed: shown.got,
      source: shown.source,
      status: bad.length > 0 ? 'drift' : 'ok',
      detail:
        bad.length > 0
          ? bad.map((o) => `${o.source} is ${o.got}, pinned ${o.want}`).join('; ')
          : `${observations.length} digest(s) match`,
    });
  }
  const counts: Record<DriftStatus, number> = { ok: 0, drift: 0, unpinned: 0, undeployed: 0 };
  for (const r of rows) counts[r.status]++;
  return { env, rows, failed: env === 'main' && rows.some((r) => r.status !== 'ok'), counts };
}

/** Everything in one call, for the CLI and CI (the Temporal workflow runs the same three steps). */
export async function auditDrift(args: {
  client: OciClient;
  registryDir: string;
  deploymentsDir: string;
  env: Environment;
}): Promise<DriftReport> {
  const pins = await readPins(args.registryDir);
  const deployed = await readDeployed({ ...args, pins });
  return compareDrift(args.env, pins, deployed);
}

/**
 * Merges what was just rolled out into deployments/<env>.json (one entry per processor, replaced whole),
 * sorted by ref, written atomically. Used by `drift promote` and `worldloop deploy`.
 */
export async function recordDeployments(
  deploymentsDir: string,
  env: Environment,
  rolledOut: DeploymentsFile['processors'],
): Promise<string> {
  const existing = (await readDeploymentsFile(deploymentsDir, env)) ?? { environment: env, processors: {} };
  const processors: DeploymentsFile['processors'] = { ...existing.processors, ...rolledOut };
  const sorted = Object.fromEntries(Object.entries(processors).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await mkdir(deploymentsDir, { recursive: true });
  const file = join(deploymentsDir, `${env}.json`);
  await writeFileAtomic(file, `${JSON.stringify({ environment: env, processors: sorted }, null, 2)}\n`);
  return file;
}

export interface PromotionRecord {
  readonly ref: string;
  readonly tag: string;
  readonly index: string;
  readonly platforms: Partial<Record<Platform, string>>;
}

/**
 * A promotion as the audit expects one: for each processor, the environment tag is moved to the PINNED
 * index (after the same two-platform assertion as a build), and deployments/<env>.json records the
 * digests. Only pins are ever promoted, so a promotion cannot itself introduce drift.
 */
export async function promote(args: {
  client: OciClient;
  registryDir: string;
  deploymentsDir: string;
  env: Environment;
  refs?: readonly string[];
  by: string;
  now?: () => Date;
}): Promise<PromotionRecord[]> {
  let pins = await readPins(args.registryDir);
  if (args.refs && args.refs.length > 0) {
    const unknown = args.refs.filter((r) => !pins.some((p) => p.ref === r));
    if (unknown.length > 0)
      throw new WorldloopError('ERR_UNKNOWN_PROCESSOR', `${unknown.join(', ')} not in the registry`);
    pins = pins.filter((p) => args.refs!.includes(p.ref));
  }
  const records: PromotionRecord[] = [];
  for (const pin of pins) {
    if (!pin.index || !isDigest(pin.index)) {
      throw new WorldloopError('ERR_IMAGE_UNPINNED', `${pin.ref} has no pinned index digest; run worldloop pin`);
    }
    const index = await args.client.getManifest(pin.repository, pin.index);
    const found = await assertIndexPlatforms(args.client, pin.repository, index);
    const tag = environmentTag(args.env);
    await args.client.putManifest(pin.repository, tag, index.bytes, index.mediaType);
    records.push({
      ref: pin.ref,
      tag: `${pin.repository}:${tag}`,
      index: index.digest,
      platforms: {
        amd64: `${pin.repository}@${found.platforms.amd64!}`,
        arm64: `${pin.repository}@${found.platforms.arm64!}`,
      },
    });
  }
  const at = (args.now ?? (() => new Date()))().toISOString();
  await recordDeployments(
    args.deploymentsDir,
    args.env,
    Object.fromEntries(
      records.map((r) => [r.ref, { index: r.index, platforms: r.platforms, deployed_at: at, by: args.by }]),
    ),
  );
  return records;
}
