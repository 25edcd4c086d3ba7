// Unpacks the tar of `/work/out` that a Modal sandbox sends back into the execution's workdir (issue 8),
// refusing everything a hostile or broken processor could smuggle through an archive:
//
// Rule 1. Only regular files and directories. Symlinks, hard links, devices, FIFOs, GNU long names and
//         global PAX headers → ERR_OUTPUT_INVALID.
// Rule 2. Names are relative: absolute names, `..` segments, empty segments, backslashes and NUL →
//         ERR_OUTPUT_INVALID. A leading `./` is dropped (tar -C dir . writes it).
// Rule 3. Limits (runtime.outputs) are checked from each header *before* its data is written: files under
//         `outputs/` count toward max_files and max_total_bytes; every file, inside outputs/ or not (the
//         index, the receipt), is held to max_file_bytes; at most MAX_OTHER_FILES files outside outputs/.
//         Over a limit → ERR_OUTPUT_TOO_LARGE.
// Rule 4. Every header checksum is verified and the archive must end properly; a truncated or corrupt
//         stream → ERR_OUTPUT_INVALID.
// Rule 5. All or nothing: entries are written into a fresh sibling folder, created exclusively
//         (a duplicate name fails), and renamed to the destination only when the whole archive passed.
//
// Only ustar with POSIX PAX `path`/`size` records is read: that is what the adapter's own tar writer emits.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { WorldloopError } from '../../contracts/errors';
import type { Runtime } from '../../contracts/schemas';

export const MAX_OTHER_FILES = 16;
const BLOCK = 512;
const MAX_PAX_BYTES = 64 * 1024;

export interface UnpackSummary {
  /** Regular files under outputs/ and their total size. */
  readonly outputFiles: number;
  readonly outputBytes: number;
  readonly otherFiles: number;
}

function invalid(detail: string): WorldloopError {
  return new WorldloopError('ERR_OUTPUT_INVALID', `output tar: ${detail}`);
}

function tooLarge(detail: string): WorldloopError {
  return new WorldloopError('ERR_OUTPUT_TOO_LARGE', `output tar: ${detail}`);
}

/** A name that collides with an earlier entry (twice, or a file where a folder is needed) is refused. */
function clash(name: string): (err: NodeJS.ErrnoException) => never {
  return (err) => {
    if (err.code === 'EEXIST' || err.code === 'ENOTDIR' || err.code === 'EISDIR') {
      throw invalid(`${JSON.stringify(name.slice(0, 200))} collides with an earlier entry`);
    }
    throw err;
  };
}

/** Pulls exact byte counts out of a chunked stream. */
class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #buf: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /** Exactly n bytes, or undefined at a clean end of stream before the first byte. */
  async take(n: number): Promise<Buffer | undefined> {
    while (this.#buf.length < n && !this.#done) {
      const next = await this.#it.next();
      if (next.done) this.#done = true;
      else this.#buf = Buffer.concat([this.#buf, next.value]);
    }
    if (this.#buf.length === 0 && this.#done) return undefined;
    if (this.#buf.length < n) throw invalid('the archive ends in the middle of an entry');
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Streams n bytes to `sink` chunk by chunk, without holding them all. */
  async pipe(n: number, sink: (chunk: Buffer) => Promise<void>): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#buf.length === 0) {
        const next = await this.#it.next();
        if (next.done) throw invalid('the archive ends in the middle of a file');
        this.#buf = Buffer.from(next.value);
      }
      const piece = this.#buf.subarray(0, Math.min(left, this.#buf.length));
      this.#buf = this.#buf.subarray(piece.length);
      left -= piece.length;
      await sink(piece);
    }
  }
}

function cString(b: Buffer, start: number, len: number): string {
  const field = b.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? len : nul).toString('utf8');
}

function octal(b: Buffer, start: number, len: number, what: string): number {
  const field = b.subarray(start, start + len);
  if ((field[0]! & 0x80) !== 0) throw invalid(`base-256 ${what} fields are not accepted`);
  const text = cString(b, start, len).trim();
  if (!/^[0-7]*$/.test(text)) throw invalid(`${what} field is not octal`);
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === octal(header, 148, 8, 'checksum');
}

/** PAX records `<len> <key>=<value>\n`; only path and size are used. */
function parsePax(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = Number(data.subarray(pos, space).toString('ascii'));
    if (space === -1 || !Number.isInteger(len) || len <= 0 || pos + len > data.length) {
      throw invalid('malformed PAX record');
    }
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.path = value;
    else if (key === 'size') {
      if (!/^[0-9]+$/.test(value)) throw invalid('PAX size is not a number');
      out.size = Number(value);
    }
    pos += len;
  }
  return out;
}

/** Rule 2: the entry's relative path, or undefined for the archive root (`.` / `./`). */
export function safeEntryName(raw: string): string | undefined {
  let name = raw;
  while (name.startsWith('./')) name = name.slice(2);
  if (name === '' || name === '.') return undefined;
  if (name.endsWith('/')) name = name.slice(0, -1);
  if (raw.startsWith('/')) throw invalid(`absolute name ${JSON.stringify(raw.slice(0, 200))}`);
  if (/[\\\0]/.test(name)) throw invalid(`name with a backslash or NUL ${JSON.stringify(raw.slice(0, 200))}`);
  for (const seg of name.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') {
      throw invalid(`name with an empty, "." or ".." segment ${JSON.stringify(raw.slice(0, 200))}`);
    }
  }
  return name;
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'hard link',
  '2': 'symbolic link',
  '3': 'character device',
  '4': 'block device',
  '6': 'FIFO',
  '7': 'contiguous file',
  g: 'global PAX header',
  L: 'GNU long name',
  K: 'GNU long link name',
};

/** Unpacks `source` into `dest` (which must not exist yet) under Rules 1–5. */
export async function unpackOutputTar(
  source: AsyncIterable<Uint8Array>,
  dest: string,
  limits: Runtime['outputs'],
): Promise<UnpackSummary> {
  if (await stat(dest).catch(() => undefined)) throw invalid(`destination ${dest} already exists`);
  const staging = join(dirname(dest), `.${randomBytes(6).toString('hex')}.partial`);
  await mkdir(staging, { recursive: false, mode: 0o700 });
  try {
    const summary = await unpackInto(new ByteReader(source), staging, limits);
    await rename(staging, dest);
    return summary;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

async function unpackInto(reader: ByteReader, root: string, limits: Runtime['outputs']): Promise<UnpackSummary> {
  let outputFiles = 0;
  let outputBytes = 0;
  let otherFiles = 0;
  let pax: { path?: string; size?: number } = {};
  for (;;) {
    const header = await reader.take(BLOCK);
    if (header === undefined) throw invalid('the archive has no end-of-archive marker');
    if (header.every((b) => b === 0)) {
      const second = await reader.take(BLOCK);
      if (second === undefined || !second.every((b) => b === 0)) throw invalid('incomplete end-of-archive marker');
      return { outputFiles, outputBytes, otherFiles };
    }
    if (!checksumOk(header)) throw invalid('header checksum mismatch');
    if (cString(header, 257, 6) !== 'ustar') throw invalid('not a ustar archive');
    const type = String.fromCharCode(header[156]!);
    const size = pax.size ?? octal(header, 124, 12, 'size');
    const prefix = cString(header, 345, 155);
    const rawName = pax.path ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
    pax = {};
    const padded = Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'x') {
      if (size > MAX_PAX_BYTES) throw invalid('PAX header too large');
      const data = await reader.take(padded);
      if (data === undefined) throw invalid('the archive ends in a PAX header');
      pax = parsePax(data.subarray(0, size));
      continue;
    }
    const kind = TYPE_NAMES[type];
    if (kind !== undefined) throw invalid(`${kind} ${JSON.stringify(rawName.slice(0, 200))} is not a regular file`);
    const name = safeEntryName(rawName);

    if (type === '5') {
      if (size !== 0) throw invalid('directory entry with data');
      if (name !== undefined) await mkdir(join(root, name), { recursive: true, mode: 0o755 }).catch(clash(name));
      continue;
    }
    if (type !== '0' && type !== '\0') throw invalid(`unknown entry type ${JSON.stringify(type)}`);
    if (name === undefined) throw invalid('a file without a name');

    // Rule 3, from the header, before any byte is written.
    if (size > limits.max_file_bytes) {
      throw tooLarge(`${name} is ${size} bytes, over max_file_bytes ${limits.max_file_bytes}`);
    }
    if (name.startsWith('outputs/')) {
      outputFiles += 1;
      outputBytes += size;
      if (outputFiles > limits.max_files) throw tooLarge(`more than max_files ${limits.max_files} under outputs/`);
      if (outputBytes > limits.max_total_bytes) {
        throw tooLarge(`more than max_total_bytes ${limits.max_total_bytes} under outputs/`);
      }
    } else if (++otherFiles > MAX_OTHER_FILES) {
      throw tooLarge(`more than ${MAX_OTHER_FILES} files outside outputs/`);
    }

    const path = join(root, name);
    await mkdir(dirname(path), { recursive: true, mode: 0o755 }).catch(clash(name));
    const fh = await open(path, 'wx', 0o644).catch(clash(name));
    try {
      await reader.pipe(size, async (chunk) => {
        await fh.write(chunk);
      });
    } finally {
      await fh.close();
    }
    await reader.pipe(padded - size, () => Promise.resolve());
  }
}
