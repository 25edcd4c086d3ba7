// src/config.ts parses the environment with zod's functional build (zod/mini), which has no locale of its own:
// these pin the messages a bad setting gets (the chained API's English ones) and the parsed values of good ones,
// so the ERR_CONFIG_INVALID a user sees names the setting and what it expects.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { WorldloopError } from '../../src/contracts/errors';

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(WorldloopError);
    expect((err as WorldloopError).code).toBe('ERR_CONFIG_INVALID');
    return (err as WorldloopError).detail;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('the environment', () => {
  it.each([
    [{ WORLDLOOP_TEMPORAL_PORT: '65536' }, 'WORLDLOOP_TEMPORAL_PORT: Too big: expected number to be <=65535'],
    [{ WORLDLOOP_UI_PORT: '0' }, 'WORLDLOOP_UI_PORT: Too small: expected number to be >=1'],
    [
      { WORLDLOOP_WORKER_ACTIVITIES: '1.5' },
      'WORLDLOOP_WORKER_ACTIVITIES: Invalid input: expected int, received number',
    ],
    [{ WORLDLOOP_TASK_QUEUE: '' }, 'WORLDLOOP_TASK_QUEUE: Too small: expected string to have >=1 characters'],
    [{ TEMPORAL_UI_URL: 'nope' }, 'TEMPORAL_UI_URL: Invalid URL'],
    [
      { WORLDLOOP_NO_EMBEDDED_WORKER: 'maybe' },
      'WORLDLOOP_NO_EMBEDDED_WORKER: Invalid option: expected one of "0"|"1"|"true"|"false"|"yes"|"no"|""',
    ],
    [{ WORLDLOOP_METRICS_ADDR: 'bad addr' }, 'WORLDLOOP_METRICS_ADDR: expected host:port, 0 or off'],
  ])('refuses %j: %s', (env, detail) => {
    expect(refusal(env)).toBe(detail);
  });

  it('parses good settings and fills in the defaults', () => {
    const cfg = loadConfig({ WORLDLOOP_TEMPORAL_PORT: '7999', WORLDLOOP_NO_EMBEDDED_WORKER: 'yes', CI: 'true' });
    expect(cfg.temporal).toMatchObject({ devPort: 7999, uiPort: 8233, taskQueue: 'worldloop', embeddedWorker: false });
    expect(cfg).toMatchObject({ ci: true, logLevel: 'info', metricsAddr: '127.0.0.1:9464', world: { kind: 'local' } });
    expect(loadConfig({}).temporal).toMatchObject({ embeddedWorker: true, maxActivities: 32 });
  });
});
