// writeFileAtomic against the real file system: replace and create-only publishing, streamed content,
// permissions, and that a failed write leaves neither a torn destination nor a temp file behind.
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/write-file-atomic';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wl-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes text and bytes, replacing an existing file, with the requested mode', async () => {
    const file = join(dir, 'a.json');
    await writeFileAtomic(file, '{"v":1}\n');
    await writeFileAtomic(file, new TextEncoder().encode('{"v":2}\n'), { mode: 0o600 });
    expect(await readFile(file, 'utf8')).toBe('{"v":2}\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['a.json']);
  });

  it('streams through a callback into the open temp file', async () => {
    const file = join(dir, 'streamed.bin');
    await writeFileAtomic(file, async (fh) => {
      await fh.write('one,');
      await fh.write('two');
    });
    expect(await readFile(file, 'utf8')).toBe('one,two');
  });

  it('exclusive: refuses an existing file with EEXIST and leaves it untouched', async () => {
    const file = join(dir, 'taken.txt');
    await writeFile(file, 'first');
    await expect(writeFileAtomic(file, 'second', { exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(file, 'utf8')).toBe('first');
    expect(await readdir(dir)).toEqual(['taken.txt']);
    await writeFileAtomic(join(dir, 'new.txt'), 'created', { exclusive: true });
    expect(await readFile(join(dir, 'new.txt'), 'utf8')).toBe('created');
  });

  it('a failing writer leaves the old file and no temp file', async () => {
    const file = join(dir, 'kept.txt');
    await writeFileAtomic(file, 'old');
    const boom = new Error('writer failed half way');
    await expect(
      writeFileAtomic(file, async (fh) => {
        await fh.write('half of the new');
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await readFile(file, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['kept.txt']);
  });

  it('fails when the folder does not exist (it never creates folders behind the caller)', async () => {
    await expect(writeFileAtomic(join(dir, 'missing', 'x.txt'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
