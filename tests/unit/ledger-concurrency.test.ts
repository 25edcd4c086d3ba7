// No overdraft under any concurrency (docs/architecture.md §2): 20 reservations race for a budget that covers 10, in
// one process and across processes hammering the same store folder. Also the cost of an append on a long
// chain, which the per-process cache keeps independent of the chain's length.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorldloopError } from '../../src/contracts/errors';
import { Ledger } from '../../src/world/ledger';
import type { ObjectStore } from '../../src/world/object-store';
import { backendTitle, storeBackends, type StoreLocation } from './helpers/store-backends';

const UNIT = 100_000;
const BUDGET = 10 * UNIT;

for (const backend of storeBackends()) {
  describe.skipIf(backend.missing !== undefined)(backendTitle(backend), () => {
    let loc: StoreLocation;
    beforeEach(async () => {
      loc = await backend.create();
    });
    afterEach(async () => {
      await loc.cleanup();
    });

    type Outcome = { id: string; ok: true } | { id: string; ok: false; code: string };

    async function attempt(ledger: Ledger, plan: string, id: string): Promise<Outcome> {
      try {
        await ledger.reserve(plan, id, UNIT);
        return { id, ok: true };
      } catch (err) {
        return { id, ok: false, code: err instanceof WorldloopError ? err.code : String(err) };
      }
    }

    async function expectExactlyTen(ledger: Ledger, plan: string, outcomes: Outcome[]): Promise<void> {
      const won = outcomes.filter((o) => o.ok);
      const lost = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
      expect(won).toHaveLength(10);
      expect(lost.map((o) => o.code)).toEqual(Array(10).fill('ERR_BUDGET_EXCEEDED'));
      const state = await new Ledger(loc.open()).getPlan(plan);
      expect(state).toMatchObject({ budget_micro: BUDGET, reserved_micro: BUDGET, available_micro: 0, events: 11 });
      expect(state.reservations.map((r) => r.execution_id).sort()).toEqual(won.map((o) => o.id).sort());
      const verified = await ledger.verifyPlan(plan);
      expect(verified.problems).toEqual([]);
      expect(verified.ok).toBe(true);
    }

    describe('no overdraft under concurrency', () => {
      it('20 concurrent reservations through one Ledger: exactly 10 succeed', async () => {
        const ledger = new Ledger(loc.open());
        await ledger.createPlan('race', BUDGET);
        const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(ledger, 'race', `exec-${i}`)));
        await expectExactlyTen(ledger, 'race', outcomes);
      });

      it('20 concurrent reservations through 20 independent Ledgers (no shared cache or lock): exactly 10 succeed', async () => {
        await new Ledger(loc.open()).createPlan('race', BUDGET);
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) => attempt(new Ledger(loc.open()), 'race', `exec-${i}`)),
        );
        await expectExactlyTen(new Ledger(loc.open()), 'race', outcomes);
      });

      it('4 child processes × 5 racers each on one store: exactly 10 succeed and the chain verifies', async () => {
        const ledger = new Ledger(loc.open());
        await ledger.createPlan('race', BUDGET);
        const ledgerUrl = pathToFileURL(resolve('src/world/ledger.ts')).href;
        const opener = backend.childOpen(loc);
        const storeUrl = pathToFileURL(resolve(opener.module)).href;
        // Each child loads everything, says "ready", and waits for "go" on stdin so all 20 racers start together.
        const child = `
      import { Ledger } from ${JSON.stringify(ledgerUrl)};
      const mod = await import(${JSON.stringify(storeUrl)});
      const [proc] = process.argv.slice(1);
      const ledgers = Array.from({ length: 5 }, () => new Ledger(${opener.expr}));
      await ledgers[0].getPlan('race');
      process.stdout.write('ready\\n');
      await new Promise((r) => process.stdin.once('data', r));
      const out = await Promise.all(ledgers.map(async (l, i) => {
        const id = 'p' + proc + '-' + i;
        try { await l.reserve('race', id, ${UNIT}); return { id, ok: true }; }
        catch (err) { return { id, ok: false, code: err.code ?? String(err) }; }
      }));
      process.stdout.write(JSON.stringify(out) + '\\n');
      process.exit(0);
    `;
        const children = Array.from({ length: 4 }, (_, proc) => {
          const cp = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child, String(proc)], {
            stdio: ['pipe', 'pipe', 'inherit'],
          });
          let buf = '';
          const lines: string[] = [];
          const waiters: (() => void)[] = [];
          cp.stdout.on('data', (d: Buffer) => {
            buf += d.toString();
            let nl;
            while ((nl = buf.indexOf('\n')) >= 0) {
              lines.push(buf.slice(0, nl));
              buf = buf.slice(nl + 1);
              waiters.shift()?.();
            }
          });
          const nextLine = async (): Promise<string> => {
            if (lines.length === 0) await new Promise<void>((r) => waiters.push(r));
            return lines.shift()!;
          };
          const exited = new Promise<number | null>((r) => cp.on('exit', r));
          return { cp, nextLine, exited };
        });
        for (const c of children) expect(await c.nextLine()).toBe('ready');
        for (const c of children) c.cp.stdin.write('go\n');
        const outcomes = (
          await Promise.all(children.map(async (c) => JSON.parse(await c.nextLine()) as Outcome[]))
        ).flat();
        expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0, 0, 0]);
        expect(outcomes).toHaveLength(20);
        await expectExactlyTen(ledger, 'race', outcomes);
      });
    });

    describe('append cost on a long chain', () => {
      it('reserve+charge stays fast at 1,000 events (cached derived state, only new events read)', async () => {
        // Counts what one append costs in store operations: the deterministic form of "does not grow with n".
        const calls = { get: 0, list: 0, put: 0 };
        const local = loc.open();
        const counting = Object.assign(Object.create(local) as ObjectStore, {
          get: (k: string) => (calls.get++, local.get(k)),
          list: (p: string) => (calls.list++, local.list(p)),
          putIfAbsent: (k: string, b: Uint8Array) => (calls.put++, local.putIfAbsent(k, b)),
        });
        const ledger = new Ledger(counting);
        await ledger.createPlan('long', Number.MAX_SAFE_INTEGER);
        const pairMs: number[] = [];
        for (let i = 0; i < 500; i++) {
          const t0 = performance.now();
          await ledger.reserve('long', `e-${i}`, 10);
          await ledger.charge('long', `e-${i}`, 7);
          pairMs.push(performance.now() - t0);
        }
        const before = { ...calls };
        await ledger.reserve('long', 'counted', 10);
        await ledger.charge('long', 'counted', 10);
        // Each append probes the next slot once (absent) and writes it; nothing is listed or re-read.
        expect({ get: calls.get - before.get, list: calls.list - before.list, put: calls.put - before.put }).toEqual({
          get: 2,
          list: 0,
          put: 2,
        });
        const plan = await ledger.getPlan('long');
        expect(plan.events).toBe(1003);
        expect(plan.spent_micro).toBe(3510);

        const pct = (xs: number[], p: number): number =>
          [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!;
        const first = pairMs.slice(0, 50);
        const last = pairMs.slice(-50);

        // A fresh process pays one full read of the chain, once.
        const cold = new Ledger(loc.open());
        let t0 = performance.now();
        await cold.getPlan('long');
        const coldLoadMs = performance.now() - t0;
        t0 = performance.now();
        await cold.reserve('long', 'after-cold', 10);
        await cold.charge('long', 'after-cold', 10);
        const warmAfterColdMs = performance.now() - t0;
        t0 = performance.now();
        const verified = await cold.verifyPlan('long');
        const verifyMs = performance.now() - t0;
        expect(verified.ok).toBe(true);

        console.log(
          `ledger figures: reserve+charge p50 ${pct(first, 0.5).toFixed(2)} ms at ~0 events, ` +
            `p50 ${pct(last, 0.5).toFixed(2)} ms / p95 ${pct(last, 0.95).toFixed(2)} ms at ~1,000 events; ` +
            `cold load of 1,001 events ${coldLoadMs.toFixed(1)} ms; first pair after it ${warmAfterColdMs.toFixed(2)} ms; ` +
            `verify ${verifyMs.toFixed(1)} ms`,
        );
        // Wall-clock bound only against pathologies (this machine is shared; fsync latency is noisy).
        expect(pct(last, 0.5)).toBeLessThan(1000);
      });
    });
  });
}
