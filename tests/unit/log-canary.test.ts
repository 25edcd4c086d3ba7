// Canary secrets, planted through the real resolver (environment and file routes), logged in every position
// a record can carry text, then looked for in the raw bytes pino wrote.
//
// What "not emitted" covers here: the canary's random core (24 hex digits, present in every canary) in
// any byte sequence of the output — which subsumes the raw canary, its JSON-escaped, doubly escaped,
// \u-escaped and percent-encoded forms. Not covered: base64 or other encodings of a secret, a secret split
// across two fields, or a secret logged as binary bytes other than a Node Buffer.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { format } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { WorldloopError } from '../../src/contracts/errors';
import { createLogger, defaultRedactor, REDACTED, Redactor, type Logger } from '../../src/log';
import { createSecretResolver } from '../../src/secrets';

class Capture extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'utf8'));
    done();
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

interface Canary {
  /** Random per run; every canary contains its core, so a core in the output is a leak of some form. */
  core: string;
  value: string;
}

function canary(shape: (core: string) => string): Canary {
  const core = randomBytes(12).toString('hex');
  return { core, value: shape(core) };
}

// Cores plus the standard forms, searched as raw bytes in the emitted output.
function leaks(bytes: Buffer, canaries: readonly Canary[]): string[] {
  const found: string[] = [];
  for (const { core, value } of canaries) {
    const once = JSON.stringify(value).slice(1, -1);
    for (const needle of [core, value, once, JSON.stringify(once).slice(1, -1), encodeURIComponent(value)]) {
      if (bytes.includes(Buffer.from(needle, 'utf8'))) found.push(`${core}: ${JSON.stringify(needle)}`);
    }
  }
  return found;
}

// Logs `secret` in every position a pino record can carry text. Returns how many records were written.
function logEverywhere(logger: Logger, secret: string): number {
  let records = 0;
  const log = (fn: () => void) => {
    fn();
    records += 1;
  };
  const inner = new Error(`inner failure ${secret}`);
  const outer = new Error(`outer failure ${secret}`, { cause: inner });
  const coded = new WorldloopError('ERR_PROCESSOR_FAILED', `stderr tail: ${secret}`, { cause: outer });
  const aggregate = new AggregateError([new Error(`one ${secret}`), new RangeError(`two ${secret}`)], `agg ${secret}`);
  const withProp = Object.assign(new Error('plain message'), { response: { body: `{"key":"${secret}"}` } });
  const stackOnly = new Error('innocent message');
  stackOnly.stack = `Error: innocent message\n    at handler (/srv/${secret}/app.js:1:1)`;

  log(() => logger.info(`message ${secret}`));
  log(() => logger.info('format %s and %j and %o', secret, { a: secret }, [secret]));
  log(() => logger.info({ nested: { deeper: { value: secret, list: ['x', [secret]] } } }, 'nested'));
  log(() => logger.info({ [secret]: 'secret as a key', [`prefix-${secret}`]: { [secret]: 1 } }, 'keys'));
  log(() => logger.info({ list: [secret, { inside: secret }, [[secret]]] }, 'arrays'));
  log(() => logger.error(coded));
  log(() => logger.error({ err: outer }, 'error object with cause'));
  log(() => logger.error(aggregate));
  log(() => logger.error({ err: withProp }, 'error with a field'));
  log(() => logger.error(stackOnly));
  log(() => logger.warn({ error: coded, failure: { reason: outer } }, 'errors under other keys'));
  log(() => logger.info({ payload: JSON.stringify({ k: secret }) }, `embedded JSON ${JSON.stringify({ k: secret })}`));
  log(() => logger.info({ url: `https://api.example.com/v1?key=${encodeURIComponent(secret)}` }, 'percent-encoded'));
  log(() => logger.info({ buffer: Buffer.from(secret) }, 'a buffer'));
  log(() => logger.info({ date: { toJSON: () => `json ${secret}` } }, 'toJSON'));
  log(() => logger.child({ bound: secret, deep: { bound: [secret] } }).info('child bindings'));
  log(() => logger.child({}, { msgPrefix: `[${secret}] ` }).info('message prefix'));
  log(() =>
    logger
      .child({ execution_id: 'e1' })
      .child({ [secret]: secret })
      .warn({ again: secret }, secret),
  );
  log(() => logger.fatal(format('util.format %s', secret)));
  // A binding shadowed by a record field of the same name: pino writes both keys into the line.
  log(() => logger.child({ shadowed: secret }).info({ shadowed: 'visible' }, 'duplicate keys'));
  return records;
}

describe('no emitted byte contains a canary secret', () => {
  let dir: string;
  let envCanary: Canary;
  let fileCanary: Canary;
  let hostileCanary: Canary;
  let numericCanary: Canary;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'worldloop-canary-'));
    envCanary = canary((core) => `sk-${core}EnvRoute`);
    fileCanary = canary((core) => `file-${core}`);
    // Quotes, backslashes, non-ASCII and U+2028 make the serialiser escape the value in the line.
    hostileCanary = canary((core) => `q"u\\o/te ü☃\u2028${core}\t`);
    numericCanary = canary((core) => `${BigInt(`0x${core.slice(0, 12)}`)}`);
    numericCanary.core = numericCanary.value;
    writeFileSync(join(dir, 'FILE_SECRET'), `${fileCanary.value}\n`);
    writeFileSync(join(dir, 'HOSTILE_SECRET'), `${hostileCanary.value}\n`);
  });

  afterAll(() => {
    // The folder holds only this run's random canaries; leaving it in tmp does no harm, but be tidy.
    execFileSync('rm', ['-rf', dir]);
  });

  function plant(redactor?: Redactor): Canary[] {
    const resolver = createSecretResolver({
      mode: 'real',
      allow: new Set(['ENV_SECRET', 'FILE_SECRET', 'HOSTILE_SECRET', 'NUMERIC_SECRET']),
      env: { ENV_SECRET: envCanary.value, NUMERIC_SECRET: numericCanary.value },
      secretsDir: dir,
      redactor,
    });
    expect(resolver.resolve('ENV_SECRET')).toBe(envCanary.value);
    expect(resolver.resolve('FILE_SECRET')).toBe(fileCanary.value);
    expect(resolver.resolve('HOSTILE_SECRET')).toBe(hostileCanary.value);
    expect(resolver.resolve('NUMERIC_SECRET')).toBe(numericCanary.value);
    return [envCanary, fileCanary, hostileCanary, numericCanary];
  }

  it('through an explicit redactor, in every position, as raw bytes', () => {
    const redactor = new Redactor();
    const out = new Capture();
    // The logger and a child exist before any secret is registered: registration must still reach them.
    const logger = createLogger({ redactor, destination: out, level: 'trace', context: { execution_id: 'early' } });
    const early = logger.child({ phase: 'execute' });
    const canaries = plant(redactor);

    let records = 0;
    for (const c of canaries) records += logEverywhere(early, c.value);
    logger.info({ n: Number(numericCanary.value), big: BigInt(numericCanary.value) }, 'numbers');
    // Beyond 2^53 a number cannot survive JSON.parse exactly; it must be caught on the line's text.
    // Its core is the first 15 digits: a rounded re-serialisation would still carry them.
    const longDigits = `9${randomBytes(8).readBigUInt64BE()}`.padEnd(21, '7');
    const longNumeric = { core: longDigits.slice(0, 15), value: longDigits };
    redactor.register(longNumeric.value);
    canaries.push(longNumeric);
    logger.info({ big: BigInt(longNumeric.value), list: [BigInt(longNumeric.value)] }, 'long numbers');
    records += 2;

    const bytes = out.bytes();
    expect(leaks(bytes, canaries)).toEqual([]);

    // The check above must be able to fail: the same records without redaction do leak.
    const raw = new Capture();
    const unredacted = createLogger({ redactor: new Redactor(), destination: raw, level: 'trace' });
    for (const c of canaries) logEverywhere(unredacted, c.value);
    expect(leaks(raw.bytes(), canaries).length).toBeGreaterThan(canaries.length);

    // One valid JSON object per record, and redaction visibly happened.
    const lines = bytes.toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(records);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(bytes.toString('utf8')).toContain(REDACTED);
    // Context and non-secret text survive.
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ execution_id: 'early', phase: 'execute', level: 'info' });
    expect(first.msg).toBe(`message ${REDACTED}`);
  });

  it('through the process-wide default redactor when none is passed', () => {
    const out = new Capture();
    const logger = createLogger({ destination: out });
    const canaries = plant();
    expect(defaultRedactor.containsSecret(envCanary.value)).toBe(true);
    for (const c of canaries) logEverywhere(logger, c.value);
    expect(leaks(out.bytes(), canaries)).toEqual([]);
  });

  it('on the real default destination (stderr of a separate process)', () => {
    const script = `
      const { loadConfig } = await import('./src/config.ts');
      const { createLogger } = await import('./src/log/index.ts');
      const { createSecretResolver, loadAllowList } = await import('./src/secrets/index.ts');
      const cfg = loadConfig(process.env);
      const logger = createLogger({ context: { execution_id: 'child', mode: 'real' } });
      const secrets = createSecretResolver({ mode: 'real', allow: new Set(['CANARY_ENV', 'CANARY_FILE']), env: cfg.secretEnv, secretsDir: cfg.secretsDir });
      const a = secrets.resolve('CANARY_ENV');
      const b = secrets.resolve('CANARY_FILE');
      void loadAllowList(cfg.secretsAllowFile);
      logger.info({ a, nested: [{ b }] }, 'child ' + a + ' ' + b);
      logger.error(new Error('fail ' + a, { cause: new Error('cause ' + b) }));
      logger.child({ a }).info(JSON.stringify({ b }));
    `;
    const envRoute = canary((core) => `env-${core}"\\`);
    const fileRoute = canary((core) => `file-${core}☃`);
    writeFileSync(join(dir, 'CANARY_FILE'), `${fileRoute.value}\n`);
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, CANARY_ENV: envRoute.value, WORLDLOOP_SECRETS_DIR: dir },
      encoding: 'buffer',
      timeout: 60_000,
    });
    expect(child.status, child.stderr.toString('utf8')).toBe(0);
    expect(child.stdout.length).toBe(0); // logs go to stderr only
    expect(leaks(child.stderr, [envRoute, fileRoute])).toEqual([]);
    const lines = child.stderr.toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[0]).toMatchObject({ execution_id: 'child', mode: 'real', msg: `child ${REDACTED} ${REDACTED}` });
    expect(records[1]).toMatchObject({ level: 'error', err: { message: `fail ${REDACTED}: cause ${REDACTED}` } });
  });
});
