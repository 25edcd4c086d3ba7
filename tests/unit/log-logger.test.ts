// The logger's shape: one JSON line per record, the §9 context bound through child loggers, levels, and
// the lifecycle events helper.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import {
  LIFECYCLE_EVENTS,
  Redactor,
  createLogger,
  isLifecycleEvent,
  logEvent,
  withContext,
  type LogContext,
} from '../../src/log';

function capture() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const records = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { destination, chunks, records };
}

const context: LogContext = {
  execution_id: '01936f8e-7c2a-7d4e-9b1a-0c2d3e4f5a6b',
  processor_ref: 'demo/echo@1',
  adapter: 'local',
  mode: 'mock',
  version: '0.1.0',
};

describe('createLogger', () => {
  it('writes exactly one JSON line per record, each a complete write', () => {
    const out = capture();
    const logger = createLogger({ destination: out.destination, redactor: new Redactor() });
    logger.info('one');
    logger.warn({ multi: 'line\nvalue' }, 'two\nlines');
    logger.error(new Error('three'));
    expect(out.chunks).toHaveLength(3);
    for (const chunk of out.chunks) {
      expect(chunk.endsWith('\n')).toBe(true);
      expect(chunk.slice(0, -1)).not.toContain('\n');
    }
    const [a, b, c] = out.records();
    expect(a).toMatchObject({ level: 'info', msg: 'one' });
    expect(b).toMatchObject({ level: 'warn', msg: 'two\nlines', multi: 'line\nvalue' });
    expect(c).toMatchObject({ level: 'error', msg: 'three', err: { type: 'Error', message: 'three' } });
    expect(typeof a!.time).toBe('string');
    expect(Number.isNaN(Date.parse(a!.time as string))).toBe(false);
    expect(a).not.toHaveProperty('pid');
    expect(a).not.toHaveProperty('hostname');
  });

  it('binds the §9 context on the logger and through child loggers', () => {
    const out = capture();
    const root = createLogger({ destination: out.destination, context: { version: '0.1.0' } });
    const run = withContext(root, {
      execution_id: context.execution_id,
      processor_ref: context.processor_ref,
      adapter: context.adapter,
      mode: context.mode,
    });
    run.info('bound');
    run.child({ phase: 'execute' }).info('nested child');
    root.info('root only');
    const [bound, nested, rootOnly] = out.records();
    expect(bound).toMatchObject({ ...context, msg: 'bound' });
    expect(nested).toMatchObject({ ...context, phase: 'execute', msg: 'nested child' });
    expect(rootOnly).toMatchObject({ version: '0.1.0' });
    expect(rootOnly).not.toHaveProperty('execution_id');
  });

  it('honours the level and refuses an unknown one with ERR_CONFIG_INVALID', () => {
    const out = capture();
    const logger = createLogger({ destination: out.destination, level: 'warn' });
    logger.info('hidden');
    logger.warn('shown');
    expect(out.records().map((r) => r.msg)).toEqual(['shown']);
    const silent = capture();
    createLogger({ destination: silent.destination, level: 'silent' }).fatal('nothing');
    expect(silent.chunks).toHaveLength(0);
    expect(() => createLogger({ level: 'verbose' })).toThrow(WorldloopError);
    try {
      createLogger({ level: 'verbose' });
    } catch (error) {
      expect((error as WorldloopError).code).toBe('ERR_CONFIG_INVALID');
    }
  });

  it('keeps image digests and content hashes readable in every position', () => {
    const out = capture();
    const redactor = new Redactor();
    redactor.register('an-unrelated-secret');
    const logger = createLogger({ destination: out.destination, redactor });
    const digest = `sha256:${'0a1b2c3d4e5f6789'.repeat(4)}`;
    const blake3 = 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262';
    logger.info(
      { image: `127.0.0.1:5000/demo/echo@${digest}`, hashes: [blake3], [blake3]: digest },
      `pinned ${digest}`,
    );
    const [record] = out.records();
    expect(record).toEqual(
      expect.objectContaining({
        image: `127.0.0.1:5000/demo/echo@${digest}`,
        hashes: [blake3],
        [blake3]: digest,
        msg: `pinned ${digest}`,
      }),
    );
  });
});

describe('why redaction sits on the finished line (hooks.streamWrite), not in formatters.log', () => {
  it('a formatters.log redactor misses the message, child bindings and the err serializer output', () => {
    const secret = 'why-not-formatters-1234';
    const redactor = new Redactor();
    redactor.register(secret);
    const alternative = capture();
    const viaFormatter = pino(
      { formatters: { log: (object) => redactor.redactValue(object) } },
      alternative.destination,
    );
    viaFormatter.child({ bound: secret }).info({ nested: { v: secret } }, `message ${secret}`);
    const [record] = alternative.records();
    expect(record!.nested).toEqual({ v: '[REDACTED]' }); // the merge object is covered …
    expect(record!.msg).toContain(secret); // … the message is not …
    expect(record!.bound).toBe(secret); // … nor the bindings.

    const ours = capture();
    createLogger({ destination: ours.destination, redactor })
      .child({ bound: secret })
      .info({ nested: { v: secret } }, `message ${secret}`);
    expect(ours.chunks.join('')).not.toContain(secret);
  });
});

describe('lifecycle events', () => {
  it('lists the nine events of docs/architecture.md §9', () => {
    expect([...LIFECYCLE_EVENTS]).toEqual([
      'execution.start',
      'execution.settle',
      'execution.fail',
      'adapter.invoke',
      'adapter.complete',
      'provider.call',
      'provider.response',
      'storage.write',
      'storage.error',
    ]);
    expect(isLifecycleEvent('execution.start')).toBe(true);
    expect(isLifecycleEvent('execution.begin')).toBe(false);
  });

  it('logs each event once, under `event`, failures at error level, with the bound context', () => {
    const out = capture();
    const logger = withContext(createLogger({ destination: out.destination }), context);
    for (const event of LIFECYCLE_EVENTS) logEvent(logger, event, { event: 'overridden?', size: 3 });
    const records = out.records();
    expect(records.map((r) => r.event)).toEqual([...LIFECYCLE_EVENTS]);
    for (const record of records) {
      expect(record).toMatchObject({ ...context, size: 3, msg: record.event });
      const failure = record.event === 'execution.fail' || record.event === 'storage.error';
      expect(record.level).toBe(failure ? 'error' : 'info');
    }
  });
});
