// The runs behind `worldloop deploy --probe` (src/lanes/deploy-probe.ts decides; this wires):
//
//   mock validation  a whole loop run (Admit → … → Settle) with `--adapter modal`, served by a worker this
//                    process starts on a task queue of its own, with the CI app names (the apps the deploy
//                    just made), so no other worker with another Modal set-up takes the run;
//   negative probe   the Modal adapter invoked directly in real mode with no secret and the network blocked,
//                    in a scratch workdir removed afterwards: nothing reaches the world (ADR 0018).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import type { Config } from '../config';
import { createModalAdapterFromConfig } from '../adapters/modal';
import { WorldloopError } from '../contracts/errors';
import { defaultWritePrefix } from '../contracts/write-prefix';
import type { Envelope, RegistryEntry } from '../contracts/schemas';
import { MODAL_PLATFORM } from '../lanes/deploy';
import type { ProbeRuns } from '../lanes/deploy-probe';
import { defaultRedactor } from '../log/redactor';
import { pinnedImage } from '../registry/registry';
import { ensureDefaultPlan } from './default-plan';
import { DEFAULT_PLAN } from './run-draft';

function inputsObject(entry: RegistryEntry, inputs: unknown): Record<string, unknown> {
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
    throw new WorldloopError('ERR_INPUTS', `${entry.ref}: the probe inputs derived from its schema are not an object`);
  }
  return inputs as Record<string, unknown>;
}

/** The probe's own settings: CI app names, a task queue nobody else polls, no processor secret at hand. */
export function probeConfig(cfg: Config): Config {
  return {
    ...cfg,
    ci: true,
    secretEnv: {},
    temporal: { ...cfg.temporal, taskQueue: `wl-deploy-probe-${uuidv7()}` },
  };
}

/** Starts the probe's worker; `close` stops it and the connection. */
export async function startProbeRuns(cfg: Config): Promise<ProbeRuns & { close(): Promise<void> }> {
  const probeCfg = probeConfig(cfg);
  const [{ connectTemporal }, client, { startWorker }, embedding] = await Promise.all([
    import('../temporal/connection'),
    import('../temporal/client'),
    import('../temporal/worker'),
    import('./embedded-worker'),
  ]);
  await ensureDefaultPlan(probeCfg, DEFAULT_PLAN);
  embedding.quietRuntime();
  const temporal = await connectTemporal(probeCfg);
  const worker = await startWorker(probeCfg, temporal, { logger: embedding.fileLogger(probeCfg) });
  const modal = createModalAdapterFromConfig(probeCfg.modal, {
    appOwner: { ci: true },
    redact: (s) => defaultRedactor.redactString(s),
    ...(probeCfg.modal.pullSecret !== undefined ? { pullSecret: probeCfg.modal.pullSecret } : {}),
  });
  const scratch = join(probeCfg.stateDir, 'runs');
  return {
    async mockRun(entry, inputs): Promise<Envelope> {
      const { handle } = await client.startRun(client.runClient(temporal), {
        taskQueue: probeCfg.temporal.taskQueue,
        request: {
          processor_ref: entry.ref,
          inputs: inputsObject(entry, inputs),
          mode: 'mock',
          plan: DEFAULT_PLAN,
          write_prefix: defaultWritePrefix(entry.ref),
          adapter: 'modal',
          cache: false,
        },
      });
      return client.runEnvelope(handle);
    },
    async negativeRun(entry, inputs): Promise<Envelope> {
      const execution_id = uuidv7();
      await mkdir(scratch, { recursive: true });
      const workdir = await mkdtemp(join(scratch, 'deploy-probe-'));
      try {
        const outcome = await modal.adapter.invoke({
          execution_id,
          processor_ref: entry.ref,
          image: pinnedImage(entry, MODAL_PLATFORM),
          platform: MODAL_PLATFORM,
          mode: 'real',
          inputs: inputsObject(entry, inputs),
          write_prefix: `world://artifacts/deploy-probe/${execution_id}/`,
          // Blocked whatever the entry says: without its secret the processor has nowhere to go.
          runtime: { ...entry.runtime, network: 'none' },
          secrets: {},
          env_fingerprint: 'deploy-probe',
          workdir,
        });
        return outcome.envelope;
      } finally {
        await rm(workdir, { recursive: true, force: true });
      }
    },
    async close() {
      modal.handle.client.close();
      await worker.shutdown();
      await temporal.connection.close();
    },
  };
}
