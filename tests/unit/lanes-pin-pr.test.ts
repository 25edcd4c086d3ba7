// `worldloop pin --pr`'s logic against real git repositories (a bare "origin" and a clone) and the loopback
// GitHub fake through the real @octokit/rest client: one PR on worldloop/pins, only when a pin changed,
// and a second run that pushes nothing and sends no write to GitHub.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectGitHub } from '../../src/github/client';
import { gitIn } from '../../src/lanes/git';
import { PINS_BRANCH, proposePins } from '../../src/lanes/pin-pr';
import { startGitHubFake, type GitHubFake } from '../fixtures/github-fake/server';

const TOKEN = 'ghs_fake_token_for_tests';
let fake: GitHubFake;
const root = mkdtempSync(join(tmpdir(), 'wl-pin-pr-'));
const origin = join(root, 'origin.git');
const work = join(root, 'work');
const sh = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  }).trim();
const pinFile = join(work, 'registry', 'text', 'stats.yaml');
const writes = () => fake.state.requests.filter((r) => r.method !== 'GET');

beforeAll(async () => {
  fake = await startGitHubFake({ owner: 'acme', repo: 'worlds', token: TOKEN });
  sh(root, 'init', '--quiet', '--bare', '--initial-branch=main', origin);
  sh(root, 'clone', '--quiet', origin, work);
  mkdirSync(join(work, 'registry', 'text'), { recursive: true });
  writeFileSync(pinFile, 'image:\n  index: sha256:aaaa\n');
  writeFileSync(join(work, 'README.md'), 'hello\n');
  sh(work, 'checkout', '--quiet', '-b', 'main');
  sh(work, 'add', '.');
  sh(work, 'commit', '--quiet', '-m', 'init');
  sh(work, 'push', '--quiet', 'origin', 'main');
});
afterAll(async () => {
  await fake.close();
});

const options = (token = TOKEN) => ({
  git: gitIn(work),
  github: () => connectGitHub({ token, repository: 'acme/worlds', apiUrl: fake.url }),
  registryPath: 'registry',
  base: 'main',
});

describe('worldloop pin --pr', () => {
  it('with no pin changed touches neither git remote nor GitHub', async () => {
    let connected = false;
    const result = await proposePins({
      ...options(),
      github: () => ((connected = true), connectGitHub({ token: TOKEN, repository: 'acme/worlds', apiUrl: fake.url })),
    });
    expect(result).toEqual({ outcome: 'no-change' });
    expect(connected).toBe(false);
    expect(fake.state.requests).toEqual([]);
    expect(sh(work, 'ls-remote', '--heads', 'origin', PINS_BRANCH)).toBe('');
  });

  it('pushes one commit on top of the base and opens one pull request; the checkout is left as it was', async () => {
    writeFileSync(pinFile, 'image:\n  index: sha256:bbbb\n');
    const head = sh(work, 'rev-parse', 'HEAD');
    const result = await proposePins(options());
    expect(result.outcome).toBe('proposed');
    if (result.outcome !== 'proposed') return;
    expect(result.pushed).toBe(true);
    expect(result.files).toEqual(['registry/text/stats.yaml']);
    expect(result.pullRequest).toMatchObject({ outcome: 'created', number: 1 });
    const remote = sh(work, 'ls-remote', '--heads', 'origin', PINS_BRANCH).split(/\s+/)[0]!;
    expect(remote).toBe(result.commit);
    expect(sh(origin, 'rev-parse', `${remote}^`)).toBe(head);
    expect(sh(origin, 'show', `${remote}:registry/text/stats.yaml`)).toContain('sha256:bbbb');
    expect(sh(origin, 'show', `${remote}:README.md`)).toBe('hello');
    // HEAD, index and working tree untouched.
    expect(sh(work, 'rev-parse', 'HEAD')).toBe(head);
    expect(sh(work, 'status', '--porcelain')).toBe('M registry/text/stats.yaml');
    expect(readFileSync(pinFile, 'utf8')).toContain('sha256:bbbb');
    expect(fake.state.pulls).toHaveLength(1);
    expect(fake.state.pulls[0]).toMatchObject({ head: PINS_BRANCH, base: 'main', state: 'open' });
  });

  it('a second run with the same change pushes nothing and writes nothing to GitHub', async () => {
    const before = sh(work, 'ls-remote', '--heads', 'origin', PINS_BRANCH);
    const writesBefore = writes().length;
    const result = await proposePins(options());
    expect(result).toMatchObject({
      outcome: 'proposed',
      pushed: false,
      pullRequest: { outcome: 'unchanged', number: 1 },
    });
    expect(sh(work, 'ls-remote', '--heads', 'origin', PINS_BRANCH)).toBe(before);
    expect(writes().length).toBe(writesBefore);
    expect(fake.state.pulls).toHaveLength(1);
  });

  it('a new pin change moves the branch and updates the same pull request', async () => {
    mkdirSync(join(work, 'registry', 'llm'), { recursive: true });
    writeFileSync(join(work, 'registry', 'llm', 'chat.yaml'), 'image:\n  index: sha256:cccc\n');
    const result = await proposePins(options());
    expect(result).toMatchObject({ outcome: 'proposed', pushed: true, pullRequest: { outcome: 'updated', number: 1 } });
    expect(fake.state.pulls).toHaveLength(1);
    expect(fake.state.pulls[0]!.body).toContain('registry/llm/chat.yaml');
  });

  it('a refused token ends in ERR_GITHUB_API without the token in the message', async () => {
    writeFileSync(pinFile, 'image:\n  index: sha256:dddd\n');
    const err = await proposePins(options('ghs_wrong')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_GITHUB_API' });
    expect(String((err as Error).message)).toContain('HTTP 401');
    expect(String((err as Error).message)).not.toContain('ghs_');
    expect(fake.state.pulls).toHaveLength(1);
  });

  it('a push that fails ends in ERR_PIN_PR and leaves the checkout as it was', async () => {
    const head = sh(work, 'rev-parse', 'HEAD');
    const err = await proposePins({ ...options(), remote: 'nowhere' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_PIN_PR' });
    expect(sh(work, 'rev-parse', 'HEAD')).toBe(head);
    expect(sh(work, 'status', '--porcelain')).toContain('registry/text/stats.yaml');
  });
});
