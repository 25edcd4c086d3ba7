// The toolchain the rest of the suite stands on: the embedded dev server is reused, worldloop's search
// attributes are registered, the Web UI and the loopback OCI registry answer, and the CLI reports them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Connection } from '@temporalio/client';
import { REPO_ROOT, config } from '../../src/config';
import { WORLDLOOP_SEARCH_ATTRIBUTES } from '../../src/contracts/search-attributes';
import { ensureDevServer } from '../../src/temporal/dev-server';
import { integrationEnv } from './env';

const execFileAsync = promisify(execFile);

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('node', ['bin/worldloop.js', ...args], {
      cwd: REPO_ROOT,
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('toolchain', () => {
  const env = integrationEnv();

  it('reuses the running dev server on a second ensureDevServer', async () => {
    if (!env.embedded) return expect(env.temporalAddress).not.toBe(''); // a configured cluster has no dev server
    const again = await ensureDevServer(config());
    expect(again.started).toBe(false);
    expect(again.address).toBe(env.temporalAddress);
    expect(again.pid).toBe(env.devServerPid);
  });

  it("registers worldloop's search attributes with their types", async () => {
    const connection = await Connection.connect({ address: env.temporalAddress });
    try {
      const res = await connection.operatorService.listSearchAttributes({ namespace: env.namespace });
      const custom = res.customAttributes ?? {};
      // IndexedValueType: KEYWORD = 2, BOOL = 5 (temporal.api.enums.v1).
      const expected = Object.fromEntries(
        WORLDLOOP_SEARCH_ATTRIBUTES.map((sa) => [sa.name, sa.type === 'BOOL' ? 5 : 2]),
      );
      const got = Object.fromEntries(WORLDLOOP_SEARCH_ATTRIBUTES.map((sa) => [sa.name, custom[sa.name]]));
      expect(got).toEqual(expected);
      expect(Object.keys(expected)).toHaveLength(8);
    } finally {
      await connection.close();
    }
  });

  it('serves the Web UI over HTTP', async () => {
    const res = await fetch(`${env.uiUrl}/namespaces/${env.namespace}/workflows`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<html');
  });

  it('doctor --json reports every check that the main job needs as ok', async () => {
    const res = await cli('doctor', '--json');
    const report = JSON.parse(res.stdout) as { ok: boolean; checks: { name: string; status: string }[] };
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
    expect(byName).toMatchObject({
      node: 'ok',
      'docker engine': 'ok',
      'state dir': 'ok',
      'oci registry binary': 'ok',
      'oci registry': 'ok',
      'temporal server': 'ok',
    });
    // A configured cluster does not need the CLI; the embedded default does.
    expect(byName['temporal cli']).toBe(env.embedded ? 'ok' : expect.stringMatching(/^(ok|warn)$/));
    expect(report.checks.every((c) => c.status !== 'fail')).toBe(true);
    expect(report.ok).toBe(true);
    expect(res.code).toBe(0);
  });

  it('server status shows the running dev server', async () => {
    if (!env.embedded) return expect(env.temporalAddress).not.toBe('');
    const res = await cli('server', 'status', '--json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      ok: true,
      running: true,
      address: env.temporalAddress,
      ui_url: env.uiUrl,
      ui_ok: true,
      db_file: `${env.stateDir}/temporal/dev.sqlite`,
      ...(env.devServerPid > 0 ? { pid: env.devServerPid } : {}),
    });
    const text = await cli('server', 'status');
    expect(text.stdout).toContain(`address   ${env.temporalAddress}`);
    expect(text.stdout).toContain(`web ui    ${env.uiUrl} (answers)`);
  });

  it('has a loopback OCI registry speaking the distribution API without auth', async () => {
    const res = await fetch(`${env.registryUrl}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });
});
