// The commands a Modal run executes inside its sandbox. Processor images have no shell and no tar, but they
// do have the node that runs the processor, so the two helper steps are small node programs given with
// `node -e` — something the real Modal runs exactly as the fake does:
//
//   1. keep-alive   the sandbox's own process: it only keeps the sandbox up while commands run in it.
//   2. prepare      reads its payload (work-files.ts) on stdin and writes /work/inputs.json (and config.json),
//                   the input artifacts under /work/artifacts/ and, in real mode, /work/secrets/<NAME>, so
//                   the processor gets the same `--inputs @/work/inputs.json` and the same files as under the
//                   local adapter (inputs up to 1 MiB do not fit on a command line).
//   3. processor    the image's entry point with the local adapter's argv, byte for byte.
//   4. collect      writes /work/out as a ustar archive (PAX `path` records for long names) to stdout, in
//                   binary mode. Symbolic links and special files are written as what they are, so the
//                   unpacker (output-tar.ts) refuses them by name instead of following them.
import { containerCreateOptions } from '../docker/container-spec';
import type { InvokeArgs } from '../adapter';
import { SANDBOX_OUT_DIR } from './work-files';

/** The processor images' entry point (src/build/image-builder.ts ENTRYPOINT; a unit test keeps them equal). */
export const PROCESSOR_ENTRYPOINT = ['/usr/bin/node', '/app/main.js'] as const;
const NODE = PROCESSOR_ENTRYPOINT[0];

export const KEEP_ALIVE_COMMAND: readonly string[] = [NODE, '-e', 'setInterval(() => {}, 1 << 30)'];

/** The prepare step's exit status when a named Modal secret lacks the key of its name (ADR 0018). */
export const PREPARE_MISSING_SECRET_EXIT = 3;

// stdin: one line of JSON (work-files.ts PrepareSpec), then the artifact bytes back to back. Secret values
// come from this command's own environment — Modal gives the named secrets to this command alone — and are
// written 0400 into a 0700 folder; the processor reads the files and never has them in its environment.
const PREPARE_SCRIPT = `
const fs = require('fs');
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const all = Buffer.concat(chunks);
  const nl = all.indexOf(10);
  const spec = JSON.parse(all.subarray(0, nl).toString('utf8'));
  for (const d of spec.dirs) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  for (const [p, text] of spec.files) fs.writeFileSync(p, text, { mode: 0o644, flag: 'wx' });
  let at = nl + 1;
  for (const [p, size] of spec.blobs) {
    fs.writeFileSync(p, all.subarray(at, at + size), { mode: 0o444, flag: 'wx' });
    at += size;
  }
  if (at !== all.length) throw new Error('prepare payload has ' + (all.length - at) + ' stray bytes');
  if (spec.secrets.length === 0) return;
  fs.mkdirSync(spec.secretsDir, { mode: 0o700 });
  for (const name of spec.secrets) {
    const value = process.env[name];
    if (value === undefined || value === '') {
      process.stderr.write('the environment has no ' + name + '\\n');
      process.exit(${PREPARE_MISSING_SECRET_EXIT});
    }
    fs.writeFileSync(spec.secretsDir + '/' + name, value, { mode: 0o400, flag: 'wx' });
  }
});
`;

export const PREPARE_COMMAND: readonly string[] = [NODE, '-e', PREPARE_SCRIPT];

/** The processor's command: the image's entry point and exactly the local adapter's argv. */
export function processorCommand(args: InvokeArgs): string[] {
  const argv = containerCreateOptions(args, args.image).Cmd;
  if (!Array.isArray(argv)) throw new Error('the local adapter gives no argv');
  return [...PROCESSOR_ENTRYPOINT, ...argv];
}

const COLLECT_SCRIPT = `
const fs = require('fs');
const root = process.argv[1];
const out = process.stdout;
const put = (b) => (out.write(b) ? Promise.resolve() : new Promise((r) => out.once('drain', r)));
const oct = (n, len) => n.toString(8).padStart(len - 1, '0') + '\\0';
function header(name, type, size, mode, link) {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(oct(mode, 8), 100);
  h.write(oct(0, 8), 108);
  h.write(oct(0, 8), 116);
  h.write(oct(size, 12), 124);
  h.write(oct(0, 12), 136);
  h.fill(' ', 148, 156);
  h.write(type, 156);
  h.write(link.slice(0, 100), 157, 100, 'utf8');
  h.write('ustar\\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\\0 ', 148);
  return h;
}
function paxRecord(key, value) {
  const body = ' ' + key + '=' + value + '\\n';
  let len = Buffer.byteLength(body);
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return len + body;
}
async function entry(name, type, size, mode, link) {
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(link) > 100) {
    const pax = Buffer.from(paxRecord('path', name) + (link ? paxRecord('linkpath', link) : ''));
    await put(header('PaxHeader', 'x', pax.length, 0o644, ''));
    await put(Buffer.concat([pax, Buffer.alloc((512 - (pax.length % 512)) % 512)]));
  }
  await put(header(name, type, size, mode, link));
}
async function walk(dir, rel) {
  for (const name of fs.readdirSync(dir).sort()) {
    const path = dir + '/' + name;
    const r = rel ? rel + '/' + name : name;
    const st = fs.lstatSync(path);
    if (st.isDirectory()) {
      await entry(r + '/', '5', 0, st.mode & 0o777, '');
      await walk(path, r);
    } else if (st.isFile()) {
      await entry(r, '0', st.size, st.mode & 0o777, '');
      const fd = fs.openSync(path, 'r');
      const buf = Buffer.alloc(65536);
      let left = st.size;
      while (left > 0) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, left), null);
        if (n === 0) throw new Error(r + ' shrank while it was read');
        await put(Buffer.from(buf.subarray(0, n)));
        left -= n;
      }
      fs.closeSync(fd);
      await put(Buffer.alloc((512 - (st.size % 512)) % 512));
    } else if (st.isSymbolicLink()) {
      await entry(r, '2', 0, 0o777, fs.readlinkSync(path));
    } else {
      await entry(r, '6', 0, st.mode & 0o777, '');
    }
  }
}
// No process.exit on success: it could cut off what is still queued for the pipe.
walk(root, '').then(
  () => put(Buffer.alloc(1024)),
  (err) => { process.stderr.write(String(err && err.message) + '\\n'); process.exitCode = 1; },
);
`;

/** Writes the tar of `dir` to stdout. */
export function collectCommand(dir = SANDBOX_OUT_DIR): string[] {
  return [NODE, '-e', COLLECT_SCRIPT, dir];
}
