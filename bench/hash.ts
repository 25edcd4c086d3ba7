// Hashing throughput: every BLAKE3 backend src/hashing can use, one-shot and streaming (1 MiB chunks,
// through our StreamingHash API, so the WASM save/load cost is included), and SHA-256 from node:crypto,
// all on the same 256 MiB of random bytes in one process. Prints a markdown table for docs/benchmarks.md.
//
//   npx tsx bench/hash.ts            # 256 MiB, 5 repetitions (3 for pure JS)
//   npx tsx bench/hash.ts --mib 64 --reps 3
import { randomFillSync } from 'node:crypto';
import { arch, cpus, loadavg, platform } from 'node:os';
import { parseArgs } from 'node:util';
import { BLAKE3_BACKENDS, blake3BackendByName, createSha256, type StreamingHash } from '../src/hashing/blake3';

const { values } = parseArgs({
  options: { mib: { type: 'string', default: '256' }, reps: { type: 'string', default: '5' } },
});
const MIB = Number(values.mib);
const REPS = Number(values.reps);
const CHUNK = 1 << 20;

interface Candidate {
  algorithm: string;
  backend: string;
  mode: 'one-shot' | 'streaming 1 MiB';
  reps: number;
  run(data: Uint8Array): string;
}

function streamAll(h: StreamingHash, data: Uint8Array): string {
  for (let off = 0; off < data.length; off += CHUNK) h.update(data.subarray(off, off + CHUNK));
  return h.digestHex();
}

const candidates: Candidate[] = [];
for (const name of BLAKE3_BACKENDS) {
  const b = await blake3BackendByName(name);
  if (!b) {
    console.error(`# backend ${name} is not available here; skipped`);
    continue;
  }
  // Pure JS runs ~50 MB/s: fewer repetitions keep the whole bench near a minute.
  const reps = name === 'noble' ? Math.min(REPS, 3) : REPS;
  candidates.push({ algorithm: 'BLAKE3', backend: name, mode: 'one-shot', reps, run: (d) => b.oneShot(d) });
  candidates.push({
    algorithm: 'BLAKE3',
    backend: name,
    mode: 'streaming 1 MiB',
    reps,
    run: (d) => streamAll(b.streaming(), d),
  });
}
candidates.push({
  algorithm: 'SHA-256',
  backend: 'node:crypto',
  mode: 'one-shot',
  reps: REPS,
  run: (d) => {
    const h = createSha256();
    h.update(d);
    return h.digestHex();
  },
});
candidates.push({
  algorithm: 'SHA-256',
  backend: 'node:crypto',
  mode: 'streaming 1 MiB',
  reps: REPS,
  run: (d) => streamAll(createSha256(), d),
});

const data = new Uint8Array(MIB * 1024 * 1024);
for (let off = 0; off < data.length; off += 1 << 16) randomFillSync(data, off, Math.min(1 << 16, data.length - off));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const loadBefore = loadavg()[0]!;
// Round-robin: repetition i of every candidate runs before repetition i+1 of any, so a burst of load
// from elsewhere on the machine hits all candidates alike and the ratios stay comparable.
const speeds = new Map<Candidate, number[]>(candidates.map((c) => [c, []]));
const digests = new Map<Candidate, string>();
for (const c of candidates) c.run(data.subarray(0, 4 * CHUNK)); // warm-up: JIT, WASM memory growth
for (let i = 0; i < REPS; i++) {
  for (const c of candidates) {
    if (i >= c.reps) continue;
    const t0 = process.hrtime.bigint();
    digests.set(c, c.run(data));
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    speeds.get(c)!.push(data.length / 1e6 / s);
  }
}
const results = candidates.map((c) => {
  console.error(
    `# ${c.algorithm} ${c.backend} ${c.mode}: ${speeds
      .get(c)!
      .map((x) => x.toFixed(0))
      .join(', ')} MB/s`,
  );
  return { c, mbps: median(speeds.get(c)!), digest: digests.get(c)! };
});

// Every BLAKE3 candidate must agree, or the figures compare different things.
const b3 = new Set(results.filter((r) => r.c.algorithm === 'BLAKE3').map((r) => r.digest));
const sha = new Set(results.filter((r) => r.c.algorithm === 'SHA-256').map((r) => r.digest));
if (b3.size !== 1 || sha.size !== 1) throw new Error('candidates disagree on the digest');

const loadAfter = loadavg()[0]!;
const fastest = Math.max(...results.map((r) => r.mbps));
const cpu = cpus();
console.log(
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ` +
    `${platform()}/${arch()}, Node ${process.version}; ${MIB} MiB of random bytes, median of ${REPS} runs (${Math.min(REPS, 3)} for noble); ` +
    `1-min load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after.`,
);
console.log('');
console.log('| algorithm | backend | mode | median MB/s | ratio to fastest |');
console.log('|---|---|---|---:|---:|');
for (const r of [...results].sort((a, b) => b.mbps - a.mbps)) {
  console.log(
    `| ${r.c.algorithm} | ${r.c.backend} | ${r.c.mode} | ${r.mbps.toFixed(0)} | ${(r.mbps / fastest).toFixed(3)} |`,
  );
}
