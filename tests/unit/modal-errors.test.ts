// The Modal adapter's error mapping, deadline and credential resolution (src/adapters/modal/{errors,
// credentials}.ts): every mapping from what the SDK throws to a catalogue code, without a server.
import { NotFoundError, ResourceExhaustedError } from 'modal';
import { describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import { loadConfig } from '../../src/config';
import { resolveModalCredentials } from '../../src/adapters/modal/credentials';
import { GRPC, modalErrorCode, toModalError, withDeadline, type ModalStage } from '../../src/adapters/modal/errors';
import { codeOf, expectCode } from './helpers/expect-code';

/** What nice-grpc throws: an Error with the numeric status and the method path. */
function clientError(code: number, details = 'detail'): Error {
  return Object.assign(new Error(`/modal.client.ModalClient/X ${code}: ${details}`), {
    code,
    details,
    path: '/modal.client.ModalClient/X',
  });
}

describe('modalErrorCode', () => {
  const stages: ModalStage[] = ['auth', 'app', 'image', 'secret', 'sandbox', 'exec', 'output', 'terminate'];

  it.each([
    [GRPC.UNAUTHENTICATED, 'ERR_ADAPTER_AUTH'],
    [GRPC.PERMISSION_DENIED, 'ERR_ADAPTER_AUTH'],
    [GRPC.RESOURCE_EXHAUSTED, 'ERR_ADAPTER_QUOTA'],
    [GRPC.UNAVAILABLE, 'ERR_ADAPTER_UNAVAILABLE'],
    [GRPC.DEADLINE_EXCEEDED, 'ERR_ADAPTER_UNAVAILABLE'],
    [GRPC.CANCELLED, 'ERR_ADAPTER_UNAVAILABLE'],
  ])('gRPC status %i means %s at every stage', (status, code) => {
    for (const stage of stages) expect(modalErrorCode(clientError(status), stage)).toBe(code);
  });

  it('maps the SDK’s ResourceExhaustedError ("insufficient capacity") to ERR_ADAPTER_QUOTA', () => {
    expect(modalErrorCode(new ResourceExhaustedError('Insufficient capacity to create sandbox.'), 'sandbox')).toBe(
      'ERR_ADAPTER_QUOTA',
    );
  });

  it('maps any other failure while building the image to ERR_IMAGE_PULL', () => {
    expect(
      modalErrorCode(new Error('Image build for im-1 failed with the exception:\nmanifest unknown'), 'image'),
    ).toBe('ERR_IMAGE_PULL');
    expect(modalErrorCode(clientError(GRPC.NOT_FOUND), 'image')).toBe('ERR_IMAGE_PULL');
    expect(modalErrorCode(new NotFoundError('no such image'), 'image')).toBe('ERR_IMAGE_PULL');
  });

  it('maps a processor secret Modal does not know to ERR_MISSING_SECRET (and only at the secret stage)', () => {
    expect(modalErrorCode(new NotFoundError("Secret 'OPENAI_API_KEY' not found"), 'secret')).toBe('ERR_MISSING_SECRET');
    expect(modalErrorCode(clientError(GRPC.NOT_FOUND), 'secret')).toBe('ERR_MISSING_SECRET');
    expect(modalErrorCode(clientError(GRPC.NOT_FOUND), 'sandbox')).toBe('ERR_INTERNAL');
  });

  it('calls an unexplained failure elsewhere ERR_INTERNAL, and keeps a code already given', () => {
    expect(modalErrorCode(clientError(GRPC.INVALID_ARGUMENT), 'sandbox')).toBe('ERR_INTERNAL');
    expect(modalErrorCode(new Error('boom'), 'app')).toBe('ERR_INTERNAL');
    expect(modalErrorCode(new WorldloopError('ERR_TIMEOUT', 'x'), 'exec')).toBe('ERR_TIMEOUT');
  });

  it('names the stage in the detail and bounds its length', () => {
    const e = toModalError(clientError(GRPC.UNAVAILABLE, 'x'.repeat(1000)), 'app');
    expect(e.code).toBe('ERR_ADAPTER_UNAVAILABLE');
    expect(e.detail).toMatch(/^Modal app: /);
    expect(e.detail.length).toBeLessThan(320);
  });
});

describe('withDeadline', () => {
  it('passes a result through', async () => {
    await expect(withDeadline('app', 1_000, () => Promise.resolve(42))).resolves.toBe(42);
  });

  it('turns a call that never settles into ERR_ADAPTER_UNAVAILABLE at the deadline', async () => {
    const t0 = Date.now();
    const err = await withDeadline('sandbox', 150, () => new Promise<never>(() => undefined)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorldloopError);
    expect((err as WorldloopError).code).toBe('ERR_ADAPTER_UNAVAILABLE');
    expect((err as WorldloopError).detail).toBe('Modal sandbox: no answer within 150 ms');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('maps a rejection, and swallows one that arrives after the deadline', async () => {
    expect(await codeOf(withDeadline('app', 1_000, () => Promise.reject(clientError(GRPC.UNAUTHENTICATED))))).toBe(
      'ERR_ADAPTER_AUTH',
    );
    const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('late')), 100));
    expect(await codeOf(withDeadline('app', 20, () => late))).toBe('ERR_ADAPTER_UNAVAILABLE');
    await new Promise((r) => setTimeout(r, 150)); // an unhandled rejection here would fail the run
  });
});

describe('resolveModalCredentials', () => {
  const base = loadConfig({ MODAL_CONFIG_PATH: '/nonexistent/.modal.toml' }).modal;
  const noFile = (): string => {
    throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  };

  it('takes MODAL_TOKEN_ID/MODAL_TOKEN_SECRET from the environment first', () => {
    const cfg = loadConfig({ MODAL_TOKEN_ID: 'ak-1', MODAL_TOKEN_SECRET: 'as-1' }).modal;
    expect(resolveModalCredentials(cfg, noFile)).toEqual({
      tokenId: 'ak-1',
      tokenSecret: 'as-1',
      source: 'environment',
    });
  });

  it('refuses half a token pair and no credentials at all, without a network call (ERR_ADAPTER_AUTH)', () => {
    expect(expectCode('ERR_ADAPTER_AUTH', () => resolveModalCredentials({ ...base, tokenId: 'ak-1' }, noFile))).toMatch(
      /MODAL_TOKEN_SECRET is not/,
    );
    expect(expectCode('ERR_ADAPTER_AUTH', () => resolveModalCredentials(base, noFile))).toMatch(/no Modal credentials/);
  });

  it('reads the active profile, or MODAL_PROFILE, from the profile file', () => {
    const toml = `[a]\ntoken_id = "ak-a"\ntoken_secret = "as-a"\n\n[b]\ntoken_id = "ak-b"\ntoken_secret = "as-b"\nactive = true\n`;
    expect(resolveModalCredentials(base, () => toml)).toEqual({
      tokenId: 'ak-b',
      tokenSecret: 'as-b',
      source: 'profile b',
    });
    expect(resolveModalCredentials({ ...base, profile: 'a' }, () => toml).tokenId).toBe('ak-a');
    expectCode('ERR_ADAPTER_AUTH', () => resolveModalCredentials({ ...base, profile: 'c' }, () => toml));
    expectCode('ERR_ADAPTER_AUTH', () => resolveModalCredentials(base, () => '[a]\ntoken_id = "ak-a"\n'));
    expectCode('ERR_ADAPTER_AUTH', () => resolveModalCredentials(base, () => '[a]\nactive = true\ntoken_id = "x"\n'));
  });

  it('says a broken profile file is invalid without quoting it (it may hold a token)', () => {
    const detail = expectCode('ERR_CONFIG_INVALID', () =>
      resolveModalCredentials(base, () => 'token_secret = "as-SECRET\n'),
    );
    expect(detail).not.toContain('as-SECRET');
  });
});
