// Runs once for the integration project: makes sure a real Docker engine answers, a real Temporal server
// is up (the embedded dev server, reused when already running, unless TEMPORAL_ADDRESS is set), and the
// loopback OCI registry answers. Servers are left running afterwards so the next run reuses them.
import type { TestProject } from 'vitest/node';
import { config } from '../../src/config';
import { connectDocker, dockerEngineStatus } from '../../src/adapters/docker-engine';
import { ensureOciRegistry } from '../../src/oci/registry-server';
import { ensureDevServer, probeTemporal } from '../../src/temporal/dev-server';
import { resolveTemporalTarget } from '../../src/temporal/connection';
import type { IntegrationEnv } from './env';

async function attempt<T>(what: string, problems: string[], fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    problems.push(`${what}: ${(err as Error).message}`);
    return undefined;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const cfg = config();
  const problems: string[] = [];
  const t0 = Date.now();

  const [docker, temporal, registry] = await Promise.all([
    attempt('Docker engine', problems, async () => {
      const status = await dockerEngineStatus(connectDocker(cfg));
      if (!status.ok) throw new Error(`${status.error} (start dockerd, or run \`bash scripts/setup.sh\`)`);
      return status;
    }),
    attempt('Temporal', problems, async () => {
      if (cfg.temporal.address) {
        const target = await resolveTemporalTarget(cfg);
        if (!(await probeTemporal(target.address, target.namespace, 10_000))) {
          throw new Error(`nothing answers at TEMPORAL_ADDRESS=${target.address} (namespace ${target.namespace})`);
        }
        return { address: target.address, uiUrl: target.uiUrl, pid: 0, embedded: false };
      }
      const dev = await ensureDevServer(cfg);
      return { ...dev, embedded: true };
    }),
    attempt('OCI registry', problems, () => ensureOciRegistry(cfg)),
  ]);

  if (problems.length > 0 || !docker || !temporal || !registry) {
    throw new Error(
      `integration tests need real services and some are missing:\n  - ${problems.join('\n  - ')}\n` +
        'Run `bash scripts/setup.sh` (installs and starts what is missing), then `node bin/worldloop.js doctor`.',
    );
  }

  const env: IntegrationEnv = {
    temporalAddress: temporal.address,
    namespace: cfg.temporal.namespace,
    uiUrl: temporal.uiUrl,
    embedded: temporal.embedded,
    devServerPid: temporal.pid,
    registryUrl: registry.url,
    registryHost: cfg.ociRegistry,
    dockerVersion: docker.version ?? '',
    stateDir: cfg.stateDir,
  };
  project.provide('worldloopIntegration', env);
  console.log(
    `[global-setup] docker ${env.dockerVersion}; temporal ${env.temporalAddress} (${temporal.embedded ? `embedded pid ${env.devServerPid}, ${'started' in temporal && temporal.started ? 'started' : 'reused'}` : 'configured'}), UI ${env.uiUrl}; registry ${env.registryUrl} (${registry.started ? 'started' : 'reused'}); ${Date.now() - t0} ms`,
  );
}
