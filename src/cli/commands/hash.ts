// `worldloop hash …`: the hashes of docs/architecture.md §5 on the command line, so anyone can recompute an
// inputs_hash or a content digest from a receipt without running the engine.
//
// `hash jcs` writes the canonical bytes and nothing else — no trailing newline — so that
// `worldloop hash jcs --file x.json | b3sum` gives the same value as `worldloop hash inputs --file x.json`.
import { open, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { WorldloopError } from '../../contracts/errors';
import { canonicalize, hashFile, inputsHash, parseJsonBytes } from '../../hashing/index';
import { MAX_INPUTS_TEXT_BYTES } from '../../contracts/inputs-limits';
import { action, printJson } from '../output';

interface SourceOptions {
  file?: string;
  json?: boolean;
}

// Inputs are refused beyond MAX_INPUTS_TEXT_BYTES anyway; other JSON documents get more room. Either way
// reading stops at the bound, so endless input (a pipe, /dev/zero) cannot hang or exhaust the process.
const MAX_JCS_TEXT_BYTES = 64 * 1024 * 1024;

async function readSource(file: string | undefined, limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  const take = (chunk: Buffer, from: string) => {
    total += chunk.length;
    if (total > limit) throw new WorldloopError('ERR_INPUTS', `${from} is larger than ${limit} bytes`);
    chunks.push(chunk);
  };
  if (file === undefined) {
    for await (const chunk of process.stdin) take(chunk as Buffer, 'stdin');
    return Buffer.concat(chunks);
  }
  let handle;
  try {
    handle = await open(file, 'r');
    if ((await handle.stat()).isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
  } catch (err) {
    await handle?.close();
    throw unreadable(file, err);
  }
  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20 })) take(chunk as Buffer, file);
  } catch (err) {
    if (err instanceof WorldloopError) throw err;
    throw unreadable(file, err);
  } finally {
    await handle.close().catch(() => undefined);
  }
  return Buffer.concat(chunks);
}

function unreadable(path: string, err: unknown): WorldloopError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new WorldloopError('ERR_USAGE', `cannot read ${JSON.stringify(path)}: ${code}`);
}

export function register(program: Command): void {
  const hash = program
    .command('hash')
    .description('Compute worldloop hashes: inputs_hash, RFC 8785 canonical JSON, file digests.');

  hash
    .command('inputs')
    .description('Print the inputs_hash of a JSON object: BLAKE3 of its RFC 8785 canonical UTF-8 bytes.')
    .option('--file <path>', 'read the JSON object from a file (default: stdin)')
    .option('--json', 'accepted for uniformity; the output is JSON either way')
    .addHelpText(
      'after',
      `
Examples:
  $ echo '{"b":[1,2],"a":"x"}' | worldloop hash inputs
  {"hash_schema":"jcs-blake3-v1","value":"8b6f3c8bc2104f3e49450175b47c4b9f2bbc9d127e683d66a5aa767995406579"}
  $ worldloop hash inputs --file inputs.json
  $ echo '[1,2]' | worldloop hash inputs      # exit 2
  ERR_INPUTS: inputs must be a JSON object, got an array
`,
    )
    .action(
      action(async (opts: SourceOptions) => {
        printJson(inputsHash(parseJsonBytes(await readSource(opts.file, MAX_INPUTS_TEXT_BYTES))));
      }),
    );

  hash
    .command('jcs')
    .description('Print the RFC 8785 canonical form of a JSON value: exactly those bytes, no trailing newline.')
    .option('--file <path>', 'read the JSON value from a file (default: stdin)')
    .option(
      '--allow-large-numbers',
      'plain RFC 8785: read every number as the nearest double instead of refusing literals a double cannot hold exactly (not for hashing)',
    )
    .option('--json', 'print {"jcs":"<canonical text>"} and a newline instead of the raw bytes')
    .addHelpText(
      'after',
      `
Examples:
  $ echo '{ "b": [1, 2.50], "a": "\\u00e9" }' | worldloop hash jcs
  {"a":"é","b":[1,2.5]}
  $ worldloop hash jcs --file inputs.json | b3sum     # same value as \`worldloop hash inputs\`
  $ echo '{"n": 1E30, "p": 4.50}' | worldloop hash jcs
  {"n":1e+30,"p":4.5}
  $ echo '{"n": 12345678901234567890}' | worldloop hash jcs          # exit 2: a double cannot hold it
  ERR_INPUTS: inexact number at "/n": 12345678901234567890 has more precision than a double holds (it would be read as 12345678901234567000); send it as a string
  $ echo '{"n": 12345678901234567890}' | worldloop hash jcs --allow-large-numbers
  {"n":12345678901234567000}
`,
    )
    .action(
      action(async (opts: SourceOptions & { allowLargeNumbers?: boolean }) => {
        const value = parseJsonBytes(await readSource(opts.file, MAX_JCS_TEXT_BYTES), {
          numbers: opts.allowLargeNumbers ? 'double' : 'exact',
        });
        const text = canonicalize(value);
        if (opts.json) printJson({ jcs: text });
        else process.stdout.write(text);
      }),
    );

  hash
    .command('file')
    .description('Print the BLAKE3 digest of a file (64 hex); --json adds SHA-256 and the size, from one read.')
    .argument('<path>', 'the file to hash')
    .option('--json', 'print {"path","blake3","sha256","size_bytes"}')
    .addHelpText(
      'after',
      `
Examples:
  $ printf '' > empty && worldloop hash file empty
  af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262
  $ worldloop hash file empty --json
  {"path":"empty","blake3":"af1349b9…3262","sha256":"e3b0c442…b855","size_bytes":0}
  $ worldloop hash file missing.bin     # exit 2
  ERR_USAGE: cannot read "missing.bin": ENOENT
`,
    )
    .action(
      action(async (path: string, opts: { json?: boolean }) => {
        let digests: Awaited<ReturnType<typeof hashFile>>;
        try {
          // A device or a pipe never ends (/dev/zero): only regular files have a digest worth printing.
          if (!(await stat(path)).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
          digests = await hashFile(path);
        } catch (err) {
          throw unreadable(path, err);
        }
        if (opts.json) printJson({ path, ...digests });
        else process.stdout.write(`${digests.blake3}\n`);
      }),
    );
}
