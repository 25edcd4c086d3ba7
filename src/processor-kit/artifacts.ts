// Artifact inputs inside the container (src/contracts/artifact-inputs.ts). The inputs arrive bound — each
// {"$world": path, "blake3": digest} — and the bytes beside inputs.json under artifacts/<blake3> (the
// read-only /work mount). The kit checks every file against its digest before the processor runs, then
// hands the processor a local path: {"$world": path, "blake3": digest, "path": "/work/artifacts/<blake3>"}.
import { join } from 'node:path';
import { findArtifactRefs, replaceArtifactRefs, WORLD_REF_MEMBER } from '../contracts/artifact-inputs';
import { WorldloopError } from '../contracts/errors';
import { hashFile } from '../hashing/blake3';

/** What a processor receives for each artifact input. */
export interface ArtifactInput {
  readonly $world: string;
  readonly blake3: string;
  /** A local, read-only file holding exactly the bytes with that digest. */
  readonly path: string;
}

/** The inputs the processor sees: every bound reference with its verified local path. */
export async function localArtifactInputs(inputs: unknown, artifactsDir: string | undefined): Promise<unknown> {
  const refs = findArtifactRefs(inputs, 'bound');
  if (refs.length === 0) return inputs;
  if (artifactsDir === undefined)
    throw new WorldloopError(
      'ERR_USAGE',
      'artifact inputs need --inputs @<file>, with their bytes in artifacts/ beside it',
    );
  const paths = new Map<string, string>();
  for (const ref of refs) {
    const file = join(artifactsDir, ref.blake3!);
    let actual: string;
    try {
      actual = (await hashFile(file)).blake3;
    } catch {
      throw new WorldloopError(
        'ERR_INPUT_ARTIFACT_MISSING',
        `input ${ref.pointer} (${ref.path}): ${file} is not there`,
      );
    }
    if (actual !== ref.blake3)
      throw new WorldloopError(
        'ERR_DIGEST_MISMATCH',
        `input ${ref.pointer} (${ref.path}): ${file} has blake3 ${actual}`,
      );
    paths.set(ref.pointer, file);
  }
  return replaceArtifactRefs(inputs, refs, (r) => ({
    [WORLD_REF_MEMBER]: r.path,
    blake3: r.blake3,
    path: paths.get(r.pointer),
  }));
}
