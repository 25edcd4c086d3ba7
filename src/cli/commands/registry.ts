// `worldloop registry validate|show|ls|bundle`: the processor registry (registry/<ns>/<name>.yaml).
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { REPO_ROOT, config } from '../../config';
import { PLATFORMS, type RegistryEntry } from '../../contracts/schemas';
import { bundleProcessor } from '../../build/bundle';
import {
  formatProblem,
  getRecord,
  hostPlatform,
  loadRegistry,
  pinnedImage,
  validateRegistry,
} from '../../registry/registry';
import { EXIT_BAD_INPUT, action, printJson } from '../output';

interface JsonFlag {
  json?: boolean;
}

function rel(file: string): string {
  return relative(REPO_ROOT, file).split('\\').join('/');
}

/** Each platform's pin, or why there is none (the same rule Admit applies). */
function pins(entry: RegistryEntry): Record<string, { image: string | null; problem: string | null }> {
  const out: Record<string, { image: string | null; problem: string | null }> = {};
  for (const platform of PLATFORMS) {
    try {
      out[platform] = { image: pinnedImage(entry, platform), problem: null };
    } catch (err) {
      out[platform] = { image: null, problem: (err as { detail?: string }).detail ?? String(err) };
    }
  }
  return out;
}

export function register(program: Command): void {
  const registry = program
    .command('registry')
    .description('Inspect and check the processor registry (registry/<ns>/<name>.yaml).');

  registry
    .command('validate')
    .description(
      'Check every registry file against the schema and the pinning rules; name file, line and field of each problem.',
    )
    .option('--json', 'print {ok, problems:[{file,line,field,message}]}')
    .addHelpText(
      'after',
      `
Exit status: 0 when every file is valid, 2 when any problem is found.
A missing pin is not a problem here (it is normal before the first build; \`worldloop pin --check\` reports it);
a pin that is a tag or names another repository is.

Examples:
  $ worldloop registry validate
  registry: 2 processors, no problems
  $ worldloop registry validate --json`,
    )
    .action(
      action(async (flags: JsonFlag) => {
        const dir = config().registryDir;
        const problems = await validateRegistry(dir, { root: dirname(dir) });
        if (flags.json) {
          printJson({ ok: problems.length === 0, problems });
        } else if (problems.length === 0) {
          const count = (await loadRegistry(dir, { root: dirname(dir) })).size;
          console.log(`registry: ${count} processor${count === 1 ? '' : 's'}, no problems`);
        } else {
          for (const p of problems) console.error(formatProblem(p));
          console.error(
            `ERR_REGISTRY_INVALID: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${rel(dir)}/`,
          );
        }
        return problems.length === 0 ? 0 : EXIT_BAD_INPUT;
      }),
    );

  registry
    .command('ls')
    .description('List the processors in the registry with their pinning state.')
    .option('--json', 'print one JSON array')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop registry ls
  REF            DETERMINISTIC  NETWORK  RESERVE_USD  AMD64     ARM64
  llm/chat@1     no             egress   0.400000     pinned    pinned
  text/stats@1   yes            none     0.000000     unpinned  unpinned`,
    )
    .action(
      action(async (flags: JsonFlag) => {
        const dir = config().registryDir;
        const records = [...(await loadRegistry(dir, { root: dirname(dir) })).values()].sort((a, b) =>
          a.entry.ref < b.entry.ref ? -1 : 1,
        );
        const rows = records.map(({ entry, file }) => {
          const p = pins(entry);
          return {
            ref: entry.ref,
            file: rel(file),
            deterministic: entry.deterministic,
            network: entry.runtime.network,
            reserve_micro: entry.cost.reserve_micro,
            amd64: p.amd64!.image,
            arm64: p.arm64!.image,
          };
        });
        if (flags.json) {
          printJson(rows);
          return;
        }
        const table = [
          ['REF', 'DETERMINISTIC', 'NETWORK', 'RESERVE_USD', 'AMD64', 'ARM64'],
          ...rows.map((r) => [
            r.ref,
            r.deterministic ? 'yes' : 'no',
            r.network,
            (r.reserve_micro / 1_000_000).toFixed(6),
            r.amd64 ? 'pinned' : 'unpinned',
            r.arm64 ? 'pinned' : 'unpinned',
          ]),
        ];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
        for (const row of table)
          console.log(
            row
              .map((c, i) => c.padEnd(widths[i]!))
              .join('  ')
              .trimEnd(),
          );
      }),
    );

  registry
    .command('show')
    .description('Show one registry entry: image pins, runtime, secrets, input schema, outputs, predicates, cost.')
    .argument('<ref>', 'processor reference, ns/name@major')
    .option('--json', 'print {file, entry, pins, host_platform}')
    .addHelpText(
      'after',
      `
Examples:
  $ worldloop registry show text/stats@1
  $ worldloop registry show llm/chat@1 --json`,
    )
    .action(
      action(async (ref: string, flags: JsonFlag) => {
        const dir = config().registryDir;
        const { entry, file } = getRecord(await loadRegistry(dir, { root: dirname(dir) }), ref);
        const p = pins(entry);
        let host: string | null = null;
        try {
          host = hostPlatform();
        } catch {
          host = null;
        }
        if (flags.json) {
          printJson({ file: rel(file), entry, pins: p, host_platform: host });
          return;
        }
        const lines = [
          `${entry.ref} — ${entry.description}`,
          `  file           ${rel(file)}`,
          `  repository     ${entry.image.repository}`,
          ...PLATFORMS.map(
            (pl) =>
              `  ${pl.padEnd(14)} ${p[pl]!.image ?? `(${p[pl]!.problem})`}${pl === host ? '   ← this machine' : ''}`,
          ),
          `  index          ${entry.image.index ?? '(none)'}`,
          `  runtime        cpu ${entry.runtime.cpu}, memory ${entry.runtime.memory_mb} MB, timeout ${entry.runtime.timeout_s} s, network ${entry.runtime.network}, pids ${entry.runtime.pids}, gpu ${entry.runtime.gpu}`,
          `  secrets        required: ${entry.secrets.required.join(', ') || '(none)'}; optional: ${entry.secrets.optional.join(', ') || '(none)'}`,
          `  outputs        ${entry.outputs.join(', ')}`,
          `  predicates     admission: ${entry.predicates.admission.map((x) => x.kind).join(', ') || '(none)'}; success: ${entry.predicates.success.map((x) => x.kind).join(', ') || '(none)'}`,
          `  cost           reserve ${entry.cost.reserve_micro} micro-USD ($${(entry.cost.reserve_micro / 1_000_000).toFixed(6)})`,
          `  deterministic  ${entry.deterministic ? 'yes (results are cached)' : 'no'}`,
          `  build          ${entry.build.entry} → ${entry.build.dockerfile} (context ${entry.build.context})`,
          `  inputs schema  ${JSON.stringify(entry.inputs)}`,
        ];
        console.log(lines.join('\n'));
      }),
    );

  registry
    .command('bundle')
    .description("Bundle a processor's entry into the single file its image runs (node /app/main.js).")
    .argument('<ref>', 'processor reference, ns/name@major')
    .option('-o, --out <file>', "where to write it (default: <build.context>/dist/main.js, the Dockerfile's input)")
    .option('--json', 'print {ref, file, size_bytes, sha256}')
    .addHelpText(
      'after',
      `
The bundle is reproducible: the same sources give the same bytes. Then, with internet and docker:
  $ docker build -t my/text-stats:dev processors/text/stats/1

Examples:
  $ worldloop registry bundle text/stats@1
  $ worldloop registry bundle llm/chat@1 -o /tmp/main.js --json`,
    )
    .action(
      action(async (ref: string, flags: JsonFlag & { out?: string }) => {
        const dir = config().registryDir;
        const root = dirname(dir);
        const { entry } = getRecord(await loadRegistry(dir, { root }), ref);
        const bytes = await bundleProcessor(join(root, entry.build.entry), { root, registryDir: dir });
        const out = resolve(flags.out ?? join(root, entry.build.context, 'dist', 'main.js'));
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, bytes);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        if (flags.json) printJson({ ref, file: out, size_bytes: bytes.byteLength, sha256 });
        else console.log(`${ref}: wrote ${out} (${bytes.byteLength} bytes, sha256 ${sha256})`);
      }),
    );
}
