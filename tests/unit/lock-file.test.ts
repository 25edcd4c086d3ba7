import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pidAlive, readPid, withLockFile } from '../../src/lock-file';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wl-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const opts = {
  timeoutMs: 300,
  staleMs: 60_000,
  timeoutError: (holder: number | undefined) => new Error(`held by ${holder}`),
};

describe('withLockFile', () => {
  it('holds the lock with our pid while fn runs and removes it afterwards', async () => {
    const lock = join(dir, 'a.lock');
    const seen = await withLockFile(lock, () => readFile(lock, 'utf8'), opts);
    expect(seen).toBe(`${process.pid}\n`);
    expect(await readPid(lock)).toBeUndefined();
  });

  it('removes the lock when fn throws', async () => {
    const lock = join(dir, 'b.lock');
    await expect(withLockFile(lock, () => Promise.reject(new Error('boom')), opts)).rejects.toThrow('boom');
    await expect(readFile(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes over a lock whose holder is dead', async () => {
    const lock = join(dir, 'c.lock');
    await writeFile(lock, '2147483646\n'); // no such pid
    expect(pidAlive(2147483646)).toBe(false);
    await expect(withLockFile(lock, () => Promise.resolve('ran'), opts)).resolves.toBe('ran');
  });

  it('waits for a live holder and then throws the caller’s timeout error', async () => {
    const lock = join(dir, 'd.lock');
    await writeFile(lock, `${process.pid}\n`);
    await expect(withLockFile(lock, () => Promise.resolve('ran'), opts)).rejects.toThrow(`held by ${process.pid}`);
    expect(await readPid(lock)).toBe(process.pid);
  });

  it('takes over a live holder’s lock once it is older than staleMs', async () => {
    const lock = join(dir, 'e.lock');
    await writeFile(lock, `${process.pid}\n`);
    const old = new Date(Date.now() - 120_000);
    await utimes(lock, old, old);
    await expect(withLockFile(lock, () => Promise.resolve('ran'), opts)).resolves.toBe('ran');
  });

  it('gives an empty lock (holder between open and write) a grace period, then takes it over', async () => {
    const fresh = join(dir, 'f.lock');
    await writeFile(fresh, '');
    await expect(withLockFile(fresh, () => Promise.resolve('ran'), opts)).rejects.toThrow('held by undefined');
    const old = new Date(Date.now() - 10_000);
    await utimes(fresh, old, old);
    await expect(withLockFile(fresh, () => Promise.resolve('ran'), opts)).resolves.toBe('ran');
  });
});
