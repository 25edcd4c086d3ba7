// Adoption checks the container's configuration, not only its name and label (issue 14, item 8).
import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import type { InvokeArgs } from '../../src/adapters/adapter';
import { adoptionMismatches, assertAdoptable } from '../../src/adapters/docker/adoption';
import { containerCreateOptions } from '../../src/adapters/docker/container-spec';
import { expectCode } from './helpers/expect-code';
import { SMALL_RUNTIME } from '../fixtures/small-runtime';

const IMAGE = `127.0.0.1:5000/a/b@sha256:${'ab'.repeat(32)}`;
const ARGS: InvokeArgs = {
  execution_id: '01a20c30-47c9-757d-a13d-b0db3d62b1d9',
  processor_ref: 'test/fixture@1',
  image: IMAGE,
  platform: 'amd64',
  mode: 'mock',
  inputs: {},
  write_prefix: 'world://artifacts/x/',
  runtime: SMALL_RUNTIME,
  secrets: {},
  env_fingerprint: 'adapter=local',
  workdir: '/state/runs/x/work',
};
const EXPECTED = containerCreateOptions(ARGS, IMAGE);

/** What the engine reports for a container created from EXPECTED, with `host`/`config` changes on top. */
function inspectOf(
  host: Record<string, unknown> = {},
  config: Record<string, unknown> = {},
  mounts?: { Destination: string }[],
): Dockerode.ContainerInspectInfo {
  return {
    Id: 'c0ffee'.repeat(10),
    Name: `/wl-${ARGS.execution_id}`,
    Config: { Image: IMAGE, User: EXPECTED.User, Cmd: EXPECTED.Cmd, Labels: EXPECTED.Labels, ...config },
    HostConfig: { ...EXPECTED.HostConfig, CapAdd: null, Devices: [], PidMode: '', IpcMode: 'private', ...host },
    Mounts: mounts ?? [{ Destination: '/work' }, { Destination: '/work/out' }],
  } as unknown as Dockerode.ContainerInspectInfo;
}

describe('adoptionMismatches', () => {
  it('adopts exactly what the adapter creates', () => {
    expect(adoptionMismatches(inspectOf(), EXPECTED, [IMAGE])).toEqual([]);
    expect(() => assertAdoptable(inspectOf(), EXPECTED, [IMAGE])).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, { Destination: string }[] | undefined]>([
    ['image', {}, { Image: `evil/image@sha256:${'cd'.repeat(32)}` }, undefined],
    ['user', {}, { User: '0:0' }, undefined],
    ['command', {}, { Cmd: ['sh', '-c', 'id'] }, undefined],
    ['privileged', { Privileged: true }, {}, undefined],
    ['read-only root', { ReadonlyRootfs: false }, {}, undefined],
    ['capabilities dropped', { CapDrop: [] }, {}, undefined],
    ['capabilities added', { CapAdd: ['SYS_ADMIN'] }, {}, undefined],
    ['security options', { SecurityOpt: ['seccomp=unconfined', 'no-new-privileges'] }, {}, undefined],
    ['network', { NetworkMode: 'host' }, {}, undefined],
    ['binds', { Binds: ['/:/work:rw'] }, {}, undefined],
    ['mounts', {}, {}, [{ Destination: '/work' }, { Destination: '/var/run/docker.sock' }]],
    ['tmpfs', { Tmpfs: { '/tmp': 'rw,exec' } }, {}, undefined],
    ['devices', { Devices: [{ PathOnHost: '/dev/kmsg' }] }, {}, undefined],
    ['PidMode', { PidMode: 'host' }, {}, undefined],
    ['memory limit', { Memory: 0 }, {}, undefined],
    ['pids limit', { PidsLimit: 0 }, {}, undefined],
  ])('refuses a different %s with ERR_ADOPTION_REFUSED', (what, host, config, mounts) => {
    const info = inspectOf(host, config, mounts);
    const found = adoptionMismatches(info, EXPECTED, [IMAGE]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${what}: `));
    const detail = expectCode('ERR_ADOPTION_REFUSED', () => assertAdoptable(info, EXPECTED, [IMAGE]));
    expect(detail).toContain(what);
  });

  it('accepts the same digest pulled from the mirror when it is listed', () => {
    const mirror = `127.0.0.1:5001/a/b@sha256:${'ab'.repeat(32)}`;
    expect(adoptionMismatches(inspectOf({}, { Image: mirror }), EXPECTED, [IMAGE, mirror])).toEqual([]);
  });
});
