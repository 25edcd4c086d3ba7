// The registry loader: every problem names its file, line and field; pins are digests of the entry's own
// repository; refs match file names; majors of one name share a file as a YAML list.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../../src/config';
import { WorldloopError } from '../../src/contracts/errors';
import type { RegistryEntry } from '../../src/contracts/schemas';
import {
  getEntry,
  getRecord,
  hostPlatform,
  imageDigest,
  loadRegistry,
  pinnedImage,
  validateRegistry,
  type RegistryProblem,
} from '../../src/registry/registry';

const D1 = 'a'.repeat(64);
const D2 = 'b'.repeat(64);
const REPO = '127.0.0.1:5000/worldloop/worldloop/demo-thing';

function entry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ref: 'demo/thing@1',
    description: 'A test processor.',
    image: { repository: REPO, platforms: {} },
    build: {
      context: 'processors/demo/thing/1',
      dockerfile: 'processors/demo/thing/1/Dockerfile',
      entry: 'processors/demo/thing/1/src/main.ts',
    },
    runtime: { cpu: 1, memory_mb: 128, timeout_s: 10, gpu: 'none', network: 'none', pids: 64 },
    secrets: { required: [], optional: [] },
    inputs: { type: 'object', properties: { text: { type: 'string' } } },
    outputs: ['outputs/result.json'],
    predicates: { admission: [], success: [] },
    cost: { reserve_micro: 0 },
    deterministic: true,
    ...overrides,
  };
}

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'wl-registry-'));
  dir = join(root, 'registry');
  await mkdir(join(dir, 'demo'), { recursive: true });
  for (const major of ['1', '2']) {
    await mkdir(join(root, 'processors/demo/thing', major, 'src'), { recursive: true });
    await writeFile(join(root, 'processors/demo/thing', major, 'Dockerfile'), 'FROM scratch\n');
    await writeFile(join(root, 'processors/demo/thing', major, 'src/main.ts'), '\n');
  }
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(rel: string, content: unknown): Promise<void> {
  await mkdir(join(dir, rel, '..'), { recursive: true });
  await writeFile(join(dir, rel), typeof content === 'string' ? content : stringify(content));
}

async function problems(): Promise<RegistryProblem[]> {
  return validateRegistry(dir);
}

describe('the repository registry', () => {
  it('is valid and holds both processors', async () => {
    expect(await validateRegistry(join(REPO_ROOT, 'registry'))).toEqual([]);
    const registry = await loadRegistry(join(REPO_ROOT, 'registry'));
    expect([...registry.keys()].sort()).toEqual(['llm/chat@1', 'text/stats@1']);
    const chat = getEntry(registry, 'llm/chat@1');
    expect(chat.secrets.required).toEqual(['OPENAI_API_KEY']);
    expect(chat.runtime.network).toBe('egress');
    expect(chat.deterministic).toBe(false);
    const stats = getEntry(registry, 'text/stats@1');
    expect(stats.deterministic).toBe(true);
    expect(stats.predicates.success.map((p) => p.kind)).toEqual(
      expect.arrayContaining(['json.schema_ok', 'outputs.count_between']),
    );
    expect(getRecord(registry, 'text/stats@1').file).toBe(join(REPO_ROOT, 'registry/text/stats.yaml'));
  });
});

describe('validateRegistry problems name file, line and field', () => {
  it('accepts a valid entry', async () => {
    await put('demo/thing.yaml', entry());
    expect(await problems()).toEqual([]);
  });

  it('reports a field of the wrong type with its line', async () => {
    await put('demo/thing.yaml', entry({ runtime: { cpu: 'two', memory_mb: 128, timeout_s: 10, network: 'none' } }));
    const p = await problems();
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ file: 'registry/demo/thing.yaml', field: 'runtime.cpu' });
    expect(p[0]!.message).toMatch(/expected number/);
    expect(p[0]!.line).toBeGreaterThan(1);
  });

  it('reports every unknown key as its own field', async () => {
    await put('demo/thing.yaml', entry({ image: { repository: REPO, tag: 'latest' }, colour: 'blue' }));
    const p = await problems();
    expect(p.map((x) => [x.field, x.message])).toEqual(
      expect.arrayContaining([
        ['image.tag', 'unknown field'],
        ['colour', 'unknown field'],
      ]),
    );
  });

  it.each([
    ['demo/thing', 'ref'],
    ['Demo/thing@1', 'ref'],
    ['demo/thing@0', 'ref'],
    ['demo/thing@v1', 'ref'],
  ])('refuses the ref %j', async (ref, field) => {
    await put('demo/thing.yaml', entry({ ref }));
    const p = await problems();
    expect(p[0]).toMatchObject({ file: 'registry/demo/thing.yaml', field });
    expect(p[0]!.message).toMatch(/ns\/name@major/);
  });

  it('refuses a ref that does not match the file name', async () => {
    await put('demo/thing.yaml', entry({ ref: 'demo/other@1' }));
    const p = await problems();
    expect(p).toEqual([
      expect.objectContaining({
        field: 'ref',
        message: 'demo/other@1 belongs in registry/demo/other.yaml, not registry/demo/thing.yaml',
      }),
    ]);
  });

  it('refuses files outside registry/<ns>/<name>.yaml', async () => {
    await put('thing.yaml', entry());
    await put('demo/Thing.yml', entry());
    const p = await problems();
    expect(p.map((x) => x.file).sort()).toEqual(['registry/demo/Thing.yml', 'registry/thing.yaml']);
    expect(p.every((x) => x.field === '(entry)' && /registry\/<ns>\/<name>\.yaml/.test(x.message))).toBe(true);
  });

  it('refuses a tag where a digest must be, and a pin of another repository', async () => {
    await put(
      'demo/thing.yaml',
      entry({
        image: {
          repository: REPO,
          platforms: { amd64: `${REPO}:latest`, arm64: `127.0.0.1:5000/other/repo/img@sha256:${D2}` },
          index: 'latest',
        },
      }),
    );
    const p = await problems();
    const byField = Object.fromEntries(p.map((x) => [x.field, x.message]));
    expect(byField['image.platforms.amd64']).toMatch(/is a tag; pins must be digests/);
    expect(byField['image.platforms.arm64']).toMatch(
      /names repository 127\.0\.0\.1:5000\/other\/repo\/img, not the entry's/,
    );
    expect(byField['image.index']).toMatch(/is not sha256:<64 hex>/);
    expect(p.every((x) => x.line !== null)).toBe(true);
  });

  it('refuses a repository that is not repo-scoped', async () => {
    await put('demo/thing.yaml', entry({ image: { repository: 'demo-thing' } }));
    expect((await problems())[0]).toMatchObject({
      field: 'image.repository',
      message: 'expected <registry>/<owner>/<repo>/<image>',
    });
  });

  it('refuses an input schema that does not compile, and a predicate schema that does not', async () => {
    await put(
      'demo/thing.yaml',
      entry({
        inputs: { type: 'objekt' },
        predicates: {
          success: [
            { kind: 'json.schema_ok', path: 'outputs/result.json', schema: { type: 'object', required: ['x'] } },
          ],
        },
      }),
    );
    const fields = (await problems()).map((x) => x.field);
    expect(fields).toEqual(['inputs', 'predicates.success[0].schema']);
  });

  it('refuses an unknown predicate kind and declared outputs outside outputs/', async () => {
    await put(
      'demo/thing.yaml',
      entry({ outputs: ['result.json'], predicates: { success: [{ kind: 'file.exists', path: 'x' }] } }),
    );
    const fields = (await problems()).map((x) => x.field);
    expect(fields).toContain('predicates.success[0].kind');
  });

  it('refuses build files that do not exist; loading for a run does not need the sources', async () => {
    await put(
      'demo/thing.yaml',
      entry({ build: { context: '.', dockerfile: 'nope/Dockerfile', entry: 'nope/main.ts' } }),
    );
    const p = await problems();
    expect(p.map((x) => [x.field, x.message])).toEqual([
      ['build.dockerfile', 'nope/Dockerfile does not exist'],
      ['build.entry', 'nope/main.ts does not exist'],
    ]);
    expect([...(await loadRegistry(dir)).keys()]).toEqual(['demo/thing@1']);
    const err = await loadRegistry(dir, { checkBuildFiles: true }).catch((e: unknown) => e);
    expect((err as WorldloopError).code).toBe('ERR_REGISTRY_INVALID');
  });

  it('reports YAML syntax errors with their line', async () => {
    await put('demo/thing.yaml', 'ref: demo/thing@1\nimage: [unclosed\n');
    const p = await problems();
    expect(p[0]).toMatchObject({ file: 'registry/demo/thing.yaml', field: '(yaml)' });
    expect(p[0]!.line).not.toBeNull();
  });

  it('refuses duplicate keys', async () => {
    await put('demo/thing.yaml', `${stringify(entry())}deterministic: false\n`);
    expect((await problems())[0]).toMatchObject({ field: '(yaml)' });
  });
});

describe('several majors in one file', () => {
  it('loads a YAML list of entries, one per major, and points problems at the list item', async () => {
    const two = entry({
      ref: 'demo/thing@2',
      build: {
        context: 'processors/demo/thing/2',
        dockerfile: 'processors/demo/thing/2/Dockerfile',
        entry: 'processors/demo/thing/2/src/main.ts',
      },
    });
    await put('demo/thing.yaml', [entry(), two]);
    const registry = await loadRegistry(dir);
    expect([...registry.keys()]).toEqual(['demo/thing@1', 'demo/thing@2']);
    expect(getRecord(registry, 'demo/thing@2').listIndex).toBe(1);

    await put('demo/thing.yaml', [
      entry(),
      { ...two, runtime: { cpu: 1, memory_mb: 1, timeout_s: 10, network: 'none' } },
    ]);
    expect((await problems())[0]).toMatchObject({ field: '[1].runtime.memory_mb' });

    await put('demo/thing.yaml', [entry(), entry()]);
    expect((await problems())[0]).toMatchObject({
      field: '[1].ref',
      message: 'demo/thing@1 is listed twice in this file',
    });
  });
});

describe('loadRegistry, getEntry, pinnedImage, hostPlatform', () => {
  it('throws ERR_REGISTRY_INVALID naming the file, line and field', async () => {
    await put('demo/thing.yaml', entry({ deterministic: 'yes' }));
    const err = await loadRegistry(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorldloopError);
    expect((err as WorldloopError).code).toBe('ERR_REGISTRY_INVALID');
    expect((err as WorldloopError).detail).toMatch(/^registry\/demo\/thing\.yaml:\d+ deterministic: /);
  });

  it('throws ERR_REGISTRY_INVALID for a missing folder', async () => {
    const err = await loadRegistry(join(root, 'missing')).catch((e: unknown) => e);
    expect((err as WorldloopError).code).toBe('ERR_REGISTRY_INVALID');
  });

  it('getEntry refuses unknown refs with ERR_UNKNOWN_PROCESSOR and lists known majors', async () => {
    await put('demo/thing.yaml', entry());
    const registry = await loadRegistry(dir);
    expect(() => getEntry(registry, 'demo/thing@2')).toThrow(/\[ERR_UNKNOWN_PROCESSOR\].*known majors: demo\/thing@1/);
    expect(() => getEntry(registry, 'nope')).toThrow(/\[ERR_UNKNOWN_PROCESSOR\].*expected ns\/name@major/);
  });

  it('pinnedImage returns the digest reference or refuses with ERR_IMAGE_UNPINNED', async () => {
    const pinned = `${REPO}@sha256:${D1}`;
    await put('demo/thing.yaml', entry({ image: { repository: REPO, platforms: { amd64: pinned } } }));
    const ok = getEntry(await loadRegistry(dir), 'demo/thing@1');
    expect(pinnedImage(ok, 'amd64')).toBe(pinned);
    expect(imageDigest(pinned)).toBe(`sha256:${D1}`);
    expect(() => pinnedImage(ok, 'arm64')).toThrow(/\[ERR_IMAGE_UNPINNED\] demo\/thing@1: no arm64 image is pinned/);
    const withTag = { ...ok, image: { ...ok.image, platforms: { amd64: `${REPO}:latest` } } } as RegistryEntry;
    expect(() => pinnedImage(withTag, 'amd64')).toThrow(/ERR_IMAGE_UNPINNED.*is a tag/);
    const foreign = {
      ...ok,
      image: { ...ok.image, platforms: { amd64: `docker.io/library/node@sha256:${D1}` } },
    } as RegistryEntry;
    expect(() => pinnedImage(foreign, 'amd64')).toThrow(
      /ERR_IMAGE_UNPINNED.*names repository docker\.io\/library\/node/,
    );
    const short = { ...ok, image: { ...ok.image, platforms: { amd64: `${REPO}@sha256:abc` } } } as RegistryEntry;
    expect(() => pinnedImage(short, 'amd64')).toThrow(/ERR_IMAGE_UNPINNED/);
  });

  it('hostPlatform maps Node architectures to OCI platforms', () => {
    expect(hostPlatform('x64')).toBe('amd64');
    expect(hostPlatform('arm64')).toBe('arm64');
    expect(() => hostPlatform('riscv64')).toThrow(/ERR_PLATFORM_MISSING/);
    expect(['amd64', 'arm64']).toContain(hostPlatform());
  });
});

describe('worldloop registry (CLI)', () => {
  const cli = promisify(execFile);
  async function worldloop(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await cli(process.execPath, [join(REPO_ROOT, 'bin/worldloop.js'), ...args], {
        env: { ...process.env, WORLDLOOP_REGISTRY_DIR: dir, CI: '' },
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('validate points at file, line and field and exits 2; --json lists the problems', async () => {
    await put('demo/thing.yaml', entry({ runtime: { cpu: 1, memory_mb: 128, timeout_s: 'soon', network: 'none' } }));
    const text = await worldloop(['registry', 'validate']);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/^registry\/demo\/thing\.yaml:\d+ runtime\.timeout_s: /m);
    const json = await worldloop(['registry', 'validate', '--json']);
    expect(json.code).toBe(2);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; problems: RegistryProblem[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.problems[0]).toMatchObject({ file: 'registry/demo/thing.yaml', field: 'runtime.timeout_s' });
  });

  it('validate, ls and show succeed on a valid registry', async () => {
    await put('demo/thing.yaml', entry({ image: { repository: REPO, platforms: { amd64: `${REPO}@sha256:${D1}` } } }));
    const v = await worldloop(['registry', 'validate']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain('registry: 1 processor, no problems');
    const ls = JSON.parse((await worldloop(['registry', 'ls', '--json'])).stdout) as Record<string, unknown>[];
    expect(ls).toEqual([
      expect.objectContaining({ ref: 'demo/thing@1', amd64: `${REPO}@sha256:${D1}`, arm64: null, deterministic: true }),
    ]);
    const show = await worldloop(['registry', 'show', 'demo/thing@1', '--json']);
    expect(show.code).toBe(0);
    const shown = JSON.parse(show.stdout) as {
      file: string;
      pins: Record<string, { image: string | null; problem: string | null }>;
    };
    expect(shown.pins.arm64!.problem).toMatch(/no arm64 image is pinned/);
    const missing = await worldloop(['registry', 'show', 'demo/none@1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^ERR_UNKNOWN_PROCESSOR: /);
  });
});
