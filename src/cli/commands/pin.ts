// `worldloop pin [--check]`: Build & Pin's pin half (src/registry/pin.ts).
import type { Command } from 'commander';
import { config } from '../../config';
import { WorldloopError } from '../../contracts/errors';
import { PROFILES, type Profile, describeFinding, pinProblems, pinRegistry } from '../../registry/pin';
import { EXIT_FAILURE, action, printJson } from '../output';
import { ociClientFromConfig as ociClient } from '../../oci/client';
import { proposePinsCommand } from './pin-pr';

interface PinFlags {
  check?: boolean;
  pr?: boolean;
  json?: boolean;
  profile: string;
}

export function register(program: Command): void {
  program
    .command('pin')
    .description(
      'Pin every registry entry (or the given refs) to the digests published under its v<major> tag; rewrites only what changed.',
    )
    .argument('[refs...]', 'processor references (ns/name@major); default: all')
    .option('--check', 'compare only; exit non-zero when a pin is stale, missing or a tag (ERR_IMAGE_UNPINNED)')
    .option(
      '--profile <profile>',
      `policy profile: ${PROFILES.join('|')} (staging and production refuse tags anywhere)`,
      'production',
    )
    .option(
      '--pr',
      'then open or update one pull request on the branch worldloop/pins with the changed pins (GITHUB_TOKEN, GITHUB_REPOSITORY); nothing when no pin changed',
    )
    .option('--json', 'print one JSON object instead of a table')
    .addHelpText(
      'after',
      `
Reads <image.repository>:v<major> from the OCI registry, asserts its index lists linux/amd64 and
linux/arm64, and writes image.platforms.{amd64,arm64} and image.index in registry/<ns>/<name>.yaml.
Comments and layout are kept; a second run changes nothing and says so.

Examples:
  $ worldloop build --push 127.0.0.1:5000/worldloop/worldloop && worldloop pin
  $ worldloop pin --check                 # CI: fails when a pin is stale, missing or a tag
  $ worldloop pin text/stats@1 --json
  $ worldloop pin --pr                    # Build & Pin: re-pin, then one idempotent PR on worldloop/pins`,
    )
    .action(
      action(async (refs: string[], flags: PinFlags) => {
        if (!(PROFILES as readonly string[]).includes(flags.profile)) {
          throw new WorldloopError('ERR_USAGE', `--profile ${flags.profile}: expected ${PROFILES.join(', ')}`);
        }
        if (flags.pr && flags.check) throw new WorldloopError('ERR_USAGE', '--pr proposes changes; --check makes none');
        const profile = flags.profile as Profile;
        const cfg = config();
        const reports = await pinRegistry({
          registryDir: cfg.registryDir,
          client: ociClient(cfg),
          refs,
          check: flags.check === true,
          profile,
        });
        const problems = pinProblems(reports, profile, flags.check === true);
        const changed = reports.filter((r) => r.changed.length > 0);
        // Only pins that passed the two-platform check reach the pull request (in text mode after the table).
        const pr = flags.pr && flags.json && problems.length === 0 ? await proposePinsCommand(cfg, true) : undefined;
        if (flags.json) {
          printJson({
            ok: problems.length === 0,
            check: flags.check === true,
            profile,
            changed: changed.length,
            pins: reports,
            ...(pr ? { pr } : {}),
          });
        } else {
          for (const r of reports) {
            process.stdout.write(`${r.ref}  ${r.file}  (${r.repository}:${r.tag})\n`);
            for (const f of r.findings) {
              const note = r.changed.includes(f.field) ? `updated (was ${f.status})` : f.status;
              process.stdout.write(`  ${f.field.padEnd(6)} ${note.padEnd(22)} ${f.published}\n`);
            }
          }
          if (!flags.check) {
            process.stdout.write(
              changed.length === 0
                ? 'pins are up to date; nothing changed\n'
                : `updated ${changed.map((r) => `${r.file} (${r.changed.join(', ')})`).join(', ')}\n`,
            );
          } else if (problems.length === 0 && flags.check) {
            process.stdout.write('all pins match the published digests\n');
          }
        }
        if (problems.length > 0) {
          // JSON callers already have every finding in `pins`; one object on stdout, exit 1.
          if (flags.json) return EXIT_FAILURE;
          throw new WorldloopError('ERR_IMAGE_UNPINNED', problems.map(describeFinding).join('; '));
        }
        if (flags.pr && !flags.json) await proposePinsCommand(cfg, false);
      }),
    );
}
