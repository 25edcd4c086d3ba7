// `worldloop secrets sync`: the processors' required secrets, from the resolver to GitHub Actions or Modal
// (src/lanes/secrets-sync.ts). Values are never printed; the report names secrets and actions only.
import { join } from 'node:path';
import type { Command } from 'commander';
import { config } from '../../config';
import { WorldloopError } from '../../contracts/errors';
import { createModalClient } from '../../adapters/modal/client';
import { connectGitHub } from '../../github/client';
import { githubSecretTarget, modalSecretTarget, type SecretTarget } from '../../lanes/secret-targets';
import { syncSecrets } from '../../lanes/secrets-sync';
import { loadRegistry } from '../../registry/registry';
import { createSecretResolver, loadAllowList } from '../../secrets';
import { EXIT_FAILURE, action, printJson } from '../output';

const TARGETS = ['github', 'modal'] as const;
const ENV_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

interface SyncFlags {
  target: string;
  env?: string;
  check?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  const secrets = program
    .command('secrets')
    .description("Processor secrets in the CI and deploy targets (names from the registry's secrets.required).");

  secrets
    .command('sync')
    .description(
      'Write every secret the registry requires to GitHub Actions or Modal, from the resolver (environment, then the secrets folder); fails closed before writing anything.',
    )
    .requiredOption('--target <target>', `where: ${TARGETS.join('|')}`)
    .option(
      '--env <env>',
      'GitHub: an environment (dev, staging, main) instead of the repository; Modal: an environment',
    )
    .option('--check', 'report what would change and exit 1 if anything would; write nothing')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Names must be on the allow-list (secrets.allow.yaml) and every value must resolve, or nothing is written
(ERR_SECRET_NOT_ALLOWED, ERR_MISSING_SECRET). A second run writes nothing: a salted fingerprint of what was
written is kept under the state dir (secrets-sync/), never the value. GitHub needs GITHUB_TOKEN and
GITHUB_REPOSITORY; Modal needs MODAL_TOKEN_ID and MODAL_TOKEN_SECRET.

Examples:
  $ worldloop secrets sync --target github --env dev --check
  $ worldloop secrets sync --target github --env main
  $ worldloop secrets sync --target modal --json`,
    )
    .action(
      action(async (flags: SyncFlags) => {
        if (!(TARGETS as readonly string[]).includes(flags.target)) {
          throw new WorldloopError('ERR_USAGE', `--target ${flags.target}: expected ${TARGETS.join(', ')}`);
        }
        if (flags.env !== undefined && !ENV_RE.test(flags.env)) {
          throw new WorldloopError(
            'ERR_USAGE',
            `--env ${JSON.stringify(flags.env.slice(0, 64))}: not an environment name`,
          );
        }
        const cfg = config();
        const allow = loadAllowList(cfg.secretsAllowFile);
        const registry = await loadRegistry(cfg.registryDir);
        const resolver = createSecretResolver({ mode: 'real', allow, env: cfg.secretEnv, secretsDir: cfg.secretsDir });
        const target: SecretTarget =
          flags.target === 'github'
            ? githubSecretTarget(connectGitHub(cfg.github), flags.env)
            : modalSecretTarget(createModalClient(cfg.modal).client, flags.env ?? cfg.modal.environment);
        const report = await syncSecrets({
          registry,
          allow,
          resolver,
          target,
          recordFile: join(cfg.stateDir, 'secrets-sync', `${target.key}.json`),
          check: flags.check === true,
        });
        const pending = report.items.filter((i) => i.action !== 'unchanged').length;
        if (flags.json) printJson({ ok: !(report.check && pending > 0), ...report });
        else {
          for (const i of report.items) process.stdout.write(`${i.action.padEnd(9)} ${i.name}  (${i.reason})\n`);
          process.stdout.write(
            report.check
              ? `${report.target}: ${pending} of ${report.items.length} would change (check: nothing written)\n`
              : `${report.target}: wrote ${report.written}, ${report.items.length - report.written} unchanged\n`,
          );
        }
        return report.check && pending > 0 ? EXIT_FAILURE : undefined;
      }),
    );
}
