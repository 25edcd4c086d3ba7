// Artifact inputs on the worker (src/contracts/artifact-inputs.ts): Admit resolves every {"$world": …}
// reference to the digest bound at its path, and Execute puts those exact bytes where the container reads
// them — `<workdir>/artifacts/<blake3>`, which the Docker adapter's read-only /work mount already shows at
// /work/artifacts/<blake3>, so no new mount (and no writable path) is added to the container.
import { chmod, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { findArtifactRefs, type InputArtifact } from '../src/contracts/artifact-inputs';
import { WorldloopError } from '../src/contracts/errors';
import { canonicalPath, type WorldStore } from '../src/world';

/** Admit: the digest of every referenced artifact; it must be bound, under artifacts/, and not quarantined. */
export async function resolveArtifactInputs(world: WorldStore, inputs: unknown): Promise<InputArtifact[]> {
  const resolved: InputArtifact[] = [];
  for (const ref of findArtifactRefs(inputs, 'submitted')) {
    const path = canonicalPath(ref.path, 'exact');
    if (!path.startsWith('world://artifacts/'))
      throw new WorldloopError(
        'ERR_INPUTS',
        `artifact reference at ${ref.pointer}: ${path} is not under world://artifacts/`,
      );
    const entry = await world.stat(path);
    if (!entry)
      throw new WorldloopError('ERR_INPUT_ARTIFACT_MISSING', `input ${ref.pointer} names ${path}, which is not bound`);
    const marker = await world.quarantineMarker(path);
    if (marker)
      throw new WorldloopError(
        'ERR_INPUT_ARTIFACT_QUARANTINED',
        `input ${ref.pointer} names ${path}, quarantined by run ${marker.execution_id}: ${marker.reason}`,
      );
    resolved.push({
      pointer: ref.pointer,
      path,
      blake3: entry.blake3,
      sha256: entry.sha256,
      size_bytes: entry.size_bytes,
    });
  }
  return resolved;
}

/** Execute: the admitted bytes, verified while copied, readable by the container user; idempotent. */
export async function materializeArtifactInputs(
  world: WorldStore,
  workdir: string,
  artifacts: readonly InputArtifact[],
): Promise<void> {
  if (artifacts.length === 0) return;
  const dir = join(workdir, 'artifacts');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  for (const artifact of artifacts) {
    const dest = join(dir, artifact.blake3);
    const present = await stat(dest).then(
      (s) => s.size === artifact.size_bytes,
      () => false,
    );
    if (!present) {
      const entry = await world.copyTo(artifact.path, dest, { overwrite: true });
      // A path is bound once and never rebound; a different digest here means the store was tampered with.
      if (entry.blake3 !== artifact.blake3)
        throw new WorldloopError(
          'ERR_DIGEST_MISMATCH',
          `${artifact.path} is bound to ${entry.blake3} now, but Admit resolved ${artifact.blake3}`,
        );
    }
    await chmod(dest, 0o444);
  }
}
