// Where a runner's outputs land. A runner names files relative to the run (`outputs/…`); the kit refuses
// anything that could leave outputs/ or mean two things, writes the bytes, and builds outputs.json.
// Settle re-checks all of this from the outside (docs/architecture.md §2); refusing here gives the processor author
// a precise error instead of a quarantined run.
import { WorldloopError } from '../contracts/errors';
import { foldKey } from '../world/path-fold';
import type { OutputItem } from './types';

// Control characters and backslash (a separator on some disks). A literal % is fine: joinWorldPath
// encodes it, exactly as Settle does for the file name it finds on disk.
function hasBadChar(seg: string): boolean {
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c) return true;
  }
  return false;
}
const RESERVED = new Set(['.git', '.well-known', '.worldloop'].map(foldKey));

/** Throws ERR_OUTPUT_INVALID unless `relpath` is `outputs/<seg>/…` with plain, canonical segments. */
export function checkRelpath(relpath: unknown): string {
  const bad = (why: string): never => {
    throw new WorldloopError('ERR_OUTPUT_INVALID', `output ${JSON.stringify(String(relpath).slice(0, 200))}: ${why}`);
  };
  if (typeof relpath !== 'string') return bad('relpath is not a string');
  if (relpath.startsWith('/')) return bad('absolute paths are refused');
  const segments = relpath.split('/');
  if (segments[0] !== 'outputs' || segments.length < 2) return bad('must be under outputs/');
  for (const seg of segments.slice(1)) {
    if (seg === '') return bad('empty segment (// or a trailing /)');
    if (seg === '.' || seg === '..') return bad('dot segments are refused');
    if (hasBadChar(seg)) return bad('control characters and \\ are refused');
    if (RESERVED.has(foldKey(seg))) return bad(`reserved segment ${seg}`);
    if (seg.normalize('NFC') !== seg) return bad('segments must be Unicode NFC');
    if (new TextEncoder().encode(seg).length > 255) return bad('segment longer than 255 UTF-8 bytes');
  }
  return relpath;
}

export function checkOutputSet(items: readonly OutputItem[]): void {
  const seen = new Map<string, string>();
  for (const item of items) {
    const relpath = checkRelpath(item.relpath);
    // Case-insensitive disks cannot hold two names that differ only in case.
    const key = foldKey(relpath);
    const prior = seen.get(key);
    if (prior !== undefined) {
      throw new WorldloopError(
        'ERR_OUTPUT_DUPLICATE',
        `outputs ${JSON.stringify(prior)} and ${JSON.stringify(relpath)} name the same file`,
      );
    }
    // A file and a directory of the same name cannot both exist.
    for (const [otherKey, other] of seen) {
      if (otherKey.startsWith(`${key}/`) || key.startsWith(`${otherKey}/`)) {
        throw new WorldloopError(
          'ERR_OUTPUT_INVALID',
          `output ${JSON.stringify(relpath)} and ${JSON.stringify(other)}: one is a folder of the other`,
        );
      }
    }
    seen.set(key, relpath);
    if (typeof item.mime !== 'string' || !/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(;.*)?$/i.test(item.mime)) {
      throw new WorldloopError('ERR_OUTPUT_INVALID', `output ${JSON.stringify(relpath)}: mime type is not valid`);
    }
    if (typeof item.bytes !== 'string' && !(item.bytes instanceof Uint8Array)) {
      throw new WorldloopError(
        'ERR_OUTPUT_INVALID',
        `output ${JSON.stringify(relpath)}: bytes must be a string or Uint8Array`,
      );
    }
  }
}

/** Declared output globs from the registry: `*` within a segment, `**` across segments. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more whole segments; a bare `**` matches the rest.
      if (glob[i + 2] === '/') {
        re += '(?:[^/]+/)*';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`, 'u');
}

export function checkDeclared(items: readonly OutputItem[], declared: readonly string[]): void {
  const patterns = declared.map(globToRegExp);
  for (const item of items) {
    if (!patterns.some((p) => p.test(item.relpath))) {
      throw new WorldloopError(
        'ERR_OUTPUT_INVALID',
        `output ${JSON.stringify(item.relpath)} is not declared in the registry entry (outputs: ${declared.join(', ')})`,
      );
    }
  }
}
