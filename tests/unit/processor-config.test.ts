// Processor settings (ADR 0009): the registry's `config` section, the worker-side resolver that reads
// declared names only and checks their form, the optional `config` key of env_fingerprint, and Admit
// carrying the settings to Execute with their digest in the fingerprint and the cache key.
import { describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps';
import { makeAdmit } from '../../activities/admit';
import { REPO_ROOT } from '../../src/config';
import { RegistryEntrySchema, type RegistryEntry } from '../../src/contracts';
import { ProcessorConfigSchema, type ProcessorConfig } from '../../src/contracts/processor-config';
import { envFingerprint, parseEnvFingerprint } from '../../src/hashing';
import { resolveProcessorConfig } from '../../src/processor-config';
import { getEntry, loadRegistry } from '../../src/registry/registry';
import { expectCode } from './helpers/expect-code';

const DECLARED: ProcessorConfig = ProcessorConfigSchema.parse({
  BASE_URL: { description: 'api root', type: 'url', schemes: ['https', 'http'], from: { env: 'X_BASE_URL' } },
  SECURE_URL: { description: 'https only', type: 'url', from: { env: 'X_SECURE_URL' } },
  ORG: { description: 'org id', type: 'string', pattern: 'org-[a-z0-9]+', max_length: 16, from: { env: 'X_ORG' } },
  TIMEOUT_MS: { description: 'ms', type: 'integer', minimum: 1, maximum: 1000, from: { env: 'X_TIMEOUT_MS' } },
  VERBOSE: { description: 'flag', type: 'boolean', from: { env: 'X_VERBOSE' } },
});

describe('resolveProcessorConfig', () => {
  it('reads declared names from their variables, in their declared form, and nothing else', () => {
    const values = resolveProcessorConfig('a/b@1', DECLARED, {
      X_BASE_URL: 'http://10.0.0.2:8080/v1',
      X_ORG: 'org-42',
      X_TIMEOUT_MS: '250',
      X_VERBOSE: 'true',
      BASE_URL: 'https://undeclared-variable.example',
      OTHER: 'x',
    });
    expect(values).toEqual({ BASE_URL: 'http://10.0.0.2:8080/v1', ORG: 'org-42', TIMEOUT_MS: 250, VERBOSE: true });
    expect(Object.keys(values)).toEqual(['BASE_URL', 'ORG', 'TIMEOUT_MS', 'VERBOSE']);
  });

  it('leaves unset and empty variables out, so the processor applies its own default', () => {
    expect(resolveProcessorConfig('a/b@1', DECLARED, { X_ORG: '' })).toEqual({});
    expect(resolveProcessorConfig('a/b@1', {}, { X_ORG: 'org-1' })).toEqual({});
  });

  it.each([
    ['X_SECURE_URL', 'http://api.example.com/v1', /must use https, not http/],
    ['X_BASE_URL', 'ftp://h/v1', /must use https or http/],
    ['X_BASE_URL', 'not a url', /not an absolute URL/],
    ['X_BASE_URL', 'https://user:pw@h/v1', /credentials/],
    ['X_BASE_URL', 'https://h/v1?api-key=k', /query or a fragment/],
    ['X_ORG', 'ORG-CAPS', /does not match/],
    ['X_ORG', 'org-aaaaaaaaaaaaaaaaaaaa', /longer than 16/],
    ['X_TIMEOUT_MS', '1e3', /not an integer/],
    ['X_TIMEOUT_MS', '1001', /between 1 and 1000/],
    ['X_VERBOSE', 'yes', /true, false, 1 or 0/],
  ])('%s=%j → ERR_CONFIG_INVALID naming the variable, not the value', (variable, value, why) => {
    const detail = expectCode('ERR_CONFIG_INVALID', () =>
      resolveProcessorConfig('a/b@1', DECLARED, { [variable]: value }),
    );
    expect(detail).toMatch(why);
    expect(detail).toContain(`${variable} (setting `);
    expect(detail).toContain('of a/b@1');
    expect(detail).not.toContain(value);
  });
});

describe('the config section of a registry entry', () => {
  const setting = { description: 'd', type: 'string', from: { env: 'SOME_SETTING' } };

  it('defaults to no settings', async () => {
    const registry = await loadRegistry(`${REPO_ROOT}/registry`, { root: REPO_ROOT });
    expect(getEntry(registry, 'text/stats@1').config).toEqual({});
    expect(Object.keys(getEntry(registry, 'llm/chat@1').config).sort()).toEqual([
      'OPENAI_BASE_URL',
      'OPENAI_ORGANIZATION',
      'OPENAI_TIMEOUT_MS',
    ]);
  });

  it.each([
    ['a credential as a setting name', { OPENAI_API_KEY: setting }],
    ['a credential as a source', { SETTING: { ...setting, from: { env: 'GITHUB_TOKEN' } } }],
    ['an unknown type', { SETTING: { ...setting, type: 'json' } }],
    ['an unknown field', { SETTING: { ...setting, default: 'x' } }],
    ['a lower-case name', { setting }],
    ['one variable feeding two settings', { A: setting, B: setting }],
    ['minimum above maximum', { N: { ...setting, type: 'integer', minimum: 5, maximum: 1 } }],
    ['a pattern that does not compile', { S: { ...setting, pattern: '([a-z' } }],
  ])('refuses %s', (_why, config) => {
    expect(ProcessorConfigSchema.safeParse(config).success).toBe(false);
  });
});

describe('env_fingerprint config key', () => {
  const base = {
    adapter: 'local',
    cpu: '0.5',
    gpu: 'none',
    image: 'r/x@sha256:' + 'a'.repeat(64),
    memory_mb: '256',
    network: 'egress',
    platform: 'linux/amd64',
    secrets: ['OPENAI_API_KEY'],
    timeout_s: '120',
  };

  it('is printed only when given, in key order, and reads back', () => {
    const without = envFingerprint(base);
    expect(without).not.toContain('config=');
    const withConfig = envFingerprint({ ...base, config: `blake3:${'b'.repeat(64)}` });
    expect(withConfig.startsWith(`adapter=local;config=blake3:${'b'.repeat(64)};cpu=0.5;`)).toBe(true);
    expect(parseEnvFingerprint(withConfig).config).toBe(`blake3:${'b'.repeat(64)}`);
    expect(parseEnvFingerprint(without).config).toBeUndefined();
  });
});

describe('Admit with processor settings', () => {
  async function admitWith(env: Record<string, string>) {
    const registry = await loadRegistry(`${REPO_ROOT}/registry`, { root: REPO_ROOT });
    const entry: RegistryEntry = RegistryEntrySchema.parse(getEntry(registry, 'llm/chat@1'));
    const deps = {
      ci: false,
      platform: 'amd64',
      getEntry: () => entry,
      adapters: { local: { name: 'local', invoke: () => Promise.reject(new Error('not in this test')) } },
      secretsFor: () => ({ requireAll: () => undefined }),
      plans: { getPlan: () => Promise.resolve({}) },
      processorConfigEnv: env,
    } as unknown as ActivityDeps;
    return makeAdmit(deps)({
      execution_id: '0190a5b2-1c3d-7e4f-8a9b-0c1d2e3f4a5b',
      write_prefix: 'world://artifacts/t/',
      request: {
        processor_ref: 'llm/chat@1',
        inputs: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
        mode: 'real',
        plan: 'default',
        write_prefix: 'world://artifacts/t/',
        adapter: 'local',
      },
    });
  }

  it('carries the declared settings to Execute; their digest changes the fingerprint and the cache key', async () => {
    const none = await admitWith({});
    expect(none.config).toBeUndefined();
    expect(none.env_fingerprint).not.toContain('config=');

    const custom = await admitWith({ OPENAI_BASE_URL: 'http://10.0.0.2:8080/v1', UNDECLARED: 'x' });
    expect(custom.config).toEqual({ OPENAI_BASE_URL: 'http://10.0.0.2:8080/v1' });
    expect(custom.env_fingerprint).toMatch(/;config=blake3:[0-9a-f]{64};/);
    expect(custom.cache_key).not.toBe(none.cache_key);

    const other = await admitWith({ OPENAI_BASE_URL: 'http://10.0.0.3:8080/v1' });
    expect(other.env_fingerprint).not.toBe(custom.env_fingerprint);
    const again = await admitWith({ OPENAI_BASE_URL: 'http://10.0.0.2:8080/v1' });
    expect(again.cache_key).toBe(custom.cache_key);
  });

  it('refuses a malformed setting before anything runs', async () => {
    await expect(admitWith({ OPENAI_BASE_URL: 'http://api.example.com/v1?x=1' })).rejects.toThrow(
      /ERR_CONFIG_INVALID.*OPENAI_BASE_URL/,
    );
  });
});
