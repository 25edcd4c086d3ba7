// The HTTP endpoint Prometheus scrapes: GET /metrics on the configured address, nothing else. A metrics
// port that is taken must not stop a worker from working, so the caller gets the error to log, not a throw.
import { createServer, type Server } from 'node:http';
import type { RunMetrics } from './run-metrics';

export interface MetricsAddress {
  host: string;
  port: number;
}

/** `host:port` → parts; `0`, `off` or empty → undefined (metrics disabled). */
export function parseMetricsAddress(value: string): MetricsAddress | undefined {
  const v = value.trim();
  if (v === '' || v === '0' || v.toLowerCase() === 'off') return undefined;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 0 || port > 65_535) throw new Error(`"${value}" is not host:port, 0 or off`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export interface MetricsServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: MetricsAddress;
  close(): Promise<void>;
}

export async function startMetricsServer(metrics: RunMetrics, at: MetricsAddress): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are served at /metrics\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : at.port;
  return {
    address: { host: at.host, port },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
