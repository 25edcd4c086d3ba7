// `worldloop secrets sync` against loopback fakes of both targets through their real clients: GitHub's REST
// API (@octokit/rest; the fake opens every sealed box with its private key) and Modal's gRPC API (the modal
// SDK's own client). Fail closed before any request, idempotent, values never in a report or the record.
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModalClient } from 'modal';
import { REPO_ROOT } from '../../src/config';
import { connectGitHub } from '../../src/github/client';
import { sealForGitHub } from '../../src/github/actions-secrets';
import { githubSecretTarget, modalSecretTarget, type SecretTarget } from '../../src/lanes/secret-targets';
import { requiredSecretNames, syncSecrets } from '../../src/lanes/secrets-sync';
import { loadRegistry, type Registry } from '../../src/registry/registry';
import { createSecretResolver, parseAllowList } from '../../src/secrets';
import { startGitHubFake, type GitHubFake } from '../fixtures/github-fake/server';
import { startModalFake, type ModalFake } from '../fixtures/modal-fake/server';

const TOKEN = 'ghs_secrets_sync_test';
const VALUE = 'sk-test-0123456789abcdefghijklmnop';
const tmp = mkdtempSync(join(tmpdir(), 'wl-secrets-sync-'));
const allow = parseAllowList('secrets:\n  - OPENAI_API_KEY\n');
let github: GitHubFake;
let registry: Registry;

const resolverWith = (env: Record<string, string>) =>
  createSecretResolver({ mode: 'real', allow, env, secretsDir: join(tmp, 'no-secrets-dir') });
const sync = (target: SecretTarget, env: Record<string, string>, check = false, reg = registry) =>
  syncSecrets({
    registry: reg,
    allow,
    resolver: resolverWith(env),
    target,
    recordFile: join(tmp, `${target.key}.json`),
    check,
  });
const githubTarget = (env?: string) =>
  githubSecretTarget(connectGitHub({ token: TOKEN, repository: 'acme/worlds', apiUrl: github.url }), env);

beforeAll(async () => {
  github = await startGitHubFake({ owner: 'acme', repo: 'worlds', token: TOKEN });
  registry = await loadRegistry(join(REPO_ROOT, 'registry'));
});
afterAll(async () => {
  await github.close();
});

describe('secret sync to GitHub Actions', () => {
  it('takes the names from the registry', () => {
    expect(requiredSecretNames(registry)).toEqual(['OPENAI_API_KEY']);
  });

  it('seals with the scope public key: the fake opens exactly the value', async () => {
    const report = await sync(githubTarget('dev'), { OPENAI_API_KEY: VALUE });
    expect(report.items).toEqual([
      { name: 'OPENAI_API_KEY', action: 'create', reason: expect.stringContaining('missing') },
    ]);
    expect(report.written).toBe(1);
    expect(github.state.secrets['env:dev']!.OPENAI_API_KEY!.value).toBe(VALUE);
    expect(github.state.secrets.repo).toEqual({});
    expect(JSON.stringify(report)).not.toContain(VALUE);
    expect(readFileSync(join(tmp, 'github-acme-worlds-env-dev.json'), 'utf8')).not.toContain(VALUE);
  });

  it('a second run writes nothing', async () => {
    const puts = () => github.state.requests.filter((r) => r.method === 'PUT').length;
    const before = puts();
    const report = await sync(githubTarget('dev'), { OPENAI_API_KEY: VALUE });
    expect(report.items.map((i) => i.action)).toEqual(['unchanged']);
    expect(report.written).toBe(0);
    expect(puts()).toBe(before);
  });

  it('--check reports a changed value and writes nothing; the sync then updates it', async () => {
    const changed = `${VALUE}-rotated`;
    const puts = () => github.state.requests.filter((r) => r.method === 'PUT').length;
    const before = puts();
    const check = await sync(githubTarget('dev'), { OPENAI_API_KEY: changed }, true);
    expect(check.items.map((i) => [i.action, i.reason])).toEqual([['update', 'value differs from the last sync']]);
    expect(puts()).toBe(before);
    expect(github.state.secrets['env:dev']!.OPENAI_API_KEY!.value).toBe(VALUE);
    await sync(githubTarget('dev'), { OPENAI_API_KEY: changed });
    expect(github.state.secrets['env:dev']!.OPENAI_API_KEY!.value).toBe(changed);
  });

  it('a missing value fails closed before any request (ERR_MISSING_SECRET)', async () => {
    const before = github.state.requests.length;
    await expect(sync(githubTarget(), {})).rejects.toMatchObject({ code: 'ERR_MISSING_SECRET' });
    expect(github.state.requests.length).toBe(before);
  });

  it('a required name off the allow-list fails closed before any request (ERR_SECRET_NOT_ALLOWED)', async () => {
    const dir = join(tmp, 'registry');
    cpSync(join(REPO_ROOT, 'registry'), dir, { recursive: true });
    const file = join(dir, 'text', 'stats.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/required: \[\]/, 'required: [STRIPE_KEY]'));
    const reg = await loadRegistry(dir);
    const before = github.state.requests.length;
    const err = await sync(githubTarget(), { OPENAI_API_KEY: VALUE, STRIPE_KEY: 'x' }, false, reg).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'ERR_SECRET_NOT_ALLOWED' });
    expect((err as Error).message).toContain('STRIPE_KEY');
    expect(github.state.requests.length).toBe(before);
  });

  it('a refused token fails at the listing, before any write (ERR_GITHUB_API)', async () => {
    const target = githubSecretTarget(
      connectGitHub({ token: 'ghs_wrong', repository: 'acme/worlds', apiUrl: github.url }),
    );
    const puts = github.state.requests.filter((r) => r.method === 'PUT').length;
    await expect(sync(target, { OPENAI_API_KEY: VALUE })).rejects.toMatchObject({ code: 'ERR_GITHUB_API' });
    expect(github.state.requests.filter((r) => r.method === 'PUT').length).toBe(puts);
  });

  it('a value not sealed with the key is refused by the fake (the seal is real)', async () => {
    const other = await sealForGitHub(Buffer.alloc(32, 7).toString('base64'), VALUE);
    const res = await fetch(`${github.url}/repos/acme/worlds/actions/secrets/X`, {
      method: 'PUT',
      headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key_id: '3380204578043523366', encrypted_value: other }),
    });
    expect(res.status).toBe(422);
  });
});

describe('secret sync to Modal', () => {
  let modal: ModalFake;
  let client: ModalClient;
  const stored = new Map<string, Record<string, string>>();

  beforeAll(async () => {
    modal = await startModalFake({
      tokenId: 'ak-sync',
      tokenSecret: 'as-sync',
      handlers: {
        SecretGetOrCreate: (req) => {
          // object_creation_type 3: create, or overwrite what exists.
          expect(req.object_creation_type).toBe(3);
          stored.set(String(req.deployment_name), req.env_dict as Record<string, string>);
          return { secret_id: `st-${String(req.deployment_name)}` };
        },
        SecretList: () => ({ items: [...stored.keys()].map((label) => ({ label, secret_id: `st-${label}` })) }),
      },
    });
    vi.stubEnv('MODAL_SERVER_URL', modal.url);
    client = new ModalClient({ tokenId: 'ak-sync', tokenSecret: 'as-sync' });
  });
  afterAll(async () => {
    client.close();
    vi.unstubAllEnvs();
    await modal.close();
  });

  it('creates one named secret per name holding that key, then writes nothing on a second run', async () => {
    const target = modalSecretTarget(client, 'dev');
    const first = await sync(target, { OPENAI_API_KEY: VALUE });
    expect(first.written).toBe(1);
    expect(stored.get('OPENAI_API_KEY')).toEqual({ OPENAI_API_KEY: VALUE });
    const writes = () => modal.calls.filter((c) => c.method === 'SecretGetOrCreate').length;
    const before = writes();
    const second = await sync(target, { OPENAI_API_KEY: VALUE });
    expect(second.items.map((i) => i.action)).toEqual(['unchanged']);
    expect(writes()).toBe(before);
    expect(readdirSync(tmp).filter((f) => f.startsWith('modal-'))).toEqual(['modal-dev.json']);
  });
});
