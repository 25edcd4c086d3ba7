// `worldloop modal app-name …` end to end: spawns `node bin/worldloop.js` like a user would.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/worldloop.js'), 'modal', 'app-name', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('worldloop modal app-name', () => {
  it('prints the CI name and a person’s name', () => {
    expect(cli(['text/stats@1', '--ci'])).toEqual({ code: 0, stdout: 'text-stats-v1\n', stderr: '' });
    expect(cli(['llm/chat@1', '--user', 'Alice', '--branch', 'feature/Fix_2'])).toEqual({
      code: 0,
      stdout: 'alice-feature-fix-2-llm-chat-v1\n',
      stderr: '',
    });
  });

  it('prints JSON with the full name and whether it was truncated', () => {
    const branch = 'x'.repeat(80);
    const r = cli(['text/stats@1', '--user', 'u', '--branch', branch, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ ok: true, full_name: `u-${branch}-text-stats-v1`, truncated: true });
    expect(out.app_name).toMatch(/^u-x{53}-[0-9a-f]{8}$/);
  });

  it.each([
    [['text/stats@1'], 'ERR_USAGE', /give --ci, or both --user/],
    [['text/stats@1', '--user', 'u'], 'ERR_USAGE', /give --ci, or both --user/],
    [['text/stats@1', '--ci', '--branch', 'b'], 'ERR_USAGE', /cannot be combined/],
    [['text/stats', '--ci'], 'ERR_MODAL_APP_NAME', /not a processor ref/],
    [['text/stats@1', '--user', '__', '--branch', 'main'], 'ERR_MODAL_APP_NAME', /user "__" has no letter/],
  ])('refuses %j with %s, exit 2, no stack trace', (args, code, detail) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^${code}: `));
    expect(r.stderr).toMatch(detail);
    expect(r.stderr).toMatch(/To fix: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('answers in JSON on stdout with --json when refusing', () => {
    const r = cli(['nope', '--ci', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'ERR_MODAL_APP_NAME' });
  });
});
