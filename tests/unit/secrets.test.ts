// The secret resolver and the allow-list against real files in a temporary secrets folder.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, loadConfig } from '../../src/config';
import { WorldloopError, type ErrorCode } from '../../src/contracts/errors';
import type { Mode } from '../../src/contracts/schemas';
import { Redactor, defaultRedactor } from '../../src/log';
import { createSecretResolver, loadAllowList, parseAllowList, type SecretResolver } from '../../src/secrets';

function failure(fn: () => unknown): WorldloopError {
  try {
    fn();
  } catch (error) {
    if (error instanceof WorldloopError) return error;
    throw new Error(`expected a WorldloopError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a throw');
}

function expectCode(fn: () => unknown, code: ErrorCode): WorldloopError {
  const error = failure(fn);
  expect(error.code).toBe(code);
  return error;
}

const value = (prefix: string) => `${prefix}-${randomBytes(10).toString('hex')}`;

let root: string;
let dir: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'worldloop-secrets-'));
  dir = join(root, 'run-secrets');
  mkdirSync(dir);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadAllowList', () => {
  const write = (name: string, text: string) => {
    const file = join(root, name);
    writeFileSync(file, text);
    return file;
  };

  it('reads the repository allow-list: names only, OPENAI_API_KEY listed', () => {
    const allow = loadAllowList(join(REPO_ROOT, 'secrets.allow.yaml'));
    expect([...allow]).toContain('OPENAI_API_KEY');
    expect(loadAllowList(loadConfig({}).secretsAllowFile)).toEqual(allow);
  });

  it('accepts a list of names and an empty list', () => {
    expect([...parseAllowList('secrets:\n  - A_KEY\n  - B2\n')]).toEqual(['A_KEY', 'B2']);
    expect(parseAllowList('# nothing yet\nsecrets: []\n').size).toBe(0);
  });

  it('refuses a file that is missing', () => {
    const error = expectCode(() => loadAllowList(join(root, 'absent.yaml')), 'ERR_CONFIG_INVALID');
    expect(error.detail).toContain('ENOENT');
  });

  it.each([
    ['a mapping of names to values', 'secrets:\n  OPENAI_API_KEY: abcdef123456\n', 'abcdef123456'],
    ['NAME=value items', 'secrets:\n  - OPENAI_API_KEY=abcdef123456\n', 'abcdef123456'],
    ['NAME: value items', 'secrets:\n  - OPENAI_API_KEY: abcdef123456\n', 'abcdef123456'],
    ['a value as a name', 'secrets:\n  - abcdef123456\n', 'abcdef123456'],
    ['an sk- key in a comment', '# old: sk-proj-ABCDEFGHIJKLMNOPQRSTUV\nsecrets: []\n', 'ABCDEFGHIJKLMNOP'],
    ['a token pair in a comment', 'secrets: [] # token=zzzz9999\n', 'zzzz9999'],
    ['a path instead of a name', 'secrets:\n  - ../../etc/passwd\n', 'etc/passwd'],
    ['a lower-case name', 'secrets:\n  - openai_api_key\n', 'openai_api_key'],
    ['an unknown top-level key', 'secrets: []\nvalues:\n  A: hush-hush-1234\n', 'hush-hush-1234'],
    ['no secrets key', 'names:\n  - A\n', undefined],
    ['an empty secrets key', 'secrets:\n', undefined],
    ['a duplicate name', 'secrets:\n  - A_KEY\n  - A_KEY\n', undefined],
    ['a duplicate key', 'secrets: []\nsecrets: []\n', undefined],
    ['broken YAML', 'secrets: [OPENAI_API_KEY, "unterminated-hush-9876\n', 'unterminated-hush-9876'],
    ['an empty file', '', undefined],
  ])('refuses %s with ERR_CONFIG_INVALID, without echoing content', (_name, text, mustNotEcho) => {
    const error = expectCode(() => loadAllowList(write('allow.yaml', text)), 'ERR_CONFIG_INVALID');
    expect(error.detail).toMatch(/names only/);
    if (mustNotEcho !== undefined) expect(error.message).not.toContain(mustNotEcho);
  });
});

describe('createSecretResolver', () => {
  const allow = new Set([
    'ENV_ONLY',
    'FILE_ONLY',
    'BOTH',
    'EMPTY_ENV',
    'EMPTY_FILE',
    'NEWLINES',
    'CRLF',
    'A_DIR',
    'LINKED',
    'ABSENT',
    'SHORT',
  ]);
  const values = {
    envOnly: value('env'),
    fileOnly: value('file'),
    bothEnv: value('both-env'),
    bothFile: value('both-file'),
    linked: value('linked'),
  };
  let redactor: Redactor;
  let real: SecretResolver;

  beforeAll(() => {
    writeFileSync(join(dir, 'FILE_ONLY'), `${values.fileOnly}\n`);
    writeFileSync(join(dir, 'BOTH'), values.bothFile);
    writeFileSync(join(dir, 'EMPTY_FILE'), '');
    writeFileSync(join(dir, 'NEWLINES'), 'keep-one-newline\n\n');
    writeFileSync(join(dir, 'CRLF'), 'windows-line\r\n');
    writeFileSync(join(dir, 'SHORT'), 'ab\n');
    mkdirSync(join(dir, 'A_DIR'));
    const target = join(root, 'elsewhere');
    writeFileSync(target, values.linked);
    symlinkSync(target, join(dir, 'LINKED'));
    // Planted outside the folder: a name that walks out of it must never reach this.
    writeFileSync(join(root, 'OUTSIDE'), 'outside-value');
    redactor = new Redactor();
    real = createSecretResolver({
      mode: 'real',
      allow,
      env: { ENV_ONLY: values.envOnly, BOTH: values.bothEnv, EMPTY_ENV: '', NOT_LISTED: 'listed-nowhere' },
      secretsDir: dir,
      redactor,
    });
  });

  describe('in mock mode', () => {
    // An environment that explodes when read proves that mock mode refuses before looking.
    const exploding = new Proxy({} as Record<string, string | undefined>, {
      get() {
        throw new Error('mock mode read the environment');
      },
      has() {
        throw new Error('mock mode read the environment');
      },
    });
    const mock = () =>
      createSecretResolver({ mode: 'mock', allow, env: exploding, secretsDir: dir, redactor: new Redactor() });

    it.each([
      ['has', (r: SecretResolver) => r.has('ENV_ONLY')],
      ['requireAll', (r: SecretResolver) => r.requireAll(['ENV_ONLY', 'FILE_ONLY'])],
      ['requireAll of nothing', (r: SecretResolver) => r.requireAll([])],
      ['resolve', (r: SecretResolver) => r.resolve('FILE_ONLY')],
      ['resolve of an unlisted name', (r: SecretResolver) => r.resolve('NOT_LISTED')],
    ])('%s refuses with ERR_SECRET_NOT_ALLOWED and reads nothing', (_name, call) => {
      const error = expectCode(() => call(mock()), 'ERR_SECRET_NOT_ALLOWED');
      expect(error.detail).toContain('mock mode never reads secrets');
    });
  });

  it('refuses names not on the allow-list, listing them sorted', () => {
    const error = expectCode(() => real.resolve('NOT_LISTED'), 'ERR_SECRET_NOT_ALLOWED');
    expect(error.detail).toBe('not on the allow-list: NOT_LISTED');
    expectCode(() => real.has('NOT_LISTED'), 'ERR_SECRET_NOT_ALLOWED');
    const both = expectCode(() => real.requireAll(['ZED', 'ENV_ONLY', 'NOT_LISTED', 'ZED']), 'ERR_SECRET_NOT_ALLOWED');
    expect(both.detail).toBe('not on the allow-list: NOT_LISTED, ZED');
  });

  it.each([
    '../OUTSIDE',
    '../../etc/passwd',
    'A/B',
    '/etc/passwd',
    'lower',
    'Mixed_Case',
    '',
    ' ENV_ONLY',
    'ENV_ONLY\n',
    'A.B',
    '1ABC',
  ])('refuses the malformed name %j before touching the folder', (name) => {
    const withAll = createSecretResolver({
      mode: 'real',
      allow: new Set([...allow, name]),
      env: {},
      secretsDir: dir,
      redactor: new Redactor(),
    });
    expectCode(() => withAll.resolve(name), 'ERR_SECRET_NOT_ALLOWED');
    expectCode(() => withAll.has(name), 'ERR_SECRET_NOT_ALLOWED');
  });

  it('has() answers from the environment or the folder without reading or registering a value', () => {
    const fresh = new Redactor();
    const probe = createSecretResolver({
      mode: 'real',
      allow,
      env: { ENV_ONLY: values.envOnly, EMPTY_ENV: '' },
      secretsDir: dir,
      redactor: fresh,
    });
    expect(probe.has('ENV_ONLY')).toBe(true);
    expect(probe.has('FILE_ONLY')).toBe(true);
    expect(probe.has('LINKED')).toBe(true);
    expect(probe.has('EMPTY_ENV')).toBe(false);
    expect(probe.has('EMPTY_FILE')).toBe(false);
    expect(probe.has('A_DIR')).toBe(false);
    expect(probe.has('ABSENT')).toBe(false);
    expect(fresh.size).toBe(0);
  });

  it('requireAll() lists every missing name, sorted and once', () => {
    expect(() => real.requireAll(['ENV_ONLY', 'FILE_ONLY', 'BOTH', 'LINKED'])).not.toThrow();
    expect(() => real.requireAll([])).not.toThrow();
    const error = expectCode(
      () => real.requireAll(['EMPTY_FILE', 'ABSENT', 'ENV_ONLY', 'A_DIR', 'ABSENT', 'EMPTY_ENV']),
      'ERR_MISSING_SECRET',
    );
    expect(error.detail).toMatch(/^missing: ABSENT, A_DIR, EMPTY_ENV, EMPTY_FILE \(looked in the environment and in /);
    expect(error.spec.kind).toBe('input');
  });

  it('resolve() reads the environment first, then the folder, and registers every value', () => {
    expect(real.resolve('ENV_ONLY')).toBe(values.envOnly);
    expect(real.resolve('BOTH')).toBe(values.bothEnv);
    expect(real.resolve('FILE_ONLY')).toBe(values.fileOnly);
    expect(real.resolve('LINKED')).toBe(values.linked);
    for (const v of [values.envOnly, values.bothEnv, values.fileOnly, values.linked]) {
      expect(redactor.containsSecret(`x ${v} y`), v).toBe(true);
    }
    // The file value of BOTH was never handed out, so it was never registered.
    expect(redactor.containsSecret(values.bothFile)).toBe(false);
  });

  it('trims exactly one trailing newline from a file', () => {
    expect(real.resolve('NEWLINES')).toBe('keep-one-newline\n');
    expect(real.resolve('CRLF')).toBe('windows-line');
  });

  it('reports a missing, empty or unreadable secret as ERR_MISSING_SECRET', () => {
    expectCode(() => real.resolve('ABSENT'), 'ERR_MISSING_SECRET');
    expectCode(() => real.resolve('EMPTY_FILE'), 'ERR_MISSING_SECRET');
    expect(expectCode(() => real.resolve('A_DIR'), 'ERR_MISSING_SECRET').detail).toContain('(EISDIR)');
    const empty = expectCode(() => real.resolve('EMPTY_ENV'), 'ERR_MISSING_SECRET');
    expect(empty.detail).toContain('EMPTY_ENV');
  });

  it('refuses to hand out a value too short to keep out of logs', () => {
    const error = expectCode(() => real.resolve('SHORT'), 'ERR_CONFIG_INVALID');
    expect(error.detail).toMatch(/^SHORT: /);
    expect(error.message).not.toContain('ab\n');
  });

  it('registers into the process-wide redactor when none is given, through config()', () => {
    const secret = value('via-config');
    const cfg = loadConfig({ WORLDLOOP_SECRETS_DIR: dir, CONFIG_ROUTE: secret });
    const resolver = createSecretResolver({
      mode: 'real',
      allow: new Set(['CONFIG_ROUTE']),
      env: cfg.secretEnv,
      secretsDir: cfg.secretsDir,
    });
    expect(resolver.resolve('CONFIG_ROUTE')).toBe(secret);
    expect(defaultRedactor.containsSecret(secret)).toBe(true);
  });

  // Root reads a file whatever its mode bits, so this case can only be observed as an ordinary user.
  it.runIf(process.getuid?.() !== 0)('reports an unreadable file with its errno (needs a non-root user)', () => {
    const file = join(dir, 'LOCKED');
    writeFileSync(file, 'locked-value');
    chmodSync(file, 0o000);
    const locked = createSecretResolver({ mode: 'real' as Mode, allow: new Set(['LOCKED']), env: {}, secretsDir: dir });
    expect(expectCode(() => locked.resolve('LOCKED'), 'ERR_MISSING_SECRET').detail).toContain('EACCES');
  });
});
