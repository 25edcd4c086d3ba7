// `worldloop modal …`: the Modal adapter's rules on the command line. `app-name` prints the app a processor
// runs in (docs/architecture.md §8), so the deploy lane, people and the adapter agree on one name.
import type { Command } from 'commander';
import { WorldloopError } from '../../contracts/errors';
import { fullAppName, modalAppName, type AppOwner } from '../../adapters/modal/app-name';
import { action, printJson } from '../output';

interface AppNameOptions {
  ci?: boolean;
  user?: string;
  branch?: string;
  json?: boolean;
}

/** Exactly one of --ci or the pair --user/--branch; anything else is a usage error (exit 2). */
function ownerFrom(opts: AppNameOptions): AppOwner {
  const personal = opts.user !== undefined || opts.branch !== undefined;
  if (opts.ci === true && personal) {
    throw new WorldloopError('ERR_USAGE', '--ci names the CI app; it cannot be combined with --user or --branch');
  }
  if (opts.ci === true) return { ci: true };
  if (opts.user === undefined || opts.branch === undefined) {
    throw new WorldloopError('ERR_USAGE', 'give --ci, or both --user <user> and --branch <branch>');
  }
  return { ci: false, user: opts.user, branch: opts.branch };
}

export function register(program: Command): void {
  const modal = program.command('modal').description('Rules of the Modal adapter (docs/architecture.md §8).');

  modal
    .command('app-name')
    .description('Print the Modal app name of a processor: CI <ns>-<name>-v<major>, people <user>-<branch>-….')
    .argument('<ref>', 'processor ref, ns/name@major')
    .option('--ci', 'the CI app: <ns>-<name>-v<major>')
    .option('--user <user>', 'the person the app is for (with --branch)')
    .option('--branch <branch>', 'their git branch (with --user)')
    .option('--json', 'print {"ok":true,"app_name":…,"full_name":…,"truncated":…} on stdout')
    .addHelpText(
      'after',
      `
Names are lower-case [a-z0-9-], at most 64 characters; a longer name keeps its first 55 characters and
gets "-" and 8 hex digits of BLAKE3 over the whole name, so long names stay distinct.

Examples:
  $ worldloop modal app-name text/stats@1 --ci
  text-stats-v1
  $ worldloop modal app-name text/stats@1 --user Alice --branch feature/Fix_2
  alice-feature-fix-2-text-stats-v1
  $ worldloop modal app-name text/stats@1 --user '--' --branch main      # exit 2
  ERR_MODAL_APP_NAME: user "--" has no letter or digit left after lower-casing
`,
    )
    .action(
      action((ref: string, opts: AppNameOptions) => {
        const owner = ownerFrom(opts);
        const name = modalAppName(ref, owner);
        if (opts.json) {
          const full = fullAppName(ref, owner);
          printJson({ ok: true, app_name: name, full_name: full, truncated: full !== name });
        } else {
          process.stdout.write(`${name}\n`);
        }
      }),
    );
}
