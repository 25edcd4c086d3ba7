// Imported by observability.test.ts BEFORE the loop harness: the Temporal SDK's metrics endpoint can only
// be configured when its native runtime is created, and the harness creates it on import. Picks a pair of
// free loopback ports: the worker's own /metrics on the first, the SDK's on the next (as the worker does).
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createServer } from 'node:net';
import { freePort } from './free-port';

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 65_535 && (await isFree(port + 1))) return port;
  }
}

export const METRICS_PORT = await freePortPair();
export const SDK_METRICS_ADDR = `127.0.0.1:${METRICS_PORT + 1}`;

Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { metrics: { prometheus: { bindAddress: SDK_METRICS_ADDR } } },
});
