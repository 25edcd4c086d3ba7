// Adoption across workers that share one Docker engine but not one scratch folder (issue 12, the 200-run
// budget test): a retried Execute may land on another worker, whose workdir for the execution is another
// path. The container the first worker made must be adopted (or its finished outcome read), never refused,
// and never followed by a second container. Real engine, real loopback registry, the busybox test image.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, config } from '../../src/config';
import { WorldloopError } from '../../src/contracts/errors';
import type { Adapter, InvokeArgs } from '../../src/adapters/adapter';
import { containerName, createDockerAdapter } from '../../src/adapters/docker/index';
import { connectDocker } from '../../src/adapters/docker-engine';
import { sweepContainers } from '../../activities/container-sweep';
import { recordExecute } from '../../activities/execute-record';
import { errorEnvelope } from '../../src/contracts/envelope';
import { LocalObjectStore, WorldStore } from '../../src/world';
import { pino } from 'pino';
import { containerCreations, waitForContainerState } from './docker-events';
import { SMALL_RUNTIME } from '../fixtures/small-runtime';

const run = promisify(execFile);

let docker: Dockerode;
let imageRef: string;
let root: string;
let adapter: Adapter;

beforeAll(async () => {
  const { stdout } = await run('bash', [join(REPO_ROOT, 'tests/fixtures/images/build-busybox-image.sh')], {
    maxBuffer: 16 * 1024 * 1024,
  });
  imageRef = stdout.trim().split('\n').pop()!;
  docker = connectDocker(config());
  root = await mkdtemp(join(tmpdir(), 'wl-cross-worker-'));
  adapter = createDockerAdapter({ docker, pullRegistry: config().ociRegistry });
}, 300_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const OUTPUTS = `
mkdir -p "$WL_OUT/outputs"
printf 'hello from %s\\n' "$WL_EXECUTION_ID" > "$WL_OUT/outputs/hello.txt"
wl-index
`;

/** The same execution as two workers see it: each has its own state folder, so its own workdir. */
function argsOn(worker: string, execution_id: string, sh: string): InvokeArgs {
  return {
    execution_id,
    processor_ref: 'test/busybox@1',
    image: imageRef,
    platform: 'amd64',
    mode: 'mock',
    inputs: { script_b64: Buffer.from(sh).toString('base64') },
    write_prefix: `world://artifacts/outputs/test/busybox/${execution_id}/`,
    runtime: SMALL_RUNTIME,
    secrets: {},
    env_fingerprint: 'adapter=local;cross-worker',
    workdir: join(root, worker, 'runs', execution_id),
  };
}

const waitForState = (name: string, state: string) => waitForContainerState(docker, name, state, 30_000);
const creations = (executionId: string, sinceSec: number) => containerCreations(docker, executionId, sinceSec);

describe('docker adapter: a retry on another worker (same engine, other workdir)', () => {
  it('adopts the running container the first worker created, reading its outputs where it writes them', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = uuidv7();
    const first = adapter.invoke(argsOn('worker-a', id, `sleep 2\n${OUTPUTS}`));
    await waitForState(containerName(id), 'running');
    const retried = await adapter.invoke(argsOn('worker-b', id, `sleep 2\n${OUTPUTS}`));
    const original = await first;
    expect(retried.adopted).toBe(true);
    expect(retried.envelope.status).toBe('success');
    expect(retried.envelope).toEqual(original.envelope);
    expect(retried.out_dir).toBe(join(root, 'worker-a', 'runs', id, 'out'));
    expect(await readFile(join(retried.out_dir, 'outputs/hello.txt'), 'utf8')).toContain(id);
    expect(await creations(id, since)).toBe(1);
  });

  it('with keepContainer, a finished container stays until discard: a retry elsewhere replays it, never runs again', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = uuidv7();
    const notRecorded = { keepContainer: true, recordedElsewhere: () => Promise.resolve(false) };
    const original = await adapter.invoke(argsOn('worker-a', id, OUTPUTS), notRecorded);
    expect(original.envelope.status).toBe('success');
    await waitForState(containerName(id), 'exited');
    // The first worker's Execute died before it recorded the outcome in the world store: the retry lands
    // on worker B, finds the stopped container and replays the first worker's result.
    const retried = await adapter.invoke(argsOn('worker-b', id, OUTPUTS), notRecorded);
    expect(retried.adopted).toBe(true);
    expect(retried.envelope).toEqual(original.envelope);
    expect(existsSync(join(root, 'worker-b', 'runs', id, 'result.json'))).toBe(false);
    await adapter.discard!(id);
    await adapter.discard!(id); // idempotent
    expect(
      await docker
        .getContainer(containerName(id))
        .inspect()
        .catch(() => undefined),
    ).toBeUndefined();
    expect(await creations(id, since)).toBe(1);
  });

  it('no container and the outcome recorded elsewhere: creates nothing and says so (retryable)', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = uuidv7();
    const err = await adapter
      .invoke(argsOn('worker-b', id, OUTPUTS), { keepContainer: true, recordedElsewhere: () => Promise.resolve(true) })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(WorldloopError);
    expect((err as WorldloopError).code).toBe('ERR_ADAPTER_UNAVAILABLE');
    expect((err as WorldloopError).message).toContain('recorded');
    expect(await creations(id, since)).toBe(0);
  });

  it('the sweep removes the stopped containers of recorded executions only, on the real engine (ADR 0024)', async () => {
    // Two executions whose containers were kept and then left by a worker that died before removing them:
    // one has its Execute record in the world store, the other not (a retry may still adopt it).
    const [recorded, unrecorded] = [uuidv7(), uuidv7()];
    const kept = { keepContainer: true, recordedElsewhere: () => Promise.resolve(false) };
    for (const id of [recorded, unrecorded]) await adapter.invoke(argsOn('worker-a', id, OUTPUTS), kept);
    expect((await adapter.stoppedContainers!()).filter((id) => id === recorded || id === unrecorded).sort()).toEqual(
      [recorded, unrecorded].sort(),
    );
    const world = new WorldStore(new LocalObjectStore(join(root, 'world')));
    const at = new Date().toISOString();
    await recordExecute(world, recorded, {
      envelope: errorEnvelope(recorded, 'ERR_PROCESSOR_FAILED', 'recorded', {
        env_fingerprint: 'x',
        image_digest: 'x',
        adapter: 'local',
        mode: 'mock',
        duration_ms: 0,
        cache_hit: false,
        cost_micro: 0,
      }),
      exit_code: 1,
      started_at: at,
      finished_at: at,
    });
    const report = await sweepContainers({ world, adapters: { local: adapter }, logger: pino({ level: 'silent' }) });
    expect(report.removed).toContain(recorded);
    expect(report.removed).not.toContain(unrecorded);
    const inspect = (id: string) =>
      docker
        .getContainer(containerName(id))
        .inspect()
        .catch(() => undefined);
    expect(await inspect(recorded)).toBeUndefined();
    expect((await inspect(unrecorded))?.State.Status).toBe('exited');
    await adapter.discard!(unrecorded);
  });
});
