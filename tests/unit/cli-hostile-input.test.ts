// Hostile command lines against EVERY command of the CLI (issue 13 item 3). The commands are enumerated
// from the commander program itself, so a command added later is covered without touching this file.
// Each case spawns `node bin/worldloop.js` like a user would, with a hard timeout, and asserts: a
// catalogue code, exit 1 or 2, and no stack-trace line. Nothing here reaches a real service: Temporal,
// Docker and the OCI registry point at closed loopback ports, and state and registry are private copies.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { buildProgram, main } from '../../src/cli/main';

const ROOT = join(import.meta.dirname, '../..');
// Generous: on a loaded 2-core machine one start-up of the CLI has taken 40 s; a hang still ends here.
const SPAWN_TIMEOUT_MS = 100_000;

const tmp = mkdtempSync(join(tmpdir(), 'wl-hostile-'));
const registryDir = join(tmp, 'registry');
cpSync(join(ROOT, 'registry'), registryDir, { recursive: true });
const stateDir = join(tmp, 'state');
mkdirSync(stateDir);
let states = 0;
/** A state folder of its own, to show that a refused run created nothing in it. */
function freshState(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = join(tmp, `state-${++states}`);
  mkdirSync(dir);
  return { dir, env: { WORLDLOOP_STATE_DIR: dir } };
}

const ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: tmp,
  WORLDLOOP_STATE_DIR: stateDir,
  WORLDLOOP_REGISTRY_DIR: registryDir,
  TEMPORAL_ADDRESS: '127.0.0.1:1',
  TEMPORAL_UI_URL: 'http://127.0.0.1:1',
  DOCKER_HOST: `unix://${join(tmp, 'no-docker.sock')}`,
  WORLDLOOP_OCI_REGISTRY: '127.0.0.1:1',
  WORLDLOOP_TASK_QUEUE: 'wl-hostile',
};

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs the CLI; `stdin` 'endless' streams zeros until the process stops reading or exits. */
function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: 'empty' | 'endless' } = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/worldloop.js'), ...args], {
      env: { ...ENV, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined); // EPIPE once the CLI stops reading
    if (opts.stdin === 'endless') {
      const zeros = Buffer.alloc(1 << 16);
      const pump = () => {
        while (!child.stdin.destroyed && child.stdin.write(zeros));
      };
      child.stdin.on('drain', pump);
      pump();
    } else child.stdin.end();
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, SPAWN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

const STACK_LINE = /^\s+at /m;

/** A refusal in the catalogue's form: exit 1 or 2, a code, no stack trace. Returns the code. */
function expectCodedRefusal(r: Outcome, json = r.stdout.startsWith('{"ok":false')): string {
  const shown = `exit ${r.code}\nstdout: ${r.stdout.slice(0, 600)}\nstderr: ${r.stderr.slice(0, 1200)}`;
  expect(r.timedOut, shown).toBe(false);
  expect([1, 2], shown).toContain(r.code);
  expect(r.stderr, shown).not.toMatch(STACK_LINE);
  expect(r.stdout, shown).not.toMatch(STACK_LINE);
  if (json) {
    const parsed = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as { ok: boolean; code: string };
    expect(parsed.ok, shown).toBe(false);
    expect(parsed.code, shown).toMatch(/^ERR_[A-Z0-9_]+$/);
    return parsed.code;
  }
  const match = /^(ERR_[A-Z0-9_]+): /m.exec(r.stderr);
  expect(match, shown).not.toBeNull();
  return match![1]!;
}

// ---- the commands, from the program itself -----------------------------------------------------------

interface Leaf {
  path: string[];
  positionals: { variadic: boolean }[];
  valueOptions: string[];
  json: boolean;
}

function leaves(command: Command, path: string[] = []): Leaf[] {
  if (command.commands.length === 0) {
    return [
      {
        path,
        positionals: command.registeredArguments.map((a) => ({ variadic: a.variadic })),
        valueOptions: command.options.filter((o) => o.required || o.optional).map((o) => o.long ?? o.short!),
        json: command.options.some((o) => o.long === '--json'),
      },
    ];
  }
  return command.commands.flatMap((c) => leaves(c, [...path, c.name()]));
}

const COMMANDS = leaves(buildProgram());

// Argument values a hostile or careless caller sends. Linux caps one argument at 128 KiB.
const HOSTILE: [string, string][] = [
  ['huge', `{"a":`.repeat(24_000)],
  ['deeply nested JSON', `${'['.repeat(30_000)}${']'.repeat(30_000)}`],
  // (no NUL: an argument cannot carry one)
  ['control characters', 'a\u0001b\u0007\u001b[2J\u007f\u202e\r\nnext line'],
  ['empty', ''],
  ['percent-encoded traversal', '%2e%2e/%ff%00/../../etc/passwd'],
  ['a lone surrogate (sent as U+FFFD)', 'x\ud800y'],
];

/** Every positional and every option that takes a value gets a hostile value; the pick rotates. */
function hostileArgs(leaf: Leaf, seed: number): { args: string[]; kinds: string[] } {
  const args: string[] = [];
  const kinds: string[] = [];
  let i = seed;
  const next = () => {
    const [kind, value] = HOSTILE[i++ % HOSTILE.length]!;
    kinds.push(kind);
    return value;
  };
  for (const p of leaf.positionals) args.push(...(p.variadic ? [next(), next()] : [next()]));
  for (const o of leaf.valueOptions) args.push(`${o}=${next()}`);
  // A command that takes nothing gets an argument it did not ask for.
  if (leaf.positionals.length === 0 && leaf.valueOptions.length === 0) args.push(next());
  return { args, kinds };
}

describe('the command list', () => {
  it('is read from the program and includes the commands of the loop', () => {
    const names = COMMANDS.map((c) => c.path.join(' '));
    expect(names).toEqual(expect.arrayContaining(['run', 'show', 'ls', 'worker', 'hash inputs', 'path canon']));
    expect(names.length).toBeGreaterThanOrEqual(25);
  });
});

describe('every command refuses an unknown flag with ERR_USAGE and exit 2', () => {
  // In-process through the CLI's own entry point (main), since commander rejects the flag before any
  // action runs: one spawn per command would only measure start-up time.
  it.each(COMMANDS.map((c) => [c.path.join(' '), c] as const))('%s', async (_name, leaf) => {
    for (const json of leaf.json ? [false, true] : [false]) {
      let stdout = '';
      let stderr = '';
      const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
      const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
      const before = process.exitCode;
      try {
        await main(['node', 'worldloop', ...leaf.path, '--no-such-flag-\u0007', ...(json ? ['--json'] : [])]);
        expect(expectCodedRefusal({ code: Number(process.exitCode), stdout, stderr, timedOut: false }, json)).toBe(
          'ERR_USAGE',
        );
        expect(process.exitCode).toBe(2);
      } finally {
        out.mockRestore();
        err.mockRestore();
        process.exitCode = before;
      }
    }
  });
});

describe.concurrent('every command refuses hostile values with a code, exit 1 or 2, and no stack trace', () => {
  COMMANDS.forEach((leaf, index) => {
    const { args, kinds } = hostileArgs(leaf, index);
    it(`${leaf.path.join(' ')}: ${[...new Set(kinds)].join(', ')}`, async () => {
      expectCodedRefusal(await cli([...leaf.path, ...args]));
    });
  });
});

// ---- inputs from files and streams -------------------------------------------------------------------

const files = join(tmp, 'files');
mkdirSync(files);
const file = (name: string, content: string | Buffer) => {
  writeFileSync(join(files, name), content);
  return join(files, name);
};
const DEEP = file('deep.json', `{"text":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
const TEN_MB = file('ten-mb.json', JSON.stringify({ text: 'x'.repeat(10 * 1024 * 1024) }));
const MIB_PLUS_1 = file('mib-plus-1.json', JSON.stringify({ text: 'x'.repeat(1024 * 1024 + 1) }));
const BAD_UTF8 = file('bad-utf8.json', Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
const PROTO = file('proto.json', '{"text":"hi","__proto__":{"polluted":true}}');
const NESTED_PROTO = file('nested-proto.json', '{"text":"hi","x":[{"__proto__":1}]}');

describe.concurrent('run --inputs: refused before anything is created, with ERR_INPUTS and exit 2', () => {
  it.each([
    ['100,000 levels of nesting', `@${DEEP}`, /nesting deeper than 512.*world/],
    ['a 10 MB file', `@${TEN_MB}`, /larger than 4194304 bytes.*world:\/\/artifacts/],
    ['1 MiB + 1 of text', `@${MIB_PLUS_1}`, /more than the 1048576 accepted.*world:\/\/artifacts/],
    ['invalid UTF-8', `@${BAD_UTF8}`, /not valid UTF-8/],
    ['a __proto__ member', `@${PROTO}`, /"__proto__" at \(root\) is not accepted/],
    ['a nested __proto__ member', `@${NESTED_PROTO}`, /"__proto__" at \/x\/0 is not accepted/],
    ['a missing file', `@${join(files, 'missing.json')}`, /ENOENT/],
    ['a directory', `@${files}`, /is a directory/],
    ['/dev/zero (endless)', '@/dev/zero', /larger than 4194304 bytes/],
    ['"@" alone', '@', /cannot read --inputs file ""/],
    ['duplicate member names', '{"text":"a","text":"b"}', /duplicate member name "text"/],
  ])('%s', async (_what, inputs, message) => {
    const state = freshState();
    const r = await cli(['run', 'text/stats@1', '--inputs', inputs], { env: state.env });
    expect(expectCodedRefusal(r)).toBe('ERR_INPUTS');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    // No plan was created, no workflow started: the state folder is still empty.
    expect(readdirSync(state.dir)).toEqual([]);
  });
});

describe.concurrent('hash commands stop reading at a bound', () => {
  it('hash inputs with endless stdin', async () => {
    const r = await cli(['hash', 'inputs'], { stdin: 'endless' });
    expect(expectCodedRefusal(r)).toBe('ERR_INPUTS');
    expect(r.stderr).toMatch(/stdin is larger than 4194304 bytes/);
  });
  it('hash inputs --file /dev/zero', async () => {
    expect(expectCodedRefusal(await cli(['hash', 'inputs', '--file', '/dev/zero']))).toBe('ERR_INPUTS');
  });
  it('hash file /dev/zero (not a regular file)', async () => {
    const r = await cli(['hash', 'file', '/dev/zero']);
    expect(expectCodedRefusal(r)).toBe('ERR_USAGE');
    expect(r.stderr).toMatch(/ENOTREG/);
  });
  it('hash inputs --file with 100,000 levels of nesting', async () => {
    const r = await cli(['hash', 'inputs', '--file', DEEP]);
    expect(expectCodedRefusal(r)).toBe('ERR_INPUTS');
    expect(r.stderr).toMatch(/nesting deeper than 512/);
  });
});

describe.concurrent('run: refusals that need no worker (issue 13 item 5)', () => {
  it('--adapter modal with no Modal credentials at all → ERR_ADAPTER_AUTH, exit 2, at once, before any network call', async () => {
    const state = freshState();
    // HOME is the test's own folder, so there is no ~/.modal.toml either.
    const r = await cli(['run', 'text/stats@1', '--inputs', '{"text":"x"}', '--adapter', 'modal'], { env: state.env });
    expect(expectCodedRefusal(r)).toBe('ERR_ADAPTER_AUTH');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no Modal credentials/);
    // Nothing connects (Temporal points at port 1 and would fail differently) and nothing is created.
    expect(readdirSync(state.dir)).toEqual([]);
  });
  it('--adapter that no worker of this build runs → ERR_USAGE, exit 2, at once', async () => {
    const state = freshState();
    const r = await cli(['run', 'text/stats@1', '--inputs', '{"text":"x"}', '--adapter', 'lambda'], { env: state.env });
    expect(expectCodedRefusal(r)).toBe('ERR_USAGE');
    expect(r.code).toBe(2);
    expect(readdirSync(state.dir)).toEqual([]);
  });
  it('CI=true with --mode real → ERR_CI_SAFETY, exit 1 (a policy refusal; ADR 0006), before anything', async () => {
    const state = freshState();
    const r = await cli(['run', 'text/stats@1', '--inputs', '{"text":"x"}', '--mode', 'real'], {
      env: { ...state.env, CI: 'true' },
    });
    expect(expectCodedRefusal(r)).toBe('ERR_CI_SAFETY');
    expect(r.code).toBe(1);
    expect(readdirSync(state.dir)).toEqual([]);
  });
  it('CI=true with WORLDLOOP_MODE=real and --json → the same refusal as JSON', async () => {
    const r = await cli(['run', 'text/stats@1', '--inputs', '{"text":"x"}', '--json'], {
      env: { CI: 'true', WORLDLOOP_MODE: 'real' },
    });
    expect(expectCodedRefusal(r, true)).toBe('ERR_CI_SAFETY');
    expect(r.code).toBe(1);
  });
});
