// Per-architecture base root filesystems, built WITHOUT emulation: Debian publishes every package for amd64
// and arm64, so we download the arm64 .debs on an amd64 machine (`dpkg --add-architecture arm64` once) and
// unpack them with `dpkg-deb -x`. No maintainer script runs (they would need the target CPU); the few
// things they would have produced that node needs — the CA bundle, users — we write ourselves. Node itself
// is not Debian's (bookworm has only Node 18): it is the official Node 24 build from the npm registry,
// integrity-pinned per architecture (node-runtime.ts), placed at /usr/bin/node.
//
// The layer is cached per architecture under ~/.cache/worldloop/base/, keyed by the Node runtime (version
// and integrity) and the sorted list of .deb file names (name_version_arch), so a security update in
// Debian or a new Node changes the key and rebuilds, and an unchanged set reuses the exact same layer bytes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorldloopError } from '../contracts/errors';
import { type Layer, type TarEntry, compareBytes, entriesFromDir, layerFromTar, sha256Hex, writeTar } from '../oci/tar';
import { writeFileAtomic } from '../write-file-atomic';
import {
  NODE_RUNTIME,
  type NodeRuntimePackage,
  fetchNodeRuntime,
  nodeRuntimeEntries,
  nodeRuntimeLabel,
} from './node-runtime';

const run = promisify(execFile);

export const ARCHES = ['amd64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

export function isArch(value: string): value is Arch {
  return (ARCHES as readonly string[]).includes(value);
}

/**
 * The packages whose closure becomes the base: what the official node binary links against (libc, libm,
 * libdl, libpthread from libc6; libstdc++; libgcc_s). ca-certificates is taken alone (see CLOSURE_STOP).
 */
export const BASE_PACKAGES = ['libc6', 'libstdc++6', 'libgcc-s1'] as const;
export const EXTRA_PACKAGES = ['ca-certificates'] as const;

/**
 * Packages we never follow into: they are pulled in by maintainer-script needs (dpkg, debconf, perl,
 * python for ca-certificates' update hook) or tooling node never calls. Skipping them keeps the base
 * small and free of interpreters a processor should not have.
 */
const CLOSURE_STOP = new Set([
  'dpkg',
  'debconf',
  'cdebconf',
  'debconf-2.0',
  'perl',
  'perl-base',
  'perl-modules-5.36',
  'install-info',
  'tar',
  'openssl',
  'python3',
  'python3-minimal',
  'python3.11',
  'python3.11-minimal',
  'readline-common',
  'mime-support',
  'media-types',
  'mailcap',
]);

/** Bumped when the rootfs recipe (excludes, generated files) changes, so cached layers are not reused. */
const RECIPE_VERSION = 'worldloop-base-v2';

export const NONROOT_UID = 65532;

export interface BasePackage {
  readonly name: string;
  readonly filename: string;
  readonly url: string;
  readonly size: number;
  readonly sha256: string;
}

export interface BaseLayer extends Layer {
  readonly arch: Arch;
  readonly key: string;
  readonly packages: readonly string[];
  /** the Node runtime in the layer, as nodeRuntimeLabel() names it */
  readonly node: string;
  readonly cached: boolean;
}

export function baseCacheDir(): string {
  return join(homedir(), '.cache', 'worldloop', 'base');
}

/** The per-machine tools folder next to the base cache; the CLI passes Config.toolsDir instead. */
function defaultToolsDir(): string {
  return join(homedir(), '.cache', 'worldloop', 'tools');
}

function stripArch(name: string): string {
  return name.replace(/:(amd64|arm64|all|any)$/, '');
}

/**
 * Parses `apt-cache depends --recurse` output into a graph and walks it from the roots, taking the first
 * alternative of an or-group and the first provider of a virtual package, and stopping at CLOSURE_STOP.
 */
export function closureFromDepends(output: string, roots: readonly string[], arch: Arch): string[] {
  const graph = new Map<string, string[][]>();
  const providers = new Map<string, string[]>();
  let current: string | undefined;
  let lastDep: { alts: string[]; open: boolean } | undefined;
  let virtualOf: string | undefined;
  for (const line of output.split('\n')) {
    if (line.length === 0) continue;
    if (!line.startsWith(' ')) {
      current = line.trim();
      if (!graph.has(current)) graph.set(current, []);
      lastDep = undefined;
      continue;
    }
    if (!current) continue;
    // `  Depends: x` or, for all but the last member of an or-group, ` |Depends: x`.
    const dep = /^ ( |\|)(?:Pre)?Depends: (.+)$/.exec(line);
    if (dep) {
      const target = dep[2]!.trim();
      const isVirtual = target.startsWith('<');
      const name = target.replace(/^<|>$/g, '');
      virtualOf = isVirtual ? name : undefined;
      if (lastDep?.open) lastDep.alts.push(name);
      else {
        lastDep = { alts: [name], open: false };
        graph.get(current)!.push(lastDep.alts);
      }
      lastDep.open = dep[1] === '|';
      continue;
    }
    if (/^ {4}\S/.test(line) && virtualOf) {
      const list = providers.get(virtualOf) ?? [];
      list.push(line.trim());
      providers.set(virtualOf, list);
      continue;
    }
    if (/^ {2}\S/.test(line)) virtualOf = undefined;
  }
  // Names are normalised to the target architecture: apt prints native packages without a suffix and
  // resolves the dependencies of arch-all packages (node-acorn…) to native names, which for a foreign
  // target must become name:<arch> whenever such a package exists; arch-all packages keep their plain name.
  const normalise = (raw: string): string | undefined => {
    const base = stripArch(raw);
    if (graph.has(`${base}:${arch}`)) return `${base}:${arch}`;
    if (graph.has(raw) && !raw.endsWith(':any')) return raw;
    if (graph.has(base)) return base;
    const provider = providers.get(raw)?.[0] ?? providers.get(base)?.[0] ?? providers.get(`${base}:${arch}`)?.[0];
    return provider && provider !== raw ? normalise(provider) : undefined;
  };
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = normalise(queue.shift()!);
    if (!name || seen.has(name) || CLOSURE_STOP.has(stripArch(name))) continue;
    seen.add(name);
    for (const alts of graph.get(name) ?? []) {
      const pick = alts.find((a) => !CLOSURE_STOP.has(stripArch(a))) ?? alts[0]!;
      queue.push(pick);
    }
  }
  return [...seen].filter((n) => !CLOSURE_STOP.has(stripArch(n))).sort(compareBytes);
}

// apt sees an empty dpkg status, so what the HOST has installed (e.g. a nodesource nodejs) never becomes
// the candidate: the base depends only on the Debian archive and its index.
let emptyStatus: string | undefined;
async function aptOptions(): Promise<string[]> {
  if (!emptyStatus) {
    const dir = await mkdtemp(join(tmpdir(), 'worldloop-apt-'));
    emptyStatus = join(dir, 'status');
    await writeFile(emptyStatus, '');
  }
  return ['-o', `Dir::State::status=${emptyStatus}`];
}

async function tool(cmd: string, args: string[], cwd?: string): Promise<string> {
  if (cmd === 'apt-get' || cmd === 'apt-cache') args = [...(await aptOptions()), ...args];
  try {
    const { stdout } = await run(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    const hint =
      e.code === 'ENOENT'
        ? `${cmd} not found: building base images needs Debian's apt and dpkg-deb`
        : (e.stderr ?? e.message).trim().split('\n').slice(-3).join(' | ');
    throw new WorldloopError('ERR_TOOLCHAIN', `${cmd} ${args.slice(0, 4).join(' ')}…: ${hint}`);
  }
}

/**
 * A fingerprint of apt's package indexes (names, sizes, mtimes): the resolution below depends on nothing
 * else, so it is cached under this key until the next `apt-get update` changes a list.
 */
async function aptListsFingerprint(arch: Arch): Promise<string | undefined> {
  const dir = '/var/lib/apt/lists';
  try {
    const names = (await readdir(dir))
      .filter((n) => n.includes('_Packages') || n.endsWith('Release'))
      .sort(compareBytes);
    const parts: string[] = [RECIPE_VERSION, arch];
    for (const n of names) {
      const st = await stat(join(dir, n));
      parts.push(`${n} ${st.size} ${st.mtimeMs}`);
    }
    return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);
  } catch {
    return undefined;
  }
}

/** Resolves the package set for an architecture and what apt would download (no download yet). */
export async function resolveBasePackages(arch: Arch, cacheDir: string = baseCacheDir()): Promise<BasePackage[]> {
  const fingerprint = await aptListsFingerprint(arch);
  const cacheFile = fingerprint ? join(cacheDir, `resolved-${arch}-${fingerprint}.json`) : undefined;
  if (cacheFile && existsSync(cacheFile)) {
    return JSON.parse(await readFile(cacheFile, 'utf8')) as BasePackage[];
  }
  const resolved = await resolveWithApt(arch);
  if (cacheFile) {
    await mkdir(cacheDir, { recursive: true });
    await writeAtomic(cacheFile, JSON.stringify(resolved));
  }
  return resolved;
}

async function resolveWithApt(arch: Arch): Promise<BasePackage[]> {
  const roots = BASE_PACKAGES.map((p) => `${p}:${arch}`);
  const depends = await tool('apt-cache', [
    'depends',
    '--recurse',
    '--no-recommends',
    '--no-suggests',
    '--no-conflicts',
    '--no-breaks',
    '--no-replaces',
    '--no-enhances',
    ...roots,
  ]);
  const closure = closureFromDepends(depends, roots, arch);
  // Arch-specific names keep their :arch; arch-all packages (node-acorn…) are asked for plainly.
  const names = [...closure, ...EXTRA_PACKAGES];
  const uris = await tool('apt-get', ['download', '--print-uris', ...names]);
  const packages: BasePackage[] = [];
  for (const line of uris.split('\n')) {
    const m = /^'([^']+)' (\S+) ([0-9]+) SHA256:([a-f0-9]{64})$/.exec(line.trim());
    if (!m) continue;
    const filename = m[2]!;
    const debArch = /_([a-z0-9]+)\.deb$/.exec(filename)?.[1];
    if (debArch !== 'all' && debArch !== arch) {
      throw new WorldloopError('ERR_TOOLCHAIN', `apt resolved ${filename} for ${arch}; expected ${arch} or all`);
    }
    packages.push({ name: filename.split('_')[0]!, filename, url: m[1]!, size: Number(m[3]), sha256: m[4]! });
  }
  const missing = BASE_PACKAGES.filter((name) => !packages.some((p) => p.name === name));
  if (missing.length > 0) {
    throw new WorldloopError(
      'ERR_TOOLCHAIN',
      `apt could not resolve ${missing.join(', ')} for ${arch}; run \`dpkg --add-architecture ${arch} && apt-get update\` (scripts/setup.sh does)`,
    );
  }
  return packages.sort((a, b) => compareBytes(a.filename, b.filename));
}

// Concurrent builds (tests, the CLI) share the cache: writeFileAtomic gives each its own temp file.
const writeAtomic = (file: string, data: string | Uint8Array): Promise<void> => writeFileAtomic(file, data);

/** `node<version>-<hash>`: the key names the Node it carries; the hash covers the runtime pin and the .debs. */
export function baseKey(packages: readonly BasePackage[], node: NodeRuntimePackage): string {
  const text = [RECIPE_VERSION, nodeRuntimeLabel(node), ...packages.map((p) => p.filename)].join('\n');
  return `node${node.version}-${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
}

async function download(packages: readonly BasePackage[], dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const missing: BasePackage[] = [];
  for (const p of packages) {
    const file = join(dir, p.filename);
    if (existsSync(file) && sha256Hex(await readFile(file)) === p.sha256) continue;
    missing.push(p);
  }
  if (missing.length > 0) {
    // apt-get names files with %-escaped epochs; it downloads into cwd.
    await tool('apt-get', ['download', '-qq', ...missing.map((p) => packageSpec(p))], dir);
  }
  for (const p of packages) {
    const file = join(dir, p.filename);
    const alt = join(dir, p.filename.replace(/:/g, '%3a'));
    if (!existsSync(file) && existsSync(alt)) await rename(alt, file);
    if (!existsSync(file)) throw new WorldloopError('ERR_TOOLCHAIN', `apt-get did not download ${p.filename}`);
    if (sha256Hex(await readFile(file)) !== p.sha256) {
      throw new WorldloopError('ERR_DIGEST_MISMATCH', `${p.filename} does not match the SHA256 apt published`);
    }
  }
}

function packageSpec(p: BasePackage): string {
  const [name, version, archDeb] = p.filename.replace(/\.deb$/, '').split('_') as [string, string, string];
  const v = decodeURIComponent(version);
  return archDeb === 'all' ? `${name}=${v}` : `${name}:${archDeb}=${v}`;
}

/** Docs, man pages and translations are dropped; copyright files stay (licences travel with binaries). */
function excluded(rel: string): boolean {
  if (rel.startsWith('usr/share/doc/')) {
    const parts = rel.split('/');
    return parts.length > 4 && parts[4] !== 'copyright';
  }
  return (
    rel === 'usr/share/man' ||
    rel === 'usr/share/info' ||
    rel === 'usr/share/lintian' ||
    rel === 'usr/share/locale' ||
    rel === 'usr/share/bug' ||
    rel === 'usr/share/gdb' ||
    rel === 'usr/share/bash-completion'
  );
}

/** Files the maintainer scripts would have produced, and the user every processor runs as. */
async function generatedEntries(root: string): Promise<TarEntry[]> {
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  const certs: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    if (!existsSync(dir)) return;
    for (const name of (await readdir(dir, { withFileTypes: true })).sort((a, b) => compareBytes(a.name, b.name))) {
      const full = join(dir, name.name);
      if (name.isDirectory()) await walk(full);
      else if (name.name.endsWith('.crt')) certs.push(await readFile(full, 'utf8'));
    }
  };
  await walk(join(root, 'usr/share/ca-certificates'));
  if (certs.length === 0) throw new WorldloopError('ERR_TOOLCHAIN', 'ca-certificates produced no certificates');
  const uid = NONROOT_UID;
  return [
    {
      type: 'file',
      path: 'etc/passwd',
      mode: 0o644,
      data: text(`root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${uid}:${uid}:nonroot:/work:/sbin/nologin\n`),
    },
    { type: 'file', path: 'etc/group', mode: 0o644, data: text(`root:x:0:\nnonroot:x:${uid}:\n`) },
    {
      type: 'file',
      path: 'etc/ssl/certs/ca-certificates.crt',
      mode: 0o644,
      data: text(certs.map((c) => c.trimEnd() + '\n').join('')),
    },
    { type: 'symlink', path: 'usr/lib/ssl/cert.pem', target: '/etc/ssl/certs/ca-certificates.crt' },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'work', mode: 0o777 },
    { type: 'dir', path: 'run', mode: 0o755 },
    { type: 'dir', path: 'run/secrets', mode: 0o755 },
    { type: 'dir', path: 'app', mode: 0o755 },
  ];
}

/** Merges generated entries over extracted ones and adds any parent directories that are missing. */
function mergeEntries(extracted: TarEntry[], generated: TarEntry[]): TarEntry[] {
  const byPath = new Map<string, TarEntry>();
  for (const e of extracted) byPath.set(e.path, e);
  for (const e of generated) byPath.set(e.path, e);
  for (const path of [...byPath.keys()]) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!byPath.has(dir)) byPath.set(dir, { type: 'dir', path: dir, mode: 0o755 });
    }
  }
  return [...byPath.values()];
}

/**
 * The base layer for one architecture: from the cache when the package set is unchanged, otherwise
 * downloaded, unpacked, tarred deterministically and cached.
 */
export async function buildBaseLayer(
  arch: Arch,
  opts: { cacheDir?: string; toolsDir?: string; log?: (line: string) => void } = {},
): Promise<BaseLayer> {
  const cacheDir = opts.cacheDir ?? baseCacheDir();
  const packages = await resolveBasePackages(arch, cacheDir);
  const nodePackage = NODE_RUNTIME[arch];
  const node = nodeRuntimeLabel(nodePackage);
  const key = baseKey(packages, nodePackage);
  const blobFile = join(cacheDir, `${arch}-${key}.tar.gz`);
  const metaFile = join(cacheDir, `${arch}-${key}.json`);
  const names = packages.map((p) => p.filename);
  if (existsSync(blobFile) && existsSync(metaFile)) {
    const meta = JSON.parse(await readFile(metaFile, 'utf8')) as { digest: string; diffId: string; size: number };
    const blob = new Uint8Array(await readFile(blobFile));
    // A cache entry is trusted only when its bytes still hash to what was recorded.
    if (`sha256:${sha256Hex(blob)}` === meta.digest) {
      return {
        digest: meta.digest,
        diffId: meta.diffId,
        size: meta.size,
        blob,
        arch,
        key,
        packages: names,
        node,
        cached: true,
      };
    }
  }
  opts.log?.(`base ${arch}: ${packages.length} packages and ${node}, building layer ${key}`);
  await download(packages, join(cacheDir, 'debs', arch));
  const runtime = await fetchNodeRuntime(nodePackage, { toolsDir: opts.toolsDir ?? defaultToolsDir(), log: opts.log });
  const work = await mkdtemp(join(tmpdir(), `worldloop-rootfs-${arch}-`));
  try {
    const root = join(work, 'rootfs');
    await mkdir(root);
    for (const p of packages) await tool('dpkg-deb', ['-x', join(cacheDir, 'debs', arch, p.filename), root]);
    const generated = [...(await generatedEntries(root)), ...nodeRuntimeEntries(runtime, nodePackage)];
    const entries = mergeEntries(await entriesFromDir(root, excluded), generated);
    const layer = layerFromTar(writeTar(entries));
    await mkdir(cacheDir, { recursive: true });
    await writeAtomic(blobFile, layer.blob);
    await writeAtomic(
      metaFile,
      `${JSON.stringify({ digest: layer.digest, diffId: layer.diffId, size: layer.size, arch, node, packages: names }, null, 2)}\n`,
    );
    return { ...layer, arch, key, packages: names, node, cached: false };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Unpacks a base layer into a folder (for checks such as running node under qemu with -L <root>). */
export async function unpackLayer(blobFile: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  await tool('tar', ['-xzf', blobFile, '-C', dest, '--no-same-owner']);
}
