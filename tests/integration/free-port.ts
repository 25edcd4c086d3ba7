// Loopback TCP ports that were free a moment ago, for servers a test starts on its own ports.
//
// They are taken from BELOW the kernel's ephemeral range. A port in that range that was free when picked can be
// the local port of some outgoing connection (a gRPC client, the Docker client, another test) by the time the
// server binds it, and the server then fails with "address already in use" — seen in CI on a busy machine. Ports
// outside the range are only ever taken by another explicit listener.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/** Above the well-known and registered ports worldloop's own services use (5000, 7233, 8233, 9090…). */
const LOWEST = 20_000;

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && Number.isInteger(low) && low > LOWEST + 1000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * `count` distinct free ports below the ephemeral range: every listener stays open until all are picked, so the
 * same port is never handed out twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const high = ephemeralLow() - 1;
  const servers: Server[] = [];
  try {
    for (let tries = 0; servers.length < count; tries++) {
      if (tries > 1000) throw new Error(`no free loopback port between ${LOWEST} and ${high} after 1000 tries`);
      const server = await listenOn(LOWEST + Math.floor(Math.random() * (high - LOWEST + 1)));
      if (server) servers.push(server);
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
