// `worldloop path …`: the WorldPath grammar (docs/architecture.md §4) on the command line, so scripts and people can
// check a path the same way the engine will before they hand it to a run.
import { Option, type Command } from 'commander';
import { WorldloopError } from '../../contracts/errors';
import { canonicalise, type SelectorKind } from '../../world/path';
import { action, printJson } from '../output';

interface CanonOptions {
  kind?: SelectorKind;
  json?: boolean;
}

export function register(program: Command): void {
  const path = program.command('path').description('Work with WorldPaths (world://<facet>/<segment>/…).');

  path
    .command('canon')
    .description('Print the canonical form of a WorldPath, or the code of the rule it breaks (exit 2).')
    .argument('<path>', 'a world://<facet>/… path or the /<facet>/… shorthand; a trailing / makes it a prefix')
    .addOption(
      new Option('--kind <kind>', 'require an exact path or a prefix (default: accept either)').choices([
        'exact',
        'prefix',
      ]),
    )
    .option('--json', 'print {"ok":true,"path":…} or {"ok":false,"code":…,"message":…} on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop path canon '/artifacts/reports/caf%C3%A9.json'
  world://artifacts/reports/café.json
  $ worldloop path canon 'world://artifacts/runs/' --kind prefix
  world://artifacts/runs/
  $ worldloop path canon 'world://artifacts/a/%2e%2e/b'      # exit 2
  ERR_DOT_SEGMENTS: segment 3 "%2e%2e" is a ".." segment
  $ worldloop path canon 'world://streams/log' --json
  {"ok":true,"path":"world://streams/log"}
`,
    )
    .action(
      action((raw: string, opts: CanonOptions) => {
        const result = canonicalise(raw, opts.kind);
        if (!result.ok) throw new WorldloopError(result.code, result.message);
        if (opts.json) printJson({ ok: true, path: result.path });
        else process.stdout.write(`${result.path}\n`);
      }),
    );
}
