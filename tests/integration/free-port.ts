// Loopback TCP ports that were free a moment ago, for servers a test starts on its own ports.
import { createServer, type Server } from 'node:net';

/**
 * `count` distinct ports: every listener stays open until all are picked, so the kernel cannot hand the same
 * port out twice (two sequential picks can collide once the first listener is closed).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}
