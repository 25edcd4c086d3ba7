// The local adapter's pure core: termination facts → canonical envelope, every branch, without Docker.
import { describe, expect, it } from 'vitest';
import { EnvelopeSchema } from '../../src/contracts/schemas';
import { costFromReceipt, envelopeFor, type TerminationFacts } from '../../src/adapters/docker/envelope';

const ID = '01a20c30-47c9-757d-a13d-b0db3d62b1d9';
const META = {
  env_fingerprint: 'adapter=local',
  image_digest: `sha256:${'ab'.repeat(32)}`,
  adapter: 'local' as const,
  mode: 'mock' as const,
  duration_ms: 12,
  cache_hit: false,
  cost_micro: 7,
};
const INDEX = JSON.stringify({
  outputs: [
    { path: 'outputs/b.txt', size_bytes: 1, blake3: 'b'.repeat(64), sha256: 'b'.repeat(64), mime: 'text/plain' },
    { path: 'outputs/a.txt', size_bytes: 1, blake3: 'a'.repeat(64), sha256: 'a'.repeat(64), mime: 'text/plain' },
  ],
});

function facts(over: Partial<TerminationFacts> = {}): TerminationFacts {
  return {
    execution_id: ID,
    write_prefix: `world://artifacts/out/${ID}`,
    container: `wl-${ID}`,
    timeout_s: 30,
    memory_mb: 256,
    termination: 'exited',
    exit_code: 0,
    oom_killed: false,
    stderr_tail: '',
    detail: '',
    outputs_index: { kind: 'text', text: INDEX },
    meta: META,
    ...over,
  };
}

function errorOf(f: TerminationFacts): { code: string; message: string } {
  const env = EnvelopeSchema.parse(envelopeFor(f));
  if (env.status !== 'error') throw new Error(`expected an error envelope, got ${JSON.stringify(env)}`);
  expect(env.execution_id).toBe(ID);
  expect(env.meta).toEqual(META);
  return env.error;
}

describe('envelopeFor', () => {
  it('a clean exit lists the claimed outputs under the write prefix, sorted, with the index path', () => {
    const env = EnvelopeSchema.parse(envelopeFor(facts()));
    expect(env).toEqual({
      status: 'success',
      execution_id: ID,
      outputs: [`world://artifacts/out/${ID}/outputs/a.txt`, `world://artifacts/out/${ID}/outputs/b.txt`],
      index_path: `world://artifacts/out/${ID}/outputs.json`,
      meta: META,
    });
  });

  it('keeps absolute world paths and a prefix that already ends in /', () => {
    const index = JSON.stringify({
      outputs: [
        {
          path: 'world://artifacts/elsewhere/x',
          size_bytes: 1,
          blake3: 'c'.repeat(64),
          sha256: 'c'.repeat(64),
          mime: 'text/plain',
        },
      ],
    });
    const env = envelopeFor(
      facts({ write_prefix: 'world://artifacts/p/', outputs_index: { kind: 'text', text: index } }),
    );
    expect(env).toMatchObject({
      outputs: ['world://artifacts/elsewhere/x'],
      index_path: 'world://artifacts/p/outputs.json',
    });
  });

  it('timeout → ERR_TIMEOUT naming the limit and the stderr tail', () => {
    const e = errorOf(facts({ termination: 'timeout', exit_code: null, stderr_tail: 'last words' }));
    expect(e.code).toBe('ERR_TIMEOUT');
    expect(e.message).toContain('within 30 s');
    expect(e.message).toContain('stderr tail:\nlast words');
  });

  it('cancelled → ERR_CANCELLED', () => {
    const e = errorOf(facts({ termination: 'cancelled', exit_code: null }));
    expect(e.code).toBe('ERR_CANCELLED');
    expect(e.message).toContain(`wl-${ID} was killed and removed`);
    expect(e.message).not.toContain('stderr tail');
  });

  it('start_failed → ERR_PROCESSOR_FAILED with the engine reason', () => {
    const e = errorOf(facts({ termination: 'start_failed', exit_code: null, detail: 'exec: no such file' }));
    expect(e).toEqual({
      code: 'ERR_PROCESSOR_FAILED',
      message: 'processor container did not start: exec: no such file',
    });
  });

  it('output_limit → ERR_OUTPUT_TOO_LARGE with the limit passed', () => {
    const e = errorOf(facts({ termination: 'output_limit', exit_code: null, detail: '1 file of 1 GiB > 1 MiB' }));
    expect(e.code).toBe('ERR_OUTPUT_TOO_LARGE');
    expect(e.message).toContain('1 file of 1 GiB > 1 MiB');
  });

  it('a non-zero exit → ERR_PROCESSOR_FAILED with the code', () => {
    const e = errorOf(facts({ exit_code: 3, stderr_tail: 'boom' }));
    expect(e).toEqual({ code: 'ERR_PROCESSOR_FAILED', message: 'processor exited with code 3; stderr tail:\nboom' });
  });

  it('an OOM kill says so, with the memory limit', () => {
    const e = errorOf(facts({ exit_code: 137, oom_killed: true }));
    expect(e.code).toBe('ERR_PROCESSOR_FAILED');
    expect(e.message).toContain('memory limit of 256 MiB (exit code 137)');
  });

  it('exit 0 without outputs.json → ERR_OUTPUT_INVALID', () => {
    expect(errorOf(facts({ outputs_index: { kind: 'missing' } }))).toEqual({
      code: 'ERR_OUTPUT_INVALID',
      message: 'processor exited 0 but wrote no outputs.json',
    });
  });

  it('an unreadable outputs.json (symlink, too large) → ERR_OUTPUT_INVALID with the reason', () => {
    const e = errorOf(facts({ outputs_index: { kind: 'unreadable', reason: 'x is a symlink' } }));
    expect(e).toEqual({ code: 'ERR_OUTPUT_INVALID', message: 'outputs.json cannot be read: x is a symlink' });
  });

  it('outputs.json that is not JSON → ERR_OUTPUT_INVALID', () => {
    const e = errorOf(facts({ outputs_index: { kind: 'text', text: '{"outputs": [' } }));
    expect(e.code).toBe('ERR_OUTPUT_INVALID');
    expect(e.message).toMatch(/^outputs\.json cannot be read: /);
  });

  it('outputs.json off the schema → ERR_OUTPUT_INVALID naming where', () => {
    const e = errorOf(facts({ outputs_index: { kind: 'text', text: '{"outputs":[{"path":1}]}' } }));
    expect(e.code).toBe('ERR_OUTPUT_INVALID');
    expect(e.message).toMatch(/^outputs\.json does not match the schema at outputs\.0\.path: /);
  });
});

describe('costFromReceipt', () => {
  it.each([
    [{ kind: 'text' as const, text: '{"cost_micro":42}' }, 42],
    [{ kind: 'text' as const, text: '{"cost_micro":-1}' }, 0],
    [{ kind: 'text' as const, text: '{"cost_micro":1.5}' }, 0],
    [{ kind: 'text' as const, text: '{"cost_micro":"9"}' }, 0],
    [{ kind: 'text' as const, text: 'null' }, 0],
    [{ kind: 'text' as const, text: 'not json' }, 0],
    [{ kind: 'missing' as const }, 0],
    [{ kind: 'unreadable' as const, reason: 'too large' }, 0],
  ])('%j costs %d', (read, cost) => {
    expect(costFromReceipt(read)).toBe(cost);
  });
});
