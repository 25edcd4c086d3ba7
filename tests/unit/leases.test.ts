import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/hashing';
import { Leases } from '../../src/world/leases';
import { codeOf } from './helpers/expect-code';
import { backendTitle, storeBackends, type StoreLocation } from './helpers/store-backends';

for (const backend of storeBackends()) {
  describe.skipIf(backend.missing !== undefined)(backendTitle(backend), () => {
    let loc: StoreLocation;
    let leases: Leases;
    beforeEach(async () => {
      loc = await backend.create();
      leases = new Leases(loc.open());
    });
    afterEach(async () => {
      await loc.cleanup();
    });

    describe('leases on write prefixes', () => {
      it('acquire is idempotent per execution and canonicalises paths', async () => {
        const first = await leases.acquire('e1', ['/artifacts/out/e1/']);
        expect(first).toMatchObject({
          appended: true,
          lease: { execution_id: 'e1', paths: ['world://artifacts/out/e1/'] },
        });
        expect(await leases.acquire('e1', ['world://artifacts/out//e1/'])).toMatchObject({ appended: false });
        expect(await codeOf(leases.acquire('e1', ['world://artifacts/other/']))).toBe('ERR_LEASE_CONFLICT');
        expect(await leases.activeLeases()).toHaveLength(1);
      });

      it.each([
        ['exact vs the same exact', 'world://artifacts/a/x.json', 'world://artifacts/a/x.json', true],
        ['exact vs another exact', 'world://artifacts/a/x.json', 'world://artifacts/a/y.json', false],
        ['prefix contains exact', 'world://artifacts/a/', 'world://artifacts/a/b/x.json', true],
        ['exact under prefix', 'world://artifacts/a/b/x.json', 'world://artifacts/a/', true],
        ['prefix contains prefix', 'world://artifacts/a/', 'world://artifacts/a/b/', true],
        ['prefix inside prefix', 'world://artifacts/a/b/', 'world://artifacts/a/', true],
        ['sibling prefixes', 'world://artifacts/a/b/', 'world://artifacts/a/c/', false],
        ['name prefix is not a path prefix', 'world://artifacts/a/', 'world://artifacts/ab/', false],
        ['same prefix, different case', 'world://artifacts/Out/', 'world://artifacts/out/x', true],
        ['other facet', 'world://artifacts/a/', 'world://streams/a/', false],
      ])('%s', async (_name, held, wanted, conflicts) => {
        await leases.acquire('holder', [held]);
        const result = await codeOf(leases.acquire('other', [wanted]));
        expect(result).toBe(conflicts ? 'ERR_LEASE_CONFLICT' : undefined);
      });

      it('release is idempotent and frees the prefix for others', async () => {
        await leases.acquire('e1', ['world://artifacts/p/']);
        expect(await codeOf(leases.acquire('e2', ['world://artifacts/p/q/']))).toBe('ERR_LEASE_CONFLICT');
        expect((await leases.releaseLeases('e1')).appended).toBe(true);
        expect((await leases.releaseLeases('e1')).appended).toBe(false);
        expect((await leases.releaseLeases('never')).appended).toBe(false);
        expect((await leases.acquire('e2', ['world://artifacts/p/q/'])).appended).toBe(true);
        expect((await leases.activeLeases()).map((l) => l.execution_id)).toEqual(['e2']);
        expect(await leases.verify()).toMatchObject({ ok: true, events: 3 });
      });

      it('refuses invalid paths with the grammar codes', async () => {
        expect(await codeOf(leases.acquire('e1', ['world://artifacts/a/../b/']))).toBe('ERR_DOT_SEGMENTS');
        expect(await codeOf(leases.acquire('e1', ['relative/']))).toBe('ERR_BAD_FACET');
        expect(await codeOf(leases.acquire('e1', []))).toBe('ERR_INPUTS');
      });

      it('concurrent acquisitions of overlapping prefixes across independent writers: exactly one wins', async () => {
        const results = await Promise.all(
          Array.from({ length: 12 }, async (_, i) => {
            const own = new Leases(loc.open());
            // Half lease the parent, half lease distinct children: any two of them overlap via the parent.
            const path = i % 2 === 0 ? 'world://artifacts/shared/' : `world://artifacts/shared/c${i}/`;
            return codeOf(own.acquire(`e${i}`, [path]));
          }),
        );
        const winners = results.filter((r) => r === undefined).length;
        const active = await new Leases(loc.open()).activeLeases();
        // Either the parent won alone, or some children won (they do not overlap each other) and no parent did.
        const parentHeld = active.some((l) => l.paths[0] === 'world://artifacts/shared/');
        expect(winners).toBe(active.length);
        if (parentHeld) expect(active).toHaveLength(1);
        expect(results.filter((r) => r !== undefined).every((r) => r === 'ERR_LEASE_CONFLICT')).toBe(true);
        expect((await leases.verify()).ok).toBe(true);
      });

      it('the lease chain is tamper-evident like the plan ledger', async () => {
        await leases.acquire('e1', ['world://artifacts/t/']);
        await leases.releaseLeases('e1');
        const file = 'leases/events/000000000001';
        const event = JSON.parse(new TextDecoder().decode(await loc.raw.read(file))) as Record<string, unknown>;
        await loc.raw.write(
          file,
          new TextEncoder().encode(canonicalize({ ...event, paths: ['world://artifacts/u/'] })),
        );
        const v = await new Leases(loc.open()).verify();
        expect(v.ok).toBe(false);
        expect(await codeOf(new Leases(loc.open()).acquire('e9', ['world://artifacts/v/']))).toBe('ERR_LEDGER_BROKEN');
      });
    });
  });
}
