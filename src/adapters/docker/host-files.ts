// The host side of one execution's files. Layout (the caller owns <workdir>, stable per execution_id):
//   <workdir>/inputs.json     the inputs, mounted read-only at /work/inputs.json
//   <workdir>/config.json     non-secret processor config (optional)
//   <workdir>/out/            the only writable mount (/work/out), owned by the container user 65532
//   <workdir>/prepared.json   which container the files above were prepared for
//   <workdir>/result.json     the outcome, written before the container is removed; a retry returns it
//   <workdir>/engine-lost.json the engine lost sight of the running container (engine-stop.ts)
//   <workdir>/../secrets-<id> real mode only: 0700 folder of 0400 files, mounted read-only at /run/secrets
//
// The rest of /work is read-only inside the container, so a processor cannot forge result.json.
import { constants as fsc } from 'node:fs';
import { chmod, chown, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { WorldloopError } from '../../contracts/errors';
import type { InvokeArgs } from '../adapter';
import type { ProcessorFileRead } from './envelope';
import { writeFileAtomic } from '../../write-file-atomic';

export const CONTAINER_UID = 65532;
export const CONTAINER_USER = `${CONTAINER_UID}:${CONTAINER_UID}`;

export interface Layout {
  readonly workdir: string;
  readonly out: string;
  readonly inputs: string;
  readonly config: string;
  readonly prepared: string;
  readonly result: string;
  readonly engineLost: string;
  readonly secrets: string;
}

export function layoutOf(args: Pick<InvokeArgs, 'workdir' | 'execution_id'>): Layout {
  const w = args.workdir.replace(/\/+$/, '') || '/';
  return {
    workdir: w,
    out: join(w, 'out'),
    inputs: join(w, 'inputs.json'),
    config: join(w, 'config.json'),
    prepared: join(w, 'prepared.json'),
    result: join(w, 'result.json'),
    engineLost: join(w, 'engine-lost.json'),
    secrets: join(dirname(w), `secrets-${args.execution_id}`),
  };
}

/**
 * Reads a file the processor wrote. It never follows a symlink (a processor could point one at any host
 * file, and we read as root), refuses anything but a regular file, and never reads more than `maxBytes`
 * even if the file grows between the size check and the read.
 */
export async function readProcessorFile(path: string, maxBytes: number): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new Error(`${path} is a symlink`, { cause: err });
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    if (st.size > maxBytes) throw new Error(`${path} is larger than ${maxBytes} bytes`);
    // One byte more than the size seen: a file that grows while we read is refused, not read unbounded.
    const buf = Buffer.alloc(st.size + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > st.size) throw new Error(`${path} changed while it was being read`);
    }
    return buf.subarray(0, filled).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** A processor file for the envelope: its text, missing, or why it could not be read. */
export async function readForEnvelope(path: string, maxBytes: number): Promise<ProcessorFileRead> {
  try {
    const text = await readProcessorFile(path, maxBytes);
    return text === undefined ? { kind: 'missing' } : { kind: 'text', text };
  } catch (err) {
    return { kind: 'unreadable', reason: err instanceof Error ? err.message : String(err) };
  }
}

export interface HostFilesLogger {
  warn(o: object, msg?: string): void;
}

async function giveToContainerUser(path: string, fallbackMode: number, logger?: HostFilesLogger): Promise<void> {
  try {
    await chown(path, CONTAINER_UID, CONTAINER_UID);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    // Not root: we cannot hand the folder to uid 65532, so let everyone write it instead. Outputs are
    // still verified by Settle; only the ownership on this host is weaker.
    await chmod(path, fallbackMode);
    logger?.warn(
      { path },
      `cannot chown ${path} to ${CONTAINER_USER} (not root); made it mode ${fallbackMode.toString(8)} so the container user can write it — run the worker as root for strict ownership`,
    );
  }
}

/** Writes inputs, config, a fresh out/ and (real mode) secrets, then marks them as prepared for `containerId`. */
export async function prepareHostFiles(
  p: Layout,
  args: InvokeArgs,
  containerId: string,
  logger?: HostFilesLogger,
): Promise<void> {
  await mkdir(p.workdir, { recursive: true });
  // Readable by the container user, writable only by us: the container cannot touch result.json.
  await chmod(p.workdir, 0o755);
  await rm(p.out, { recursive: true, force: true });
  await mkdir(p.out, { mode: 0o755 });
  await giveToContainerUser(p.out, 0o777, logger);
  await writeFileAtomic(p.inputs, JSON.stringify(args.inputs), { mode: 0o644 });
  if (args.config) await writeFileAtomic(p.config, JSON.stringify(args.config), { mode: 0o644 });
  else await rm(p.config, { force: true });
  if (hasSecrets(args)) await writeSecrets(p.secrets, args.secrets);
  await writeFileAtomic(p.prepared, JSON.stringify({ container_id: containerId }), { mode: 0o644 });
}

export function hasSecrets(args: Pick<InvokeArgs, 'mode' | 'secrets'>): boolean {
  return args.mode === 'real' && Object.keys(args.secrets).length > 0;
}

async function writeSecrets(dir: string, secrets: Record<string, string>): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  try {
    await chown(dir, CONTAINER_UID, CONTAINER_UID);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if ((err as NodeJS.ErrnoException).code === 'EPERM') {
      throw new WorldloopError(
        'ERR_ADAPTER_UNAVAILABLE',
        `cannot hand secret files to the container user ${CONTAINER_USER} without root (chown ${dir}: EPERM); run the worker as root, or use an adapter that injects secrets itself`,
      );
    }
    throw err;
  }
  for (const [name, value] of Object.entries(secrets)) {
    const file = join(dir, name);
    await writeFile(file, value, { mode: 0o400, flag: 'wx' });
    await chown(file, CONTAINER_UID, CONTAINER_UID);
  }
  await chmod(dir, 0o500);
}

export async function removeSecrets(p: Layout): Promise<void> {
  await rm(p.secrets, { recursive: true, force: true });
}

const PreparedSchema = z.strictObject({ container_id: z.string() });

/** The container id the host files were last prepared for, if any. */
export async function preparedFor(p: Layout): Promise<string | undefined> {
  try {
    const parsed = PreparedSchema.safeParse(JSON.parse(await readFile(p.prepared, 'utf8')));
    return parsed.success ? parsed.data.container_id : undefined;
  } catch {
    return undefined;
  }
}
