// The output tar unpacker of the Modal adapter (src/adapters/modal/output-tar.ts): real archives from GNU
// tar unpack byte for byte; every hostile entry is refused with its code and leaves nothing behind.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_OTHER_FILES, safeEntryName, unpackOutputTar } from '../../src/adapters/modal/output-tar';
import { codeOf } from './helpers/expect-code';

const LIMITS = { max_total_bytes: 1_000_000, max_files: 10, max_file_bytes: 100_000 };

interface Entry {
  name: string;
  type?: string;
  data?: Buffer | string;
  linkname?: string;
}

/** A ustar archive written field by field (independent of the code under test). */
function ustar(entries: Entry[], { end = true }: { end?: boolean } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write('0000644\0', 100, 'ascii');
    h.write('0000000\0', 108, 'ascii');
    h.write('0000000\0', 116, 'ascii');
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    h.write('00000000000\0', 136, 'ascii');
    h.write(e.type ?? '0', 156, 'ascii');
    if (e.linkname) h.write(e.linkname, 157, 100, 'utf8');
    h.write('ustar\0', 257, 'ascii');
    h.write('00', 263, 'ascii');
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  if (end) blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** Feeds `bytes` in uneven chunks, as a network stream would. */
async function* chunks(bytes: Buffer, size = 333): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'wl-modal-tar-'));
}

async function refuse(bytes: Buffer, limits = LIMITS): Promise<{ code: string | undefined; left: string[] }> {
  const parent = freshDir();
  const code = await codeOf(unpackOutputTar(chunks(bytes), join(parent, 'out'), limits));
  return { code, left: readdirSync(parent) };
}

describe('unpackOutputTar', () => {
  it('unpacks what GNU tar writes of an out folder, byte for byte', async () => {
    const src = freshDir();
    mkdirSync(join(src, 'outputs/deep/er'), { recursive: true });
    const blob = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    writeFileSync(join(src, 'outputs/stats.json'), '{"words":2}\n');
    writeFileSync(join(src, 'outputs/deep/er/blob.bin'), blob);
    writeFileSync(join(src, 'outputs/empty.txt'), '');
    writeFileSync(join(src, 'outputs.json'), '{"outputs":[]}');
    const long = `outputs/${'n'.repeat(120)}/${'m'.repeat(150)}.txt`; // needs a PAX path record
    mkdirSync(join(src, 'outputs', 'n'.repeat(120)));
    writeFileSync(join(src, long), 'long name');
    const tarBytes = execFileSync('tar', ['--format=pax', '-cf', '-', '-C', src, '.']);

    const dest = join(freshDir(), 'out');
    const summary = await unpackOutputTar(chunks(tarBytes, 1000), dest, LIMITS);
    expect(summary).toEqual({ outputFiles: 4, outputBytes: 12 + 70_000 + 9, otherFiles: 1 });
    expect(readFileSync(join(dest, 'outputs/stats.json'), 'utf8')).toBe('{"words":2}\n');
    expect(readFileSync(join(dest, 'outputs/deep/er/blob.bin')).equals(blob)).toBe(true);
    expect(readFileSync(join(dest, 'outputs/empty.txt'), 'utf8')).toBe('');
    expect(readFileSync(join(dest, long), 'utf8')).toBe('long name');
    expect(readFileSync(join(dest, 'outputs.json'), 'utf8')).toBe('{"outputs":[]}');
  });

  it.each([
    ['a symlink', [{ name: 'outputs/link', type: '2', linkname: '/etc/passwd' }]],
    ['a hard link', [{ name: 'outputs/hard', type: '1', linkname: 'outputs.json' }]],
    ['a character device', [{ name: 'outputs/tty', type: '3' }]],
    ['a block device', [{ name: 'outputs/sda', type: '4' }]],
    ['a FIFO', [{ name: 'outputs/pipe', type: '6' }]],
    ['an absolute name', [{ name: '/etc/cron.d/x', data: 'x' }]],
    ['a .. segment', [{ name: 'outputs/../../escape', data: 'x' }]],
    ['a leading ..', [{ name: '../escape', data: 'x' }]],
    ['an empty segment', [{ name: 'outputs//x', data: 'x' }]],
    ['a backslash', [{ name: 'outputs\\..\\x', data: 'x' }]],
    ['a GNU long name', [{ name: '././@LongLink', type: 'L', data: 'outputs/x' }]],
    [
      'a duplicate',
      [
        { name: 'outputs/a', data: '1' },
        { name: 'outputs/a', data: '2' },
      ],
    ],
    [
      'a file where a folder was',
      [
        { name: 'outputs/a', data: '1' },
        { name: 'outputs/a/b', data: '2' },
      ],
    ],
  ])('refuses %s with ERR_OUTPUT_INVALID and leaves nothing behind', async (_, entries) => {
    expect(await refuse(ustar([{ name: 'outputs.json', data: '{}' }, ...entries]))).toEqual({
      code: 'ERR_OUTPUT_INVALID',
      left: [],
    });
  });

  it('refuses a truncated archive, a missing end marker and a corrupt header', async () => {
    const good = ustar([{ name: 'outputs/a', data: 'x'.repeat(2000) }]);
    expect((await refuse(good.subarray(0, 1500))).code).toBe('ERR_OUTPUT_INVALID');
    expect((await refuse(ustar([{ name: 'outputs/a', data: 'x' }], { end: false }))).code).toBe('ERR_OUTPUT_INVALID');
    const corrupt = Buffer.from(good);
    corrupt[0] = 'p'.charCodeAt(0);
    expect(await refuse(corrupt)).toEqual({ code: 'ERR_OUTPUT_INVALID', left: [] });
  });

  it('holds outputs/ to max_files, max_total_bytes and every file to max_file_bytes (ERR_OUTPUT_TOO_LARGE)', async () => {
    const limits = { max_total_bytes: 100, max_files: 2, max_file_bytes: 60 };
    const ok = ustar([
      { name: 'outputs/a', data: 'x'.repeat(50) },
      { name: 'outputs/b', data: 'x'.repeat(50) },
      { name: 'outputs.json', data: 'y'.repeat(60) },
      { name: 'receipt.json', data: '{}' },
    ]);
    const dest = join(freshDir(), 'out');
    await expect(unpackOutputTar(chunks(ok), dest, limits)).resolves.toEqual({
      outputFiles: 2,
      outputBytes: 100,
      otherFiles: 2,
    });

    const cases: Entry[][] = [
      [
        { name: 'outputs/a', data: 'x' },
        { name: 'outputs/b', data: 'x' },
        { name: 'outputs/c', data: 'x' },
      ],
      [
        { name: 'outputs/a', data: 'x'.repeat(60) },
        { name: 'outputs/b', data: 'x'.repeat(41) },
      ],
      [{ name: 'outputs/a', data: 'x'.repeat(61) }],
      [{ name: 'outputs.json', data: 'x'.repeat(61) }],
      Array.from({ length: MAX_OTHER_FILES + 1 }, (_, i) => ({ name: `f${i}`, data: 'x' })),
    ];
    for (const entries of cases) {
      expect(await refuse(ustar(entries), limits)).toEqual({ code: 'ERR_OUTPUT_TOO_LARGE', left: [] });
    }
  });

  it('refuses to unpack over an existing destination', async () => {
    const parent = freshDir();
    mkdirSync(join(parent, 'out'));
    expect(await codeOf(unpackOutputTar(chunks(ustar([])), join(parent, 'out'), LIMITS))).toBe('ERR_OUTPUT_INVALID');
  });
});

describe('safeEntryName', () => {
  it('drops ./ prefixes and a trailing /, and names the root undefined', () => {
    expect(safeEntryName('./outputs/a.txt')).toBe('outputs/a.txt');
    expect(safeEntryName('././outputs/')).toBe('outputs');
    expect(safeEntryName('./')).toBeUndefined();
    expect(safeEntryName('.')).toBeUndefined();
  });
});
