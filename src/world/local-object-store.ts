// ObjectStore on a local directory — the embedded default (docs/architecture.md §11). Create-only writes go to a temp
// file in the destination directory, are fsynced, and are then published with link() (writeFileAtomic,
// exclusive), which fails with EEXIST when the name is taken. link() is atomic on POSIX file systems, so of N concurrent writers exactly
// one wins, and nobody (reader or loser) ever observes a partly written object. Temp names carry a `#`,
// which no key may contain, so listings never see them.
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { WorldloopError } from '../contracts/errors';
import { writeFileAtomic } from '../write-file-atomic';
import { validateKey, validatePrefix, type ContentCheck, type ObjectStore, type PutResult } from './object-store';

const KEY_NAME = /^[A-Za-z0-9._~%@=+-]{1,255}$/;

function isCode(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes((err as { code?: string }).code ?? '');
}

export class LocalObjectStore implements ObjectStore {
  readonly root: string;
  readonly description: string;
  private readonly knownDirs = new Set<string>();

  constructor(rootDir: string) {
    this.root = resolve(rootDir);
    this.description = `local:${this.root}`;
  }

  private pathOf(key: string): string {
    return join(this.root, ...validateKey(key).split('/'));
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      // A key whose parent is already an object (`a` stored, now `a/b`) cannot exist on a disk.
      if (isCode(err, 'EEXIST', 'ENOTDIR')) {
        throw new WorldloopError('ERR_INVARIANT', `object store: ${dir} is an object, not a folder`, { cause: err });
      }
      throw err;
    }
    this.knownDirs.add(dir);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.pathOf(key)));
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw err;
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return false;
      throw err;
    }
  }

  async putIfAbsent(key: string, bytes: Uint8Array): Promise<PutResult> {
    return this.publish(key, async (fh) => {
      await fh.writeFile(bytes);
    });
  }

  async putFileIfAbsent(key: string, srcPath: string, check?: ContentCheck): Promise<PutResult> {
    // A blob that is already there is not copied again (content-addressed keys make this the common case).
    if (await this.has(key)) return 'exists';
    return this.publish(key, async (fh) => {
      const src = createReadStream(srcPath, { highWaterMark: 1 << 20 });
      for await (const chunk of src as AsyncIterable<Buffer>) {
        check?.update(chunk);
        await fh.write(chunk);
      }
      check?.finish();
    });
  }

  /** Writes through `fill` into a temp file, fsyncs it, then links it to the key's name (create-only). */
  private async publish(key: string, fill: (fh: FileHandle) => Promise<void>): Promise<PutResult> {
    const finalPath = this.pathOf(key);
    await this.ensureDir(dirname(finalPath));
    try {
      await writeFileAtomic(finalPath, fill, { exclusive: true });
    } catch (err) {
      if (isCode(err, 'EEXIST')) return 'exists';
      throw err;
    }
    return 'created';
  }

  async list(prefix: string): Promise<string[]> {
    validatePrefix(prefix);
    const cut = prefix.lastIndexOf('/');
    const base = cut < 0 ? '' : prefix.slice(0, cut);
    const out: string[] = [];
    await this.walk(base, prefix, out);
    return out.sort();
  }

  private async walk(rel: string, prefix: string, out: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(rel === '' ? this.root : join(this.root, ...rel.split('/')), { withFileTypes: true });
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return;
      throw err;
    }
    for (const entry of entries) {
      if (!KEY_NAME.test(entry.name) || entry.name === '.' || entry.name === '..') continue;
      const key = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        // Descend only where keys below can still start with the prefix.
        const dirKey = `${key}/`;
        if (dirKey.startsWith(prefix) || prefix.startsWith(dirKey)) await this.walk(key, prefix, out);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        out.push(key);
      }
    }
  }

  async openRead(key: string): Promise<Readable | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(this.pathOf(key), 'r');
    } catch (err) {
      if (isCode(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw err;
    }
    return fh.createReadStream({ highWaterMark: 1 << 20 });
  }
}
