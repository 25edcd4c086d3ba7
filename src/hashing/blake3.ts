// BLAKE3 and SHA-256 digests, one-shot and streaming.
//
// Backends, best first (figures in docs/benchmarks.md, "Hashing"):
// - `napi`: @napi-rs/blake-hash, native SIMD; the control plane's backend.
// - `wasm`: hash-wasm, ≈20× faster than pure JS; used where the native addon is absent — processor
//   containers get this module bundled by esbuild with the native package marked external (Node 24,
//   amd64 and arm64). Its initialisation is asynchronous, so it becomes active once `initBlake3()` (or
//   any async function here) has awaited it.
// - `noble`: @noble/hashes, pure JS, synchronous from the first call; the floor so the sync API always
//   works, even before the WASM module is ready.
// All three are checked against the official BLAKE3 test vectors (tests/unit/hashing-blake3.test.ts).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { createBLAKE3, type IHasher } from 'hash-wasm';

export interface StreamingHash {
  update(chunk: Uint8Array): void;
  digestHex(): string;
}

export const BLAKE3_BACKENDS = ['napi', 'wasm', 'noble'] as const;
export type Blake3BackendName = (typeof BLAKE3_BACKENDS)[number];

interface Backend {
  readonly name: Blake3BackendName;
  oneShot(data: Uint8Array): string;
  streaming(): StreamingHash;
}

interface NapiBlake3Hasher {
  update(input: Uint8Array): unknown;
  digest(format: 'hex'): string;
}
interface NapiModule {
  blake3(input: Uint8Array): Uint8Array;
  Blake3Hasher: new () => NapiBlake3Hasher;
}

const toHex = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

function loadNapi(): Backend | undefined {
  try {
    // createRequire keeps esbuild from inlining the addon and lets a missing package be a soft failure.
    const mod = createRequire(import.meta.url)('@napi-rs/blake-hash') as NapiModule;
    if (typeof mod.blake3 !== 'function' || typeof mod.Blake3Hasher !== 'function') return undefined;
    return {
      name: 'napi',
      oneShot: (data) => toHex(mod.blake3(data)),
      streaming: () => {
        const h = new mod.Blake3Hasher();
        return {
          update: (chunk) => void h.update(chunk),
          digestHex: () => h.digest('hex'),
        };
      },
    };
  } catch {
    return undefined;
  }
}

const nobleBackend: Backend = {
  name: 'noble',
  oneShot: (data) => toHex(nobleBlake3(data)),
  streaming: () => {
    const h = nobleBlake3.create();
    return { update: (chunk) => void h.update(chunk), digestHex: () => toHex(h.digest()) };
  },
};

/**
 * One WASM instance serves every hash: each streaming hash keeps its own saved state and loads it around
 * each update, so many streams can be open at once while the API stays synchronous.
 */
function wasmBackend(hasher: IHasher): Backend {
  return {
    name: 'wasm',
    oneShot: (data) => {
      hasher.init();
      hasher.update(data);
      return hasher.digest('hex');
    },
    streaming: () => {
      hasher.init();
      let state: Uint8Array | undefined = hasher.save();
      return {
        update: (chunk) => {
          if (!state) throw new Error('BLAKE3 stream used after digestHex()');
          hasher.load(state);
          hasher.update(chunk);
          state = hasher.save();
        },
        digestHex: () => {
          if (!state) throw new Error('BLAKE3 stream used after digestHex()');
          hasher.load(state);
          state = undefined;
          return hasher.digest('hex');
        },
      };
    },
  };
}

let napi: Backend | null | undefined; // undefined = not tried yet, null = absent
let wasm: Backend | undefined;
let wasmLoading: Promise<Backend | undefined> | undefined;

function napiBackend(): Backend | undefined {
  if (napi === undefined) napi = loadNapi() ?? null;
  return napi ?? undefined;
}

function loadWasm(): Promise<Backend | undefined> {
  wasmLoading ??= createBLAKE3().then(
    (h) => (wasm = wasmBackend(h)),
    () => undefined, // no WebAssembly here: noble stays the floor
  );
  return wasmLoading;
}

function active(): Backend {
  const n = napiBackend();
  if (n) return n;
  if (wasm) return wasm;
  void loadWasm();
  return nobleBackend;
}

/** Loads the best available backend and returns its name; awaiting it makes the sync API use WASM too. */
export async function initBlake3(): Promise<Blake3BackendName> {
  if (!napiBackend()) await loadWasm();
  return active().name;
}

/** Which backend the synchronous functions use right now. */
export function blake3Backend(): Blake3BackendName {
  return active().name;
}

/** A specific backend, for tests and the benchmark; undefined when it cannot load here. */
export async function blake3BackendByName(
  name: Blake3BackendName,
): Promise<{ oneShot(data: Uint8Array): string; streaming(): StreamingHash } | undefined> {
  switch (name) {
    case 'napi':
      return napiBackend();
    case 'wasm':
      return loadWasm();
    case 'noble':
      return nobleBackend;
  }
}

const asBytes = (data: Uint8Array | string): Uint8Array =>
  typeof data === 'string' ? new TextEncoder().encode(data) : data;

/** BLAKE3 (32-byte default output) as 64 lowercase hex characters; strings are hashed as UTF-8. */
export function blake3Hex(data: Uint8Array | string): string {
  return active().oneShot(asBytes(data));
}

export function createBlake3(): StreamingHash {
  return active().streaming();
}

export function createSha256(): StreamingHash {
  const h = createHash('sha256');
  return { update: (chunk) => void h.update(chunk), digestHex: () => h.digest('hex') };
}

/** Both content digests of a file in one streaming read pass (docs/architecture.md §5: BLAKE3 and SHA-256 beside it). */
export async function hashFile(path: string): Promise<{ blake3: string; sha256: string; size_bytes: number }> {
  await initBlake3();
  const b3 = createBlake3();
  const sha = createSha256();
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const bytes = chunk as Buffer;
    b3.update(bytes);
    sha.update(bytes);
    size += bytes.byteLength;
  }
  return { blake3: b3.digestHex(), sha256: sha.digestHex(), size_bytes: size };
}

export async function blake3File(path: string): Promise<string> {
  await initBlake3();
  const b3 = createBlake3();
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) b3.update(chunk as Buffer);
  return b3.digestHex();
}
