// `worldloop deploy --env E`: the deploy lane's Modal rollout (src/lanes/deploy.ts), recorded for the drift
// audit; `worldloop drift promote --env E` follows it in deploy.yml.
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { REPO_ROOT, config } from '../../config';
import { WorldloopError } from '../../contracts/errors';
import { createModalClient } from '../../adapters/modal/client';
import { deployTargets, deployToModal, deploymentRecords } from '../../lanes/deploy';
import { ENVIRONMENTS, isEnvironment, recordDeployments } from '../../registry/drift';
import { loadRegistry } from '../../registry/registry';
import { action, printJson } from '../output';

interface DeployFlags {
  env: string;
  deployments: string;
  by: string;
  json?: boolean;
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
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Every processor must be pinned by digest: a tag or a missing pin refuses the whole deploy before any Modal
call (ERR_IMAGE_UNPINNED). Needs MODAL_TOKEN_ID and MODAL_TOKEN_SECRET (or a Modal profile). Idempotent:
apps are got-or-created and an image is built once per digest.

Examples:
  $ worldloop deploy --env dev
  $ worldloop deploy --env main --by "github-actions:$GITHUB_RUN_ID" --json`,
    )
    .action(
      action(async (flags: DeployFlags) => {
        if (!isEnvironment(flags.env)) {
          throw new WorldloopError('ERR_USAGE', `--env ${flags.env}: expected ${ENVIRONMENTS.join(', ')}`);
        }
        const cfg = config();
        const targets = deployTargets(await loadRegistry(cfg.registryDir));
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
          if (flags.json) printJson({ ok: true, env: flags.env, deployed, recorded: file });
          else {
            for (const d of deployed)
              process.stdout.write(`${d.ref}  app ${d.app} (${d.appId})  image ${d.imageId}  ${d.image}\n`);
            process.stdout.write(
              `${flags.env}: ${deployed.length} processors deployed to Modal; recorded in ${file}\n`,
            );
          }
        } finally {
          client.close();
        }
      }),
    );
}
