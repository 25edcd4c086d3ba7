// The dev server's failed-start log tells a lost race for one of its own random ports (worth another start) from
// anything else: portInUse reads the port out of Go's bind error, and nothing out of other failures.
import { describe, expect, it } from 'vitest';
import { portInUse } from '../../src/temporal/dev-server';

describe('portInUse', () => {
  it('reads the port from the bind error the dev server logs', () => {
    const log =
      '{"time":"2026-11-26T22:17:42Z","level":"ERROR","msg":"can\'t set frontend HTTP port 47999: listen tcp 127.0.0.1:47999: bind: address already in use"}\n';
    expect(portInUse(log)).toBe(47999);
  });

  it('reads an IPv6 listener too', () => {
    expect(portInUse('listen tcp [::1]:7235: bind: address already in use')).toBe(7235);
  });

  it('finds nothing in other failures', () => {
    expect(portInUse('{"level":"ERROR","msg":"unable to open database file"}')).toBeUndefined();
    expect(portInUse('')).toBeUndefined();
  });
});
