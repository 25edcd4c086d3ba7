// Adoption trusts more than a name (issue 14, item 8): a container named `wl-<id>` with the right label is
// adopted only when its configuration is what the adapter would have created. Anything else (a container
// planted by hand, or created by another version with weaker hardening) is refused with
// ERR_ADOPTION_REFUSED and left where it is — removing it could destroy someone's evidence.
import type Dockerode from 'dockerode';
import { WorldloopError } from '../../contracts/errors';
import { formatImageRef, type PinnedImageRef } from '../../oci/image-ref';
import type { InvokeArgs } from '../adapter';
import { containerCreateOptions } from './container-spec';
import type { DockerAdapterDeps } from './deps';
import { mirrorRef } from './engine';

type Inspect = Dockerode.ContainerInspectInfo;
type CreateOptions = Dockerode.ContainerCreateOptions;

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

const show = (v: unknown): string => JSON.stringify(v ?? null);

/**
 * Every way `info` differs from `expected` in what matters for isolation and for running the pinned
 * image; empty when the container may be adopted. `images` lists the references the adapter would have
 * run (the pin, or the same digest from the pull mirror).
 */
export function adoptionMismatches(info: Inspect, expected: CreateOptions, images: readonly string[]): string[] {
  const want = expected.HostConfig ?? {};
  // dockerode's inspect type lists only part of HostConfig; the engine returns all of it.
  const host = info.HostConfig as Inspect['HostConfig'] & {
    ReadonlyRootfs?: boolean;
    SecurityOpt?: string[] | null;
    CapAdd?: string[] | null;
    CapDrop?: string[] | null;
    Devices?: unknown[] | null;
    Tmpfs?: Record<string, string> | null;
    PidMode?: string;
    IpcMode?: string;
    UsernsMode?: string;
    Memory?: number;
    PidsLimit?: number | null;
  };
  const found: string[] = [];
  const check = (what: string, ok: boolean, got: unknown, wanted: unknown) => {
    if (!ok) found.push(`${what}: ${show(got)} (expected ${show(wanted)})`);
  };
  check('image', images.includes(info.Config.Image), info.Config.Image, images);
  check('user', info.Config.User === expected.User, info.Config.User, expected.User);
  check('command', show(info.Config.Cmd) === show(expected.Cmd), info.Config.Cmd, expected.Cmd);
  check('privileged', host.Privileged !== true, host.Privileged, false);
  check('read-only root', host.ReadonlyRootfs === true, host.ReadonlyRootfs, true);
  check('capabilities dropped', sameSet(host.CapDrop ?? [], want.CapDrop ?? []), host.CapDrop, want.CapDrop);
  check('capabilities added', (host.CapAdd ?? []).length === 0, host.CapAdd, []);
  check(
    'security options',
    sameSet(host.SecurityOpt ?? [], want.SecurityOpt ?? []),
    host.SecurityOpt,
    want.SecurityOpt,
  );
  check('network', host.NetworkMode === want.NetworkMode, host.NetworkMode, want.NetworkMode);
  check('binds', sameSet(host.Binds ?? [], want.Binds ?? []), host.Binds, want.Binds);
  const wantedTargets = (want.Binds ?? []).map((b) => b.split(':')[1] ?? '');
  const mounts = (info.Mounts ?? []).map((m) => m.Destination);
  check(
    'mounts',
    mounts.every((m) => wantedTargets.includes(m)),
    mounts,
    wantedTargets,
  );
  check('tmpfs', show(host.Tmpfs ?? {}) === show(want.Tmpfs ?? {}), host.Tmpfs, want.Tmpfs);
  check('devices', (host.Devices ?? []).length === 0, host.Devices, []);
  for (const mode of ['PidMode', 'IpcMode', 'UsernsMode'] as const) {
    check(mode, !host[mode] || host[mode] === 'private' || host[mode] === 'shareable', host[mode], 'private');
  }
  check('memory limit', host.Memory === want.Memory, host.Memory, want.Memory);
  check('pids limit', host.PidsLimit === want.PidsLimit, host.PidsLimit, want.PidsLimit);
  return found;
}

/** Throws ERR_ADOPTION_REFUSED naming every difference; touches nothing. */
export function assertAdoptable(info: Inspect, expected: CreateOptions, images: readonly string[]): void {
  const found = adoptionMismatches(info, expected, images);
  if (found.length === 0) return;
  throw new WorldloopError(
    'ERR_ADOPTION_REFUSED',
    `container ${info.Name.replace(/^\//, '')} (${info.Id.slice(0, 12)}) is not configured as this adapter creates it: ${found.join('; ')}`,
  );
}

/** `info` against what the adapter creates for `args`: throws ERR_ADOPTION_REFUSED, or in 'test' mode answers. */
export function checkAdoption(
  info: Inspect,
  args: InvokeArgs,
  image: PinnedImageRef,
  deps: Pick<DockerAdapterDeps, 'pullRegistry' | 'egressNetwork'>,
  mode: 'throw' | 'test',
): boolean {
  const images = [formatImageRef(image), mirrorRef(image, deps.pullRegistry)].filter(
    (r): r is string => r !== undefined,
  );
  const expected = containerCreateOptions(args, formatImageRef(image), deps.egressNetwork);
  if (mode === 'test') return adoptionMismatches(info, expected, images).length === 0;
  assertAdoptable(info, expected, images);
  return true;
}
