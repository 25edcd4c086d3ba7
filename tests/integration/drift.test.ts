// The drift audit against the real loopback registry and the real Temporal dev server: drift appears when
// a new image is pushed under an environment's tag or recorded in deployments/<env>.json; main fails
// closed and dev does not (library, CLI and workflow); the schedule is created once however often the
// command runs.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { createDriftActivities } from '../../activities/drift';
import { ensureDriftSchedule, driftScheduleId } from '../../src/cli/commands/drift';
import { REPO_ROOT } from '../../src/config';
import { auditDrift, promote } from '../../src/registry/drift';
import { MEDIA_TYPES, OciClient, sha256Digest } from '../../src/oci';
import { integrationEnv } from './env';

const run = promisify(execFile);
const client = new OciClient();
const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

/** A tiny two-platform image index (configs name their real arch); `salt` makes a different digest. */
async function pushIndex(repository: string, salt: string) {
  const platforms: Record<string, string> = {};
  const manifests = [];
  for (const arch of ['amd64', 'arm64']) {
    const layer = new TextEncoder().encode(`${salt}-${arch}`);
    const config = enc({
      architecture: arch,
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha256Digest(layer)] },
    });
    await client.pushBlob(repository, layer, sha256Digest(layer));
    await client.pushBlob(repository, config, sha256Digest(config));
    const manifest = enc({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: sha256Digest(config), size: config.byteLength },
      layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: sha256Digest(layer), size: layer.byteLength }],
    });
    platforms[arch] = await client.putManifest(repository, sha256Digest(manifest), manifest, MEDIA_TYPES.ociManifest);
    manifests.push({
      mediaType: MEDIA_TYPES.ociManifest,
      digest: platforms[arch],
      size: manifest.byteLength,
      platform: { architecture: arch, os: 'linux' },
    });
  }
  const index = enc({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests });
  const digest = await client.putManifest(repository, sha256Digest(index), index, MEDIA_TYPES.ociIndex);
  return { digest, bytes: index, platforms };
}

async function tag(repository: string, name: string, image: { bytes: Uint8Array }): Promise<void> {
  await client.putManifest(repository, name, image.bytes, MEDIA_TYPES.ociIndex);
}

let registryDir: string;
let deploymentsDir: string;
let repository: string;
let pinned: Awaited<ReturnType<typeof pushIndex>>;
let other: Awaited<ReturnType<typeof pushIndex>>;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('node', [join(REPO_ROOT, 'bin/worldloop.js'), ...args], {
    env: { ...process.env, WORLDLOOP_REGISTRY_DIR: registryDir },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'drift-'));
  registryDir = join(root, 'registry');
  deploymentsDir = join(root, 'deployments');
  mkdirSync(join(registryDir, 'text'), { recursive: true });
  mkdirSync(deploymentsDir);
  repository = `${integrationEnv().registryHost}/worldloop-test/d${randomBytes(4).toString('hex')}/text-stats`;
  pinned = await pushIndex(repository, 'pinned');
  other = await pushIndex(repository, 'other');
  const doc = parseDocument(readFileSync(join(REPO_ROOT, 'registry/text/stats.yaml'), 'utf8'));
  doc.setIn(['image', 'repository'], repository);
  doc.setIn(
    ['image', 'platforms'],
    doc.createNode({
      amd64: `${repository}@${pinned.platforms.amd64}`,
      arm64: `${repository}@${pinned.platforms.arm64}`,
    }),
  );
  doc.setIn(['image', 'index'], pinned.digest);
  writeFileSync(join(registryDir, 'text', 'stats.yaml'), doc.toString({ lineWidth: 0 }));
});

describe('drift audit', () => {
  it('is clean when the environment tag carries the pinned index', async () => {
    await tag(repository, 'dev', pinned);
    const report = await auditDrift({ client, registryDir, deploymentsDir, env: 'dev' });
    expect(report.rows).toHaveLength(1);
    expect(report.rows[0]).toMatchObject({
      ref: 'text/stats@1',
      status: 'ok',
      pinned: pinned.digest,
      deployed: pinned.digest,
    });
    expect(report.failed).toBe(false);
  });

  it('detects drift after a new image is pushed under the dev tag, and dev exits 0', async () => {
    await tag(repository, 'dev', other);
    const report = await auditDrift({ client, registryDir, deploymentsDir, env: 'dev' });
    expect(report.rows[0]).toMatchObject({
      status: 'drift',
      pinned: pinned.digest,
      deployed: other.digest,
      source: `${repository}:dev`,
    });
    expect(report.failed).toBe(false);
    const out = await cli(['drift', 'audit', '--env', 'dev', '--deployments', deploymentsDir]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/text\/stats@1\s+sha256:\S+\s+sha256:\S+\s+drift/);
  });

  it('fails closed on main: drift behind the tag, in deployments/main.json, or nothing deployed', async () => {
    let out = await cli(['drift', 'audit', '--env', 'main', '--deployments', deploymentsDir, '--json']);
    expect(out.code).toBe(1);
    expect((JSON.parse(out.stdout) as { rows: { status: string }[] }).rows[0]!.status).toBe('undeployed');

    await tag(repository, 'main', other);
    out = await cli(['drift', 'audit', '--env', 'main', '--deployments', deploymentsDir]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^ERR_DRIFT: main: text\/stats@1 drift/);

    await tag(repository, 'main', pinned);
    out = await cli(['drift', 'audit', '--env', 'main', '--deployments', deploymentsDir]);
    expect(out.code).toBe(0);

    // the deployment record disagrees even though the tag is right
    writeFileSync(
      join(deploymentsDir, 'main.json'),
      JSON.stringify({
        environment: 'main',
        processors: {
          'text/stats@1': { index: pinned.digest, platforms: { arm64: `${repository}@${other.platforms.arm64}` } },
        },
      }),
    );
    const report = await auditDrift({ client, registryDir, deploymentsDir, env: 'main' });
    expect(report.failed).toBe(true);
    expect(report.rows[0]).toMatchObject({
      status: 'drift',
      source: 'deployments/main.json arm64',
      deployed: other.platforms.arm64,
    });
    writeFileSync(
      join(deploymentsDir, 'main.json'),
      JSON.stringify({
        environment: 'main',
        processors: {
          'text/stats@1': { index: pinned.digest, platforms: { arm64: `${repository}@${pinned.platforms.arm64}` } },
        },
      }),
    );
    expect((await auditDrift({ client, registryDir, deploymentsDir, env: 'main' })).failed).toBe(false);
  });
});

describe('drift promote', () => {
  it('moves the environment tag back to the pin and records it, which clears the drift', async () => {
    await tag(repository, 'staging', other);
    expect((await auditDrift({ client, registryDir, deploymentsDir, env: 'staging' })).rows[0]!.status).toBe('drift');
    const out = await cli([
      'drift',
      'promote',
      '--env',
      'staging',
      '--deployments',
      deploymentsDir,
      '--by',
      'test',
      '--json',
    ]);
    expect(out.code).toBe(0);
    expect(await client.headManifest(repository, 'staging')).toBe(pinned.digest);
    const file = JSON.parse(readFileSync(join(deploymentsDir, 'staging.json'), 'utf8')) as {
      processors: Record<string, { index: string; by: string; platforms: Record<string, string> }>;
    };
    expect(file.processors['text/stats@1']).toMatchObject({
      index: pinned.digest,
      by: 'test',
      platforms: { amd64: `${repository}@${pinned.platforms.amd64}`, arm64: `${repository}@${pinned.platforms.arm64}` },
    });
    const report = await auditDrift({ client, registryDir, deploymentsDir, env: 'staging' });
    expect(report.rows[0]).toMatchObject({ status: 'ok', detail: '4 digest(s) match' });
    await expect(
      promote({ client, registryDir, deploymentsDir, env: 'staging', refs: ['no/such@1'], by: 't' }),
    ).rejects.toThrow(/not in the registry/);
  });
});

describe('driftAudit workflow and its schedule (real Temporal)', () => {
  let connection: Connection;
  let temporal: Client;
  const prefix = `test-${randomBytes(3).toString('hex')}-drift-audit`;

  beforeAll(async () => {
    try {
      // The workflow that fails on purpose would otherwise fill the output with INFO and WARN lines.
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // another test file in this process installed the runtime first
    }
    connection = await Connection.connect({ address: integrationEnv().temporalAddress });
    temporal = new Client({ connection, namespace: integrationEnv().namespace });
  });

  afterAll(async () => {
    for (const env of ['dev', 'main'] as const) {
      await temporal.schedule
        .getHandle(driftScheduleId(env, prefix))
        .delete()
        .catch(() => undefined);
    }
    await connection?.close();
  });

  /** A worker running only the drift audit, against this file's registry and deployments folders. */
  async function driftWorker(taskQueue: string): Promise<Worker> {
    return Worker.create({
      connection: await NativeConnection.connect({ address: integrationEnv().temporalAddress }),
      namespace: integrationEnv().namespace,
      taskQueue,
      workflowsPath: join(REPO_ROOT, 'workflows', 'drift-audit.ts'),
      activities: createDriftActivities({ client, registryDir, deploymentsDir }),
    });
  }

  it('reports drift on dev and fails with ERR_DRIFT on main', async () => {
    const taskQueue = `drift-test-${randomBytes(4).toString('hex')}`;
    const worker = await driftWorker(taskQueue);
    await tag(repository, 'dev', other);
    await tag(repository, 'main', other);
    await worker.runUntil(async () => {
      const dev = await temporal.workflow.execute('driftAudit', {
        taskQueue,
        workflowId: `${prefix}/dev/${randomBytes(3).toString('hex')}`,
        args: [{ env: 'dev' }],
      });
      expect((dev as { rows: { status: string }[] }).rows[0]!.status).toBe('drift');
      const err = await temporal.workflow
        .execute('driftAudit', {
          taskQueue,
          workflowId: `${prefix}/main/${randomBytes(3).toString('hex')}`,
          args: [{ env: 'main' }],
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = (err as WorkflowFailedError).cause as { type?: string; message: string };
      expect(cause.type).toBe('ERR_DRIFT');
      expect(cause.message).toMatch(/^\[ERR_DRIFT\] main: text\/stats@1 drift/);
    });
  });

  it('a triggered schedule runs driftAudit on a worker and its result is in the run history', async () => {
    const taskQueue = `drift-sched-${randomBytes(4).toString('hex')}`;
    const worker = await driftWorker(taskQueue);
    const idPrefix = `${prefix}-run`;
    await ensureDriftSchedule(temporal, { env: 'dev', everyMs: 3_600_000, taskQueue, idPrefix });
    const schedule = temporal.schedule.getHandle(driftScheduleId('dev', idPrefix));
    try {
      await worker.runUntil(async () => {
        await schedule.trigger();
        let result: unknown;
        for (let i = 0; i < 300 && result === undefined; i++) {
          const recent = (await schedule.describe()).info.recentActions;
          const started = recent.at(-1)?.action.workflow;
          if (started) result = await temporal.workflow.getHandle(started.workflowId).result();
          else await new Promise((r) => setTimeout(r, 100));
        }
        expect((result as { env: string; rows: { status: string }[] }).env).toBe('dev');
        expect((result as { rows: unknown[] }).rows.length).toBeGreaterThan(0);
      });
    } finally {
      await schedule.delete().catch(() => undefined);
    }
  });

  it('creates the schedule once however often the command runs', async () => {
    const args = { env: 'dev' as const, everyMs: 3_600_000, taskQueue: 'worldloop', idPrefix: prefix };
    expect((await ensureDriftSchedule(temporal, args)).outcome).toBe('created');
    expect((await ensureDriftSchedule(temporal, args)).outcome).toBe('unchanged');
    expect((await ensureDriftSchedule(temporal, args)).outcome).toBe('unchanged');
    expect((await ensureDriftSchedule(temporal, { ...args, everyMs: 1_800_000 })).outcome).toBe('updated');
    const ids: string[] = [];
    for await (const s of temporal.schedule.list()) if (s.scheduleId.startsWith(prefix)) ids.push(s.scheduleId);
    expect(ids).toEqual([driftScheduleId('dev', prefix)]);
    const desc = await temporal.schedule.getHandle(driftScheduleId('dev', prefix)).describe();
    expect(desc.spec.intervals?.[0]?.every).toBe(1_800_000);
    expect((desc.action as { workflowType: string }).workflowType).toBe('driftAudit');
  });
});
