// `worldloop deploy --env E [--probe]`: the deploy lane's Modal rollout (src/lanes/deploy.ts), recorded for the
// drift audit, then with --probe the post-deploy probes (src/lanes/deploy-probe.ts: every processor once in mock
// mode through the Modal adapter, and the negative probe); `worldloop drift promote --env E` follows in deploy.yml.
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { v7 as uuidv7 } from 'uuid';
import { REPO_ROOT, config, type Config } from '../../config';
import { WorldloopError } from '../../contracts/errors';
import { createModalClient } from '../../adapters/modal/client';
import { deployTargets, deployToModal, deploymentRecords } from '../../lanes/deploy';
import { probeFailure, recordProbeReport, runDeployProbes, type ProbeReport } from '../../lanes/deploy-probe';
import type { RegistryEntry } from '../../contracts/schemas';
import { ENVIRONMENTS, isEnvironment, recordDeployments } from '../../registry/drift';
import { loadRegistry } from '../../registry/registry';
import { action, printJson } from '../output';

interface DeployFlags {
  env: string;
  deployments: string;
  by: string;
  probe?: boolean;
  json?: boolean;
}

/** The post-deploy probes against what was just deployed; the report is kept create-only beside the record. */
async function probe(cfg: Config, flags: DeployFlags, entries: RegistryEntry[]): Promise<ProbeReport> {
  const { startProbeRuns } = await import('../deploy-probe-runs');
  const runs = await startProbeRuns(cfg);
  try {
    const report = await runDeployProbes(flags.env, entries, runs);
    const file = await recordProbeReport(flags.deployments, report, { by: flags.by, at: new Date(), id: uuidv7() });
    if (!flags.json) {
      for (const r of report.results)
        process.stdout.write(
          `probe ${r.verdict.padEnd(7)} ${r.ref} ${r.probe}${r.saw ? ` → ${r.saw}` : ''}: ${r.detail}\n`,
        );
      process.stdout.write(`${flags.env}: probes ${report.ok ? 'passed' : 'FAILED'}; recorded in ${file}\n`);
    }
    return report;
  } finally {
    await runs.close();
  }
}

export function register(program: Command): void {
  program
    .command('deploy')
    .description(
      'Deploy every processor to Modal for an environment: one app per processor (CI naming rule), its pinned image built there by digest, the rollout recorded in deployments/<env>.json.',
    )
    .requiredOption('--env <env>', `environment: ${ENVIRONMENTS.join('|')}`)
    .option('--deployments <dir>', 'folder with <env>.json deployment records', join(REPO_ROOT, 'deployments'))
    .option('--by <name>', 'who or what deployed (recorded in the file)', userInfo().username)
    .option('--probe', 'then run the post-deploy probes: mock validation through the Modal adapter, the negative probe')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Every processor must be pinned by digest: a tag or a missing pin refuses the whole deploy before any Modal
call (ERR_IMAGE_UNPINNED). Needs MODAL_TOKEN_ID and MODAL_TOKEN_SECRET (or a Modal profile). Idempotent:
apps are got-or-created and an image is built once per digest.

--probe: every processor then runs once in mock mode through the Modal adapter and must settle, and every
processor that needs a secret runs once in real mode on Modal without it (network blocked, nothing written to
the world) and must end in ERR_MISSING_SECRET. Any other outcome is ERR_DEPLOY_PROBE (exit 1), naming the
processor and what the probe saw. The report is kept in <deployments>/probes/ (create-only).

Examples:
  $ worldloop deploy --env dev
  $ worldloop deploy --env main --by "github-actions:$GITHUB_RUN_ID" --probe --json`,
    )
    .action(
      action(async (flags: DeployFlags) => {
        if (!isEnvironment(flags.env)) {
          throw new WorldloopError('ERR_USAGE', `--env ${flags.env}: expected ${ENVIRONMENTS.join(', ')}`);
        }
        const cfg = config();
        const registry = await loadRegistry(cfg.registryDir);
        const targets = deployTargets(registry);
        const { client } = createModalClient(cfg.modal);
        try {
          const deployed = await deployToModal(targets, client, {
            ...(cfg.modal.environment !== undefined ? { environment: cfg.modal.environment } : {}),
            ...(cfg.modal.pullSecret !== undefined ? { pullSecret: cfg.modal.pullSecret } : {}),
          });
          const file = await recordDeployments(
            flags.deployments,
            flags.env,
            deploymentRecords(deployed, flags.by, new Date()),
          );
          if (!flags.json) {
            for (const d of deployed)
              process.stdout.write(`${d.ref}  app ${d.app} (${d.appId})  image ${d.imageId}  ${d.image}\n`);
            process.stdout.write(
              `${flags.env}: ${deployed.length} processors deployed to Modal; recorded in ${file}\n`,
            );
          }
          const report = flags.probe
            ? await probe(
                cfg,
                flags,
                [...registry.values()].map((r) => r.entry),
              )
            : undefined;
          if (report && !report.ok) throw probeFailure(report);
          if (flags.json)
            printJson({
              ok: true,
              env: flags.env,
              deployed,
              recorded: file,
              ...(report ? { probes: report.results } : {}),
            });
        } finally {
          client.close();
        }
      }),
    );
}
