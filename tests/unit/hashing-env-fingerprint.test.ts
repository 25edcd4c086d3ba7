import { describe, expect, it } from 'vitest';
import {
  ENV_FINGERPRINT_KEYS,
  envFingerprint,
  parseEnvFingerprint,
  type EnvFingerprintFields,
} from '../../src/hashing/env-fingerprint';
import { expectCode } from './helpers/expect-code';

const IMAGE = `ghcr.io/acme/echo@sha256:${'ab'.repeat(32)}`;
const FIELDS: EnvFingerprintFields = {
  timeout_s: 60,
  secrets: ['OTHER', 'API_KEY'],
  platform: 'linux/amd64',
  network: 'none',
  memory_mb: 512,
  image: IMAGE,
  gpu: 'none',
  cpu: 2,
  adapter: 'local',
};
const EXPECTED = `adapter=local;cpu=2;gpu=none;image=${IMAGE};memory_mb=512;network=none;platform=linux/amd64;secrets=API_KEY,OTHER;timeout_s=60`;

describe('envFingerprint', () => {
  it('sorts keys and secret names', () => {
    expect(envFingerprint(FIELDS)).toBe(EXPECTED);
  });

  it('prints no secrets as an empty list and fractional cpu as a number', () => {
    expect(envFingerprint({ ...FIELDS, secrets: [], cpu: 0.5 })).toContain(';cpu=0.5;');
    expect(envFingerprint({ ...FIELDS, secrets: [] })).toContain(';secrets=;');
  });

  it.each([
    ['";" in a value', { ...FIELDS, network: 'a;b' }, /network value "a;b" contains ";" or "="/],
    ['"=" in a value', { ...FIELDS, gpu: 'x=1' }, /gpu value/],
    ['"," in a secret name', { ...FIELDS, secrets: ['A,B'] }, /secret name "A,B"/],
    ['";" in a secret name', { ...FIELDS, secrets: ['A;B'] }, /secret name/],
    ['empty secret name', { ...FIELDS, secrets: [''] }, /secret name ""/],
    ['duplicate secret', { ...FIELDS, secrets: ['A', 'A'] }, /listed twice/],
    ['unknown key', { ...FIELDS, region: 'eu' }, /unknown key\(s\) region/],
    ['missing key', { ...FIELDS, cpu: undefined }, /missing key cpu/],
    ['non-finite number', { ...FIELDS, cpu: Infinity }, /cpu must be/],
    ['object value', { ...FIELDS, gpu: { n: 1 } }, /gpu must be/],
    ['secrets not an array', { ...FIELDS, secrets: 'A' }, /array of secret names/],
  ])('rejects %s', (_name, fields, message) => {
    expect(expectCode('ERR_INPUTS', () => envFingerprint(fields as unknown as EnvFingerprintFields))).toMatch(message);
  });
});

describe('parseEnvFingerprint', () => {
  it('reads the canonical form back', () => {
    const parsed = parseEnvFingerprint(EXPECTED);
    expect(parsed).toEqual({
      adapter: 'local',
      cpu: '2',
      gpu: 'none',
      image: IMAGE,
      memory_mb: '512',
      network: 'none',
      platform: 'linux/amd64',
      secrets: ['API_KEY', 'OTHER'],
      timeout_s: '60',
    });
    expect(Object.keys(parsed).sort()).toEqual([...ENV_FINGERPRINT_KEYS]);
    expect(envFingerprint(parsed)).toBe(EXPECTED);
    expect(parseEnvFingerprint(envFingerprint({ ...FIELDS, secrets: [] })).secrets).toEqual([]);
  });

  it.each([
    ['no "="', EXPECTED.replace('gpu=none', 'gpu'), /has no "="/],
    ['unknown key', `${EXPECTED};region=eu`, /unknown key "region"/],
    ['duplicate key', EXPECTED.replace('gpu=none', 'gpu=none;gpu=none'), /appears twice/],
    ['missing key', EXPECTED.replace(';gpu=none', ''), /missing key\(s\) gpu/],
    ['"=" in a value', EXPECTED.replace('gpu=none', 'gpu=a=b'), /contains "="/],
    ['keys out of order', EXPECTED.replace('adapter=local;cpu=2', 'cpu=2;adapter=local'), /canonical form/],
    ['secrets out of order', EXPECTED.replace('API_KEY,OTHER', 'OTHER,API_KEY'), /canonical form/],
    ['empty text', '', /has no "="/],
  ])('rejects %s', (_name, text, message) => {
    expect(expectCode('ERR_INPUTS', () => parseEnvFingerprint(text))).toMatch(message);
  });
});
