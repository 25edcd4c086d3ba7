// Deterministic tar layers: the same files give the same bytes on every machine with the same Node. We
// write the tar ourselves rather than call the host's tar, whose defaults (pax headers with atime/ctime,
// the builder's uid, mtimes) differ between versions. Rules: entries sorted by path (byte order), uid/gid
// 0 and empty owner names, mtime fixed (LAYER_MTIME), no pax headers (GNU long-name records only when a
// path does not fit ustar), and gzip at a fixed level with no file name and mtime 0 in its header.
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { WorldloopError } from '../contracts/errors';

/** 1970-01-01T00:00:00Z: the SOURCE_DATE_EPOCH of every layer and config we build. */
export const LAYER_MTIME = 0;
export const GZIP_LEVEL = 9;

export type TarEntry =
  | { readonly type: 'dir'; readonly path: string; readonly mode: number }
  | { readonly type: 'file'; readonly path: string; readonly mode: number; readonly data: Uint8Array }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string };

export interface Layer {
  /** gzip-compressed tar, what the registry stores */
  readonly blob: Uint8Array;
  /** sha256 of blob */
  readonly digest: string;
  /** sha256 of the uncompressed tar: the image config's rootfs.diff_ids entry */
  readonly diffId: string;
  readonly size: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width includes the trailing NUL
  const s = value.toString(8);
  if (s.length > width - 1) throw new WorldloopError('ERR_TOOLCHAIN', `tar field overflow: ${value}`);
  return s.padStart(width - 1, '0');
}

function header(name: string, type: string, size: number, mode: number, linkname: string): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    // ustar splits at a '/' into prefix (≤155) and name (≤100); the caller has checked that it fits.
    const cut = findSplit(name);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(LAYER_MTIME, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum placeholder
  h.write(type, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 'ascii');
  h.write(octal(0, 8), 329, 'ascii'); // devmajor
  h.write(octal(0, 8), 337, 'ascii'); // devminor
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${octal(sum, 7)}\u0000 `, 148, 'ascii');
  return h;
}

function findSplit(name: string): number {
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    if (Buffer.byteLength(name.slice(i + 1)) <= 100 && Buffer.byteLength(name.slice(0, i)) <= 155) return i;
  }
  return -1;
}

function fitsUstar(name: string): boolean {
  return Buffer.byteLength(name) <= 100 || findSplit(name) > 0;
}

function padded(data: Uint8Array): Buffer[] {
  const rest = data.byteLength % BLOCK;
  return rest === 0 ? [Buffer.from(data)] : [Buffer.from(data), Buffer.alloc(BLOCK - rest, 0)];
}

/** GNU long-name ('L') or long-link ('K') record preceding the real header. */
function longRecord(type: 'L' | 'K', value: string): Buffer[] {
  const data = Buffer.from(`${value}\u0000`, 'utf8');
  return [header('././@LongLink', type, data.byteLength, 0o644, ''), ...padded(data)];
}

export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Serialises entries (sorted here, not by the caller) into an uncompressed tar. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => compareBytes(a.path, b.path));
  const parts: Buffer[] = [];
  const seen = new Set<string>();
  for (const entry of sorted) {
    if (entry.path.startsWith('/') || entry.path.split('/').includes('..') || entry.path === '') {
      throw new WorldloopError('ERR_INVARIANT', `tar entry path must be relative and plain: ${entry.path}`);
    }
    if (seen.has(entry.path)) throw new WorldloopError('ERR_INVARIANT', `duplicate tar entry ${entry.path}`);
    seen.add(entry.path);
    const name = entry.type === 'dir' ? `${entry.path}/` : entry.path;
    const shortName = fitsUstar(name) ? name : name.slice(0, 100);
    if (!fitsUstar(name)) parts.push(...longRecord('L', name));
    switch (entry.type) {
      case 'dir':
        parts.push(header(shortName, '5', 0, entry.mode, ''));
        break;
      case 'file':
        parts.push(header(shortName, '0', entry.data.byteLength, entry.mode, ''), ...padded(entry.data));
        break;
      case 'symlink': {
        const long = Buffer.byteLength(entry.target) > 100;
        if (long) parts.push(...longRecord('K', entry.target));
        parts.push(header(shortName, '2', 0, 0o777, long ? entry.target.slice(0, 100) : entry.target));
        break;
      }
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** gzip with a fixed level; Node's gzip header carries no name and mtime 0, so the bytes are reproducible. */
export function layerFromTar(tar: Uint8Array): Layer {
  const blob = new Uint8Array(gzipSync(tar, { level: GZIP_LEVEL }));
  return { blob, digest: `sha256:${sha256Hex(blob)}`, diffId: `sha256:${sha256Hex(tar)}`, size: blob.byteLength };
}

/**
 * Reads a directory tree into tar entries: regular files, directories and symlinks, with their permission
 * bits; owners and times are dropped. Hard links become independent files (same bytes, larger layer, but
 * no dependence on inode order). Anything else (devices, sockets) is refused.
 */
export async function entriesFromDir(
  root: string,
  exclude: (relPath: string) => boolean = () => false,
): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort(compareBytes);
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      if (exclude(path)) continue;
      const full = join(root, path);
      const st = await lstat(full);
      if (st.isSymbolicLink()) out.push({ type: 'symlink', path, target: await readlink(full) });
      else if (st.isDirectory()) {
        out.push({ type: 'dir', path, mode: st.mode & 0o7777 });
        await walk(path);
      } else if (st.isFile()) out.push({ type: 'file', path, mode: st.mode & 0o7777, data: await readFile(full) });
      else throw new WorldloopError('ERR_TOOLCHAIN', `unsupported file type in layer source: ${full}`);
    }
  };
  await walk('');
  return out;
}
