// Build & Pin against the real loopback registry: both platforms pushed with an index that is read back
// and asserted, each carrying Node 24 for its own CPU, reproducible digests, fail-closed
// ERR_PLATFORM_MISSING, and pin idempotency / stale-pin / tag detection on a temporary copy of the registry
// folder.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { REPO_ROOT } from '../../src/config';
import { WorldloopError } from '../../src/contracts/errors';
import { baseCacheDir, buildBaseLayer } from '../../src/build/base-rootfs';
import { type BuildReport, buildAndPush, compareBuildToPins } from '../../src/build/build-push';
import { indexBytes } from '../../src/build/image-builder';
import { NODE_RUNTIME, filesFromTgz } from '../../src/build/node-runtime';
import { assertIndexPlatforms } from '../../src/oci/index-platforms';
import { MEDIA_TYPES, OciClient, sha256Digest } from '../../src/oci';
import { pinProblems, pinRegistry, readPinnedStates } from '../../src/registry/pin';
import { integrationEnv } from './env';

const run = promisify(execFile);
const REF = 'text/stats@1';

let registryDir: string;
let repository: string;
let yamlFile: string;
const client = new OciClient();

/** A temp registry folder holding text/stats@1 pointed at a fresh test repository, with no pins. */
function tempRegistry(): { dir: string; repo: string; file: string } {
  const root = mkdtempSync(join(tmpdir(), 'build-pin-'));
  const dir = join(root, 'registry');
  mkdirSync(join(dir, 'text'), { recursive: true });
  const repo = `${integrationEnv().registryHost}/worldloop-test/b${randomBytes(4).toString('hex')}/text-stats`;
  const doc = parseDocument(readFileSync(join(REPO_ROOT, 'registry/text/stats.yaml'), 'utf8'));
  doc.setIn(['image', 'repository'], repo);
  doc.setIn(['image', 'platforms'], doc.createNode({}));
  doc.deleteIn(['image', 'index']);
  const file = join(dir, 'text', 'stats.yaml');
  writeFileSync(file, doc.toString({ lineWidth: 0 }));
  return { dir, repo, file };
}

/** ELF e_machine of /usr/bin/node in a base layer blob (62 = x86-64, 183 = AArch64). */
function nodeMachine(layerBlob: Uint8Array): number | undefined {
  const node = filesFromTgz(layerBlob, ['usr/bin/node']).get('usr/bin/node');
  if (!node || node[0] !== 0x7f || String.fromCharCode(node[1]!, node[2]!, node[3]!) !== 'ELF') return undefined;
  return node[18]! | (node[19]! << 8);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorldloopError);
  return (err as WorldloopError).code;
}

let first: BuildReport;

describe('worldloop build: multi-arch, reproducible, fail closed', () => {
  beforeAll(async () => {
    ({ dir: registryDir, repo: repository, file: yamlFile } = tempRegistry());
    [first] = (await buildAndPush({ registryDir, root: REPO_ROOT, client, refs: [REF] })) as [BuildReport];
    console.log(
      `[build-pin] first build: amd64 ${first.platforms.amd64!.build_ms} ms, arm64 ${first.platforms.arm64!.build_ms} ms; index ${first.index}`,
    );
  });

  it('pushes both platforms and an OCI index that lists them, each config naming its real arch', async () => {
    expect(first.repository).toBe(repository);
    const index = await client.getManifest(repository, 'v1');
    expect(index.mediaType).toBe(MEDIA_TYPES.ociIndex);
    expect(index.digest).toBe(first.index);
    const found = await assertIndexPlatforms(client, repository, index);
    expect(found.platforms).toEqual({ amd64: first.platforms.amd64!.manifest, arm64: first.platforms.arm64!.manifest });
    for (const arch of ['amd64', 'arm64'] as const) {
      const m = await client.getManifest(repository, found.platforms[arch]!);
      expect(m.mediaType).toBe(MEDIA_TYPES.ociManifest);
      const cfg = JSON.parse(
        new TextDecoder().decode(
          await client.getBlob(
            repository,
            (m.json.config as { digest: string }).digest,
            (m.json.config as { size: number }).size,
          ),
        ),
      ) as {
        architecture: string;
        os: string;
        created: string;
        config: { User: string; Entrypoint: string[]; Labels: Record<string, string> };
        history: { created_by: string }[];
      };
      expect(cfg.architecture).toBe(arch);
      expect(cfg.os).toBe('linux');
      expect(cfg.created).toBe('1970-01-01T00:00:00Z');
      expect(cfg.config.User).toBe('65532:65532');
      expect(cfg.config.Entrypoint).toEqual(['/usr/bin/node', '/app/main.js']);
      expect((m.json.layers as unknown[]).length).toBe(2);
      // The base names the Node it carries, and that Node is built for this platform's CPU.
      const node = NODE_RUNTIME[arch];
      expect(cfg.config.Labels['dev.worldloop.base.key']).toMatch(new RegExp(`^node${node.version}-[0-9a-f]{24}$`));
      expect(cfg.config.Labels['dev.worldloop.base.node']).toBe(
        `node ${node.version} (npm ${node.name}@${node.version} ${node.integrity})`,
      );
      expect(cfg.history[0]!.created_by).toContain(`node ${node.version}`);
      const base = (m.json.layers as { digest: string; size: number }[])[0]!;
      expect(nodeMachine(await client.getBlob(repository, base.digest, base.size))).toBe(node.elfMachine);
    }
    expect(NODE_RUNTIME.arm64.elfMachine).toBe(183); // AArch64
  });

  it('is reproducible: a second build gives the same digests', async () => {
    const [second] = (await buildAndPush({ registryDir, root: REPO_ROOT, client, refs: [REF] })) as [BuildReport];
    console.log(
      `[build-pin] second build: amd64 ${second.platforms.amd64!.build_ms} ms, arm64 ${second.platforms.arm64!.build_ms} ms; same index: ${second.index === first.index}`,
    );
    expect(second.index).toBe(first.index);
    expect(second.platforms.amd64!.manifest).toBe(first.platforms.amd64!.manifest);
    expect(second.platforms.arm64!.manifest).toBe(first.platforms.arm64!.manifest);
    expect(second.bundle_sha256).toBe(first.bundle_sha256);
  });

  it('rebuilds each base layer from scratch (unpack, tar, gzip) to the same digest as the cached one', async () => {
    for (const arch of ['amd64', 'arm64'] as const) {
      const cached = await buildBaseLayer(arch);
      const fresh = mkdtempSync(join(tmpdir(), 'base-'));
      // the .debs are reused (their SHA256 is checked against apt's index); everything else is redone
      if (existsSync(join(baseCacheDir(), 'debs'))) symlinkSync(join(baseCacheDir(), 'debs'), join(fresh, 'debs'));
      const rebuilt = await buildBaseLayer(arch, { cacheDir: fresh });
      expect(rebuilt.cached).toBe(false);
      expect(rebuilt.digest).toBe(cached.digest);
      expect(rebuilt.diffId).toBe(cached.diffId);
      expect(rebuilt.packages).toEqual(cached.packages);
      // Debian's nodejs (Node 18) is gone; what the official node binary links against is there.
      expect(rebuilt.packages.filter((p) => p.startsWith('nodejs_') || p.startsWith('libnode'))).toEqual([]);
      for (const name of ['libc6', 'libstdc++6', 'libgcc-s1']) {
        expect(rebuilt.packages.some((p) => p.startsWith(`${name}_`) && p.endsWith(`_${arch}.deb`))).toBe(true);
      }
      expect(nodeMachine(rebuilt.blob)).toBe(NODE_RUNTIME[arch].elfMachine);
    }
  });

  it('fails closed with ERR_PLATFORM_MISSING and leaves the tag alone when a platform is missing', async () => {
    expect(
      await codeOf(buildAndPush({ registryDir, root: REPO_ROOT, client, refs: [REF], platforms: ['amd64'] })),
    ).toBe('ERR_PLATFORM_MISSING');
    expect(await client.headManifest(repository, 'v1')).toBe(first.index);

    // An index with one platform, pushed by hand and read back, fails the same assertion.
    const amd64 = await client.getManifest(repository, first.platforms.amd64!.manifest);
    const one = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [
          {
            mediaType: MEDIA_TYPES.ociManifest,
            digest: amd64.digest,
            size: amd64.bytes.byteLength,
            platform: { architecture: 'amd64', os: 'linux' },
          },
        ],
      }),
    );
    await client.putManifest(repository, 'one-platform', one, MEDIA_TYPES.ociIndex);
    const readOne = await client.getManifest(repository, 'one-platform');
    const err = await assertIndexPlatforms(client, repository, readOne).catch((e: unknown) => e as WorldloopError);
    expect((err as WorldloopError).code).toBe('ERR_PLATFORM_MISSING');
    expect((err as WorldloopError).detail).toMatch(/missing linux\/arm64/);

    // An amd64 image listed as arm64 is caught by reading its config.
    const liar = JSON.parse(new TextDecoder().decode(indexBytes([]))) as { manifests: unknown[] };
    liar.manifests = ['amd64', 'arm64'].map((architecture) => ({
      mediaType: MEDIA_TYPES.ociManifest,
      digest: amd64.digest,
      size: amd64.bytes.byteLength,
      platform: { architecture, os: 'linux' },
    }));
    const liarBytes = new TextEncoder().encode(JSON.stringify(liar));
    await client.putManifest(repository, sha256Digest(liarBytes), liarBytes, MEDIA_TYPES.ociIndex);
    const readLiar = await client.getManifest(repository, sha256Digest(liarBytes));
    const err2 = await assertIndexPlatforms(client, repository, readLiar).catch((e: unknown) => e as WorldloopError);
    expect((err2 as WorldloopError).code).toBe('ERR_PLATFORM_MISSING');
    expect((err2 as WorldloopError).detail).toMatch(/config says linux\/amd64/);
  });
});

describe('worldloop pin', () => {
  it('pins what was published, and a second run changes nothing', async () => {
    const before = readFileSync(yamlFile, 'utf8');
    const reports = await pinRegistry({ registryDir, client });
    expect(reports[0]!.changed).toEqual(['amd64', 'arm64', 'index']);
    const after = readFileSync(yamlFile, 'utf8');
    const entry = parseDocument(after).toJS() as { image: { platforms: Record<string, string>; index: string } };
    expect(entry.image.platforms).toEqual({
      amd64: `${repository}@${first.platforms.amd64!.manifest}`,
      arm64: `${repository}@${first.platforms.arm64!.manifest}`,
    });
    expect(entry.image.index).toBe(first.index);
    // only the pin lines differ
    const removed = before.split('\n').filter((l) => !after.split('\n').includes(l));
    expect(removed).toEqual(['  platforms: {}']);

    const again = await pinRegistry({ registryDir, client });
    expect(again[0]!.changed).toEqual([]);
    expect(readFileSync(yamlFile, 'utf8')).toBe(after);
    expect(pinProblems(await pinRegistry({ registryDir, client, check: true }))).toEqual([]);

    // build --check: the sources rebuild (without pushing) to exactly the pinned digests
    const local = await buildAndPush({ registryDir, root: REPO_ROOT, client, refs: [REF], push: false });
    const checks = compareBuildToPins(local, await readPinnedStates(registryDir));
    expect(checks.map((c) => c.ok)).toEqual([true, true, true]);

    const cli = await run('node', [join(REPO_ROOT, 'bin/worldloop.js'), 'pin'], {
      env: { ...process.env, WORLDLOOP_REGISTRY_DIR: registryDir },
    });
    expect(cli.stdout).toContain('pins are up to date; nothing changed');
  });

  it('detects stale pins and tags, refuses tags outside dev, and never writes in --check', async () => {
    const pinned = readFileSync(yamlFile, 'utf8');
    const stale = pinned
      .replace(`${repository}@${first.platforms.amd64!.manifest}`, `${repository}@sha256:${'0'.repeat(64)}`)
      .replace(`arm64: ${repository}@${first.platforms.arm64!.manifest}`, `arm64: ${repository}:v1`);
    writeFileSync(yamlFile, stale);

    const reports = await pinRegistry({ registryDir, client, check: true, profile: 'dev' });
    const status = Object.fromEntries(reports[0]!.findings.map((f) => [f.field, f.status]));
    expect(status).toEqual({ amd64: 'stale', arm64: 'tag', index: 'ok' });
    expect(pinProblems(reports, 'dev').map((f) => f.field)).toEqual(['amd64']);
    expect(await codeOf(pinRegistry({ registryDir, client, check: true, profile: 'staging' }))).toBe(
      'ERR_IMAGE_UNPINNED',
    );
    expect(readFileSync(yamlFile, 'utf8')).toBe(stale);

    const cli = await run('node', [join(REPO_ROOT, 'bin/worldloop.js'), 'pin', '--check'], {
      env: { ...process.env, WORLDLOOP_REGISTRY_DIR: registryDir },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((cli as { code: number }).code).toBe(1);
    expect((cli as { stderr: string }).stderr).toMatch(/^ERR_IMAGE_UNPINNED: .*refuses tags/);

    const fixed = await pinRegistry({ registryDir, client });
    expect(fixed[0]!.changed).toEqual(['amd64', 'arm64']);
    expect(readFileSync(yamlFile, 'utf8')).toBe(pinned);
  });
});
