// `worldloop world …`: read the world store. Everything printed or copied is verified against its BLAKE3
// digest first, so a rotted blob is an ERR_DIGEST_MISMATCH, never silently wrong bytes.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { config } from '../../config';
import { WorldloopError } from '../../contracts/errors';
import { openWorld } from '../../world/index';
import { action, printJson } from '../output';

interface JsonFlag {
  json?: boolean;
}

function humanSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

async function writeStdout(bytes: Uint8Array): Promise<void> {
  await new Promise<void>((done, fail) => {
    process.stdout.write(bytes, (err) => (err ? fail(err) : done()));
  });
}

export function register(program: Command): void {
  const world = program
    .command('world')
    .description('Read the world store: artifacts by canonical world path, verified by BLAKE3 on every read.');

  world
    .command('ls')
    .description('List every artifact under a world prefix (path, size, BLAKE3, quarantine flag).')
    .argument('[prefix]', 'a world prefix ending in /', 'world://artifacts/')
    .option('--json', 'print one JSON object with the full index entries')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop world ls world://artifacts/outputs/text/stats/
  world://artifacts/outputs/text/stats/0193…/outputs.json         212 B  b3:5e1f0a9c2d44
  world://artifacts/outputs/text/stats/0193…/outputs/stats.json     97 B  b3:a81c33f0e6b2  QUARANTINED
  $ worldloop world ls /artifacts/execution/ --json`,
    )
    .action(
      action(async (prefix: string, flags: JsonFlag) => {
        const { world: store } = openWorld(config());
        const [entries, quarantined] = await Promise.all([store.list(prefix), store.quarantinedUnder(prefix)]);
        if (flags.json) {
          printJson({
            ok: true,
            prefix,
            entries: entries.map((e) => ({ ...e, quarantined: quarantined.has(e.path) })),
          });
          return;
        }
        if (entries.length === 0) {
          process.stderr.write(`nothing under ${prefix}\n`);
          return;
        }
        const width = Math.max(...entries.map((e) => e.path.length));
        for (const e of entries) {
          process.stdout.write(
            `${e.path.padEnd(width)}  ${humanSize(e.size_bytes).padStart(10)}  b3:${e.blake3.slice(0, 12)}${quarantined.has(e.path) ? '  QUARANTINED' : ''}\n`,
          );
        }
      }),
    );

  world
    .command('cat')
    .description('Write the bytes at a world path to stdout, after verifying their digest.')
    .argument('<path>', 'an exact world path')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop world cat world://artifacts/execution/<execution_id>/determinism.json | jq .
  $ worldloop world cat /artifacts/outputs/text/stats/<execution_id>/outputs/stats.json`,
    )
    .action(
      action(async (path: string) => {
        const { world: store } = openWorld(config());
        await writeStdout(await store.readBytes(path));
      }),
    );

  world
    .command('get')
    .description('Copy the bytes at a world path to a local file, verified; refuses to overwrite unless --force.')
    .argument('<path>', 'an exact world path')
    .requiredOption('-o, --output <file>', 'the file to write')
    .option('--force', 'overwrite the file if it exists')
    .option('--json', 'print one JSON object describing what was written')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop world get world://artifacts/outputs/text/stats/<execution_id>/outputs/stats.json -o stats.json
  wrote stats.json (97 B, blake3 a81c33f0e6b2…, sha256 4d0b…)
  $ worldloop world get <path> -o stats.json            # again: ERR_USAGE, the file exists
  $ worldloop world get <path> -o stats.json --force`,
    )
    .action(
      action(async (path: string, flags: JsonFlag & { output: string; force?: boolean }) => {
        const dest = resolve(flags.output);
        const existing = await stat(dest).catch(() => undefined);
        if (existing?.isDirectory())
          throw new WorldloopError('ERR_USAGE', `-o ${flags.output} is a folder; name a file`);
        if (existing && !flags.force) {
          throw new WorldloopError('ERR_USAGE', `${flags.output} exists; pass --force to overwrite it`);
        }
        const { world: store } = openWorld(config());
        const entry = await store.copyTo(path, dest, { overwrite: flags.force === true });
        if (flags.json) {
          printJson({ ok: true, file: dest, ...entry });
        } else {
          process.stdout.write(
            `wrote ${flags.output} (${humanSize(entry.size_bytes)}, blake3 ${entry.blake3}, sha256 ${entry.sha256})\n`,
          );
        }
      }),
    );
}
