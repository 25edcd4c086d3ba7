import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blake3Hex, canonicalize } from '../../src/hashing';
import { GENESIS_HASH } from '../../src/world/hash-chain';
import { Ledger } from '../../src/world/ledger';
import type { ObjectStore } from '../../src/world/object-store';
import { codeOf } from './helpers/expect-code';
import { backendTitle, storeBackends, type StoreLocation } from './helpers/store-backends';

const utf8 = new TextEncoder();
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const eventsKey = (plan: string): string => `plans/${plan}/events`;
const slot = (plan: string, seq: number): string => `${eventsKey(plan)}/${String(seq).padStart(12, '0')}`;

for (const backend of storeBackends()) {
  describe.skipIf(backend.missing !== undefined)(backendTitle(backend), () => {
    let loc: StoreLocation;
    let store: ObjectStore;
    let ledger: Ledger;

    beforeEach(async () => {
      loc = await backend.create();
      store = loc.open();
      ledger = new Ledger(store);
    });
    afterEach(async () => {
      await loc.cleanup();
    });

    describe('plans', () => {
      it('creates a plan once: same budget is a no-op, a different one is ERR_PLAN_EXISTS', async () => {
        expect(await ledger.createPlan('p1', 1_000_000)).toMatchObject({
          created: true,
          budget_micro: 1_000_000,
          events: 1,
        });
        expect(await ledger.createPlan('p1', 1_000_000)).toMatchObject({ created: false, events: 1 });
        expect(await codeOf(ledger.createPlan('p1', 2_000_000))).toBe('ERR_PLAN_EXISTS');
        // A second process (fresh cache) sees the same.
        expect(await codeOf(new Ledger(store).createPlan('p1', 5))).toBe('ERR_PLAN_EXISTS');
      });

      it('refuses unknown plans, bad keys and bad amounts', async () => {
        expect(await codeOf(ledger.getPlan('nope'))).toBe('ERR_PLAN_NOT_FOUND');
        expect(await codeOf(ledger.reserve('nope', 'e1', 1))).toBe('ERR_PLAN_NOT_FOUND');
        expect(await codeOf(ledger.verifyPlan('nope'))).toBe('ERR_PLAN_NOT_FOUND');
        for (const bad of ['', '../x', 'a/b', '.hidden', 'a b', 'Upper', 'x'.repeat(65)]) {
          expect(await codeOf(ledger.createPlan(bad, 1)), bad).toBe('ERR_USAGE');
        }
        await ledger.createPlan('p', 10);
        for (const amount of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2]) {
          expect(await codeOf(ledger.reserve('p', 'e1', amount)), String(amount)).toBe('ERR_INPUTS');
        }
        expect(await codeOf(ledger.reserve('p', 'bad id', 1))).toBe('ERR_INPUTS');
      });

      it('derives budget, reserved, spent and available from reserve, charge and release', async () => {
        await ledger.createPlan('p', 1000);
        await ledger.reserve('p', 'a', 300);
        await ledger.reserve('p', 'b', 200);
        expect(await ledger.getPlan('p')).toMatchObject({ reserved_micro: 500, spent_micro: 0, available_micro: 500 });
        const charged = await ledger.charge('p', 'a', 120);
        expect(charged.reservation).toMatchObject({ status: 'charged', charged_micro: 120, amount_micro: 300 });
        expect(charged.plan).toMatchObject({ reserved_micro: 200, spent_micro: 120, available_micro: 680 });
        const released = await ledger.release('p', 'b');
        expect(released.reservation?.status).toBe('released');
        expect(released.plan).toMatchObject({ reserved_micro: 0, spent_micro: 120, available_micro: 880, events: 5 });
        await ledger.raiseBudget('p', 2000);
        expect(await ledger.getPlan('p')).toMatchObject({ budget_micro: 2000, available_micro: 1880 });
        expect(await codeOf(ledger.raiseBudget('p', 1))).toBe('ERR_INPUTS');
        expect((await ledger.verifyPlan('p')).ok).toBe(true);
      });

      it('reserve: idempotent per execution_id and never overdraws', async () => {
        await ledger.createPlan('p', 100);
        const first = await ledger.reserve('p', 'e1', 60);
        expect(first.appended).toBe(true);
        const again = await ledger.reserve('p', 'e1', 60);
        expect(again).toMatchObject({ appended: false, reservation: { amount_micro: 60, status: 'reserved' } });
        expect(again.plan.events).toBe(2);
        expect(await codeOf(ledger.reserve('p', 'e2', 41))).toBe('ERR_BUDGET_EXCEEDED');
        expect((await ledger.reserve('p', 'e2', 40)).plan.available_micro).toBe(0);
        expect(await codeOf(ledger.reserve('p', 'e3', 1))).toBe('ERR_BUDGET_EXCEEDED');
        expect((await ledger.reserve('p', 'e4', 0)).appended).toBe(true);
      });

      it('charge: idempotent, never above the reservation, refused after release', async () => {
        await ledger.createPlan('p', 100);
        await ledger.reserve('p', 'e1', 50);
        expect(await codeOf(ledger.charge('p', 'e1', 51))).toBe('ERR_BUDGET_EXCEEDED');
        expect((await ledger.charge('p', 'e1', 50)).appended).toBe(true);
        expect((await ledger.charge('p', 'e1', 50)).appended).toBe(false);
        expect(await codeOf(ledger.charge('p', 'e1', 10))).toBe('ERR_CHARGE_MISMATCH');
        expect((await ledger.release('p', 'e1')).appended).toBe(false); // already settled: compensation is a no-op
        expect(await codeOf(ledger.charge('p', 'ghost', 1))).toBe('ERR_NOT_FOUND');
        await ledger.reserve('p', 'e2', 10);
        expect((await ledger.release('p', 'e2')).appended).toBe(true);
        expect((await ledger.release('p', 'e2')).appended).toBe(false);
        expect(await codeOf(ledger.charge('p', 'e2', 1))).toBe('ERR_BUDGET_EXCEEDED');
        expect(await ledger.release('p', 'never-reserved')).toMatchObject({ appended: false, reservation: undefined });
        // Reserve retried after it released its own reservation (e.g. a failed lease) holds money again.
        const again = await ledger.reserve('p', 'e2', 10);
        expect(again).toMatchObject({ appended: true, reservation: { status: 'reserved', amount_micro: 10 } });
        expect((await ledger.charge('p', 'e2', 10)).plan).toMatchObject({ spent_micro: 60, reserved_micro: 0 });
        expect((await ledger.verifyPlan('p')).ok).toBe(true);
        await ledger.reserve('p', 'e3', 40);
        expect(await ledger.getPlan('p')).toMatchObject({
          spent_micro: 60,
          reserved_micro: 40,
          available_micro: 0,
          events: 8,
        });
      });

      it('a second Ledger over the same store (another process) sees every event and continues the chain', async () => {
        await ledger.createPlan('p', 100);
        const other = new Ledger(store);
        await other.reserve('p', 'x', 10);
        await ledger.reserve('p', 'y', 10);
        await other.charge('p', 'y', 5);
        const a = await ledger.getPlan('p');
        const b = await other.getPlan('p');
        expect(a).toEqual(b);
        expect(a).toMatchObject({ events: 4, reserved_micro: 10, spent_micro: 5 });
      });
    });

    describe('the hash chain', () => {
      it('stores each event as JCS and hashes h(n) = BLAKE3(bytes(h(n-1)) || JCS(event))', async () => {
        await ledger.createPlan('p', 100);
        await ledger.reserve('p', 'e1', 10);
        let prev = GENESIS_HASH;
        for (const seq of [1, 2]) {
          const bytes = Buffer.from(await loc.raw.read(slot('p', seq)));
          const event = JSON.parse(bytes.toString('utf8')) as { seq: number; prev: string; type: string };
          expect(bytes.toString('utf8')).toBe(canonicalize(event));
          expect(event).toMatchObject({ seq, prev });
          prev = blake3Hex(Buffer.concat([Buffer.from(prev, 'hex'), bytes]));
        }
        const verified = await ledger.verifyPlan('p');
        expect(verified).toMatchObject({ ok: true, events: 2, head: { seq: 2, hash: prev }, problems: [] });
        expect((await ledger.getPlan('p')).head.hash).toBe(prev);
      });

      async function planWithHistory(): Promise<void> {
        await ledger.createPlan('p', 1000);
        await ledger.reserve('p', 'a', 100);
        await ledger.reserve('p', 'b', 100);
        await ledger.charge('p', 'a', 50);
        await ledger.release('p', 'b');
        expect((await ledger.verifyPlan('p')).ok).toBe(true);
      }

      async function expectBroken(pattern: RegExp): Promise<void> {
        const v = await ledger.verifyPlan('p');
        expect(v.ok).toBe(false);
        expect(v.problems.join('\n')).toMatch(pattern);
        // Operations refuse to build on a broken chain — in a fresh process as well as in this one.
        expect(await codeOf(new Ledger(store).reserve('p', 'c', 1))).toBe('ERR_LEDGER_BROKEN');
        expect(await codeOf(new Ledger(store).getPlan('p'))).toBe('ERR_LEDGER_BROKEN');
      }

      it('detects an altered event (amount changed, bytes still JCS)', async () => {
        await planWithHistory();
        const file = slot('p', 2);
        const event = JSON.parse(text(await loc.raw.read(file))) as Record<string, unknown>;
        await loc.raw.write(file, utf8.encode(canonicalize({ ...event, amount_micro: 1 })));
        await expectBroken(/event 3: prev .* does not match the hash of event 2/);
      });

      it('detects an altered event that is not in JCS form', async () => {
        await planWithHistory();
        const file = slot('p', 3);
        const event = JSON.parse(text(await loc.raw.read(file))) as Record<string, unknown>;
        await loc.raw.write(file, utf8.encode(JSON.stringify(event, null, 2)));
        await expectBroken(/event 3: bytes are not the JCS form/);
      });

      it('detects a removed event', async () => {
        await planWithHistory();
        await loc.raw.remove(slot('p', 3));
        await expectBroken(/event 3 is missing/);
      });

      it('detects reordered events', async () => {
        await planWithHistory();
        const [two, three] = [await loc.raw.read(slot('p', 2)), await loc.raw.read(slot('p', 3))];
        await loc.raw.write(slot('p', 2), three);
        await loc.raw.write(slot('p', 3), two);
        await expectBroken(/event 2: stored in slot 2 but says seq 3/);
      });

      it('detects a forged event whose hashes were recomputed but which breaks a rule', async () => {
        await planWithHistory();
        // Rewrite the whole chain with an overdraft, re-hashing every link: only the rules can catch this.
        const files = await loc.raw.names(eventsKey('p'));
        let prev = GENESIS_HASH;
        for (const [i, name] of files.entries()) {
          const event = JSON.parse(text(await loc.raw.read(`${eventsKey('p')}/${name}`))) as Record<string, unknown>;
          const forged = i === 1 ? { ...event, amount_micro: 5000 } : event;
          const bytes = Buffer.from(canonicalize({ ...forged, prev }));
          await loc.raw.write(`${eventsKey('p')}/${name}`, bytes);
          prev = blake3Hex(Buffer.concat([Buffer.from(prev, 'hex'), bytes]));
        }
        await expectBroken(/event 2 breaks a rule: reserve 5000 for a overdraws 1000/);
      });

      it('notices tampering behind the back of a process that has the plan cached', async () => {
        await planWithHistory();
        // This process caches head 5; a forged event 6 that does not link to it is refused on the next read.
        await loc.raw.write(
          slot('p', 6),
          utf8.encode(canonicalize({ seq: 6, prev: GENESIS_HASH, type: 'release', at: 'x', execution_id: 'a' })),
        );
        expect(await codeOf(ledger.reserve('p', 'c', 1))).toBe('ERR_LEDGER_BROKEN');
      });

      describe('checkpoints', () => {
        async function chainWithCheckpoints(): Promise<Ledger> {
          const l = new Ledger(store, { checkpointEvery: 4 });
          await l.createPlan('p', 1000);
          for (let i = 0; i < 5; i++) {
            await l.reserve('p', `e${i}`, 10);
            await l.charge('p', `e${i}`, 5);
          }
          return l; // 11 events: checkpoints after events 4 and 8
        }

        it('a new process starts from the latest checkpoint and reads only the events after it', async () => {
          const warm = await chainWithCheckpoints();
          expect(await loc.raw.names('plans/p/checkpoints')).toEqual(['000000000004', '000000000008']);
          const reads: string[] = [];
          const counting = Object.assign(Object.create(store) as ObjectStore, {
            get: (k: string) => (reads.push(k), store.get(k)),
          });
          const cold = new Ledger(counting, { checkpointEvery: 4 });
          expect(await cold.getPlan('p')).toEqual(await warm.getPlan('p'));
          const eventReads = reads.filter((k) => k.includes('/events/')).map((k) => Number(k.slice(-12)));
          expect(eventReads.sort((a, b) => a - b)).toEqual([8, 9, 10, 11]);
          expect((await cold.verifyPlan('p')).ok).toBe(true);
        });

        it('verify recomputes every checkpoint; a forged checkpoint state is reported', async () => {
          await chainWithCheckpoints();
          const file = 'plans/p/checkpoints/000000000008';
          const cp = JSON.parse(text(await loc.raw.read(file))) as { state: { spent_micro: number } };
          cp.state.spent_micro = 0;
          await loc.raw.write(file, utf8.encode(canonicalize(cp)));
          const v = await ledger.verifyPlan('p');
          expect(v.ok).toBe(false);
          expect(v.problems).toEqual(['checkpoint 8 does not match the state recomputed from events 1..8']);
        });

        it('a checkpoint that does not name the real hash of its event is ignored when loading', async () => {
          const warm = await chainWithCheckpoints();
          const file = 'plans/p/checkpoints/000000000008';
          const cp = JSON.parse(text(await loc.raw.read(file))) as { hash: string; state: { spent_micro: number } };
          await loc.raw.write(
            file,
            utf8.encode(canonicalize({ ...cp, hash: GENESIS_HASH, state: { ...cp.state, spent_micro: 0 } })),
          );
          expect(await new Ledger(store).getPlan('p')).toEqual(await warm.getPlan('p'));
          expect((await ledger.verifyPlan('p')).ok).toBe(false);
        });
      });
    });
  });
}
