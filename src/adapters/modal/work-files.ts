// What the prepare step puts under /work in the sandbox: the same files the local adapter shows the container
// through its read-only /work mount (src/adapters/docker/host-files.ts), built on the host before any sandbox
// exists, so a refusal (a missing or altered artifact) creates nothing on Modal.
//
//   /work/inputs.json, /work/config.json   the (bound) inputs and the non-secret config, as JSON text
//   /work/artifacts/<blake3>                the input artifacts Execute materialised in <workdir>/artifacts/
//                                           (ADR 0011), re-hashed here and again by the kit in the sandbox
//   /work/secrets/<NAME>                    real mode only: written inside the sandbox from the environment
//                                           Modal gives the prepare command alone (ADR 0018) — names travel
//                                           in the payload, values never do
//
// The payload on the prepare command's stdin is one line of JSON (the spec) and then the artifact bytes,
// back to back in the spec's order.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findArtifactRefs } from '../../contracts/artifact-inputs';
import { WorldloopError } from '../../contracts/errors';
import { blake3Hex, initBlake3 } from '../../hashing/blake3';
import type { InvokeArgs } from '../adapter';

export const SANDBOX_WORK_DIR = '/work';
export const SANDBOX_OUT_DIR = '/work/out';
export const SANDBOX_ARTIFACTS_DIR = '/work/artifacts';
/** The kit's WORK_SECRETS_DIR beside /work/inputs.json (src/processor-kit/run-processor.ts). */
export const SANDBOX_SECRETS_DIR = '/work/secrets';

export interface PrepareSpec {
  readonly dirs: readonly string[];
  /** [path, text], written 0644. */
  readonly files: readonly (readonly [string, string])[];
  /** [path, byte count], written 0444 from the bytes after the spec line. */
  readonly blobs: readonly (readonly [string, number])[];
  /** Secret names to write to `secretsDir` from the command's environment (0400 files in a 0700 folder). */
  readonly secrets: readonly string[];
  readonly secretsDir: string;
}

/** The verified bytes of every artifact the bound inputs name, by digest (each once). */
async function artifactBlobs(args: Pick<InvokeArgs, 'inputs' | 'workdir'>): Promise<Map<string, Buffer>> {
  const blobs = new Map<string, Buffer>();
  const refs = findArtifactRefs(args.inputs, 'bound');
  // The native or WASM backend for large artifacts; the pure-JS fallback is what loads without it.
  if (refs.length > 0) await initBlake3();
  for (const ref of refs) {
    const digest = ref.blake3!;
    if (blobs.has(digest)) continue;
    const file = join(args.workdir, 'artifacts', digest);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      throw new WorldloopError(
        'ERR_INPUT_ARTIFACT_MISSING',
        `input ${ref.pointer} (${ref.path}): ${file} is not there`,
      );
    }
    // The bytes sent are the bytes hashed: one read, so a file replaced meanwhile cannot slip through.
    const actual = blake3Hex(bytes);
    if (actual !== digest) {
      throw new WorldloopError(
        'ERR_DIGEST_MISMATCH',
        `input ${ref.pointer} (${ref.path}): ${file} has blake3 ${actual}`,
      );
    }
    blobs.set(digest, bytes);
  }
  return blobs;
}

/** The prepare command's stdin for this run. */
export async function preparePayload(
  args: Pick<InvokeArgs, 'inputs' | 'config' | 'workdir' | 'mode' | 'secrets'>,
): Promise<{ spec: PrepareSpec; bytes: Uint8Array }> {
  const files: [string, string][] = [[`${SANDBOX_WORK_DIR}/inputs.json`, JSON.stringify(args.inputs)]];
  if (args.config) files.push([`${SANDBOX_WORK_DIR}/config.json`, JSON.stringify(args.config)]);
  const artifacts = await artifactBlobs(args);
  const dirs = artifacts.size > 0 ? [SANDBOX_OUT_DIR, SANDBOX_ARTIFACTS_DIR] : [SANDBOX_OUT_DIR];
  const spec: PrepareSpec = {
    dirs,
    files,
    blobs: [...artifacts].map(([digest, bytes]) => [`${SANDBOX_ARTIFACTS_DIR}/${digest}`, bytes.length] as const),
    secrets: args.mode === 'real' ? Object.keys(args.secrets).sort() : [],
    secretsDir: SANDBOX_SECRETS_DIR,
  };
  const head = Buffer.from(`${JSON.stringify(spec)}\n`, 'utf8');
  return { spec, bytes: Buffer.concat([head, ...artifacts.values()]) };
}
