// The one atomic file write: a temp file in the destination's own folder, written and fsynced, then
// published by rename() (replace) or link() (create-only), then the folder fsynced so the new name itself
// survives a crash. Readers see the old file or the complete new one, never a torn one. Node built-ins
// only, so any layer that does I/O may use it (not src/contracts: that layer is pure).
import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface WriteFileAtomicOptions {
  /** Permission bits of the new file (default 0o644). */
  readonly mode?: number;
  /**
   * Create-only: fail with the platform's EEXIST error when the file already exists (publish by link())
   * instead of replacing it (rename()).
   */
  readonly exclusive?: boolean;
}

/** What to write: bytes, text (UTF-8), or a function that streams into the open temp file. */
export type AtomicContent = string | Uint8Array | ((file: FileHandle) => Promise<void>);

export async function writeFileAtomic(
  file: string,
  content: AtomicContent,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const dir = dirname(file);
  // Same folder as the destination: rename() and link() are atomic only within one file system. The name
  // is short (a destination name may already be 255 bytes) and carries a `#`, which no world-store key may
  // contain, so store listings never see a temp file.
  const tmp = join(dir, `.#wl-${process.pid}-${randomBytes(8).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', options.mode ?? 0o644);
  try {
    try {
      if (typeof content === 'function') await content(fh);
      else await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (options.exclusive) await link(tmp, file);
    else await rename(tmp, file);
    await syncDirectory(dir);
  } finally {
    // After rename() the temp name is gone (ENOENT, ignored); after link() or a failure it is removed here.
    await unlink(tmp).catch(() => undefined);
  }
}

/** Makes a new directory entry durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some file systems (and some CI overlays) refuse fsync on a directory; the data file itself is synced.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    await fh.close();
  }
}
