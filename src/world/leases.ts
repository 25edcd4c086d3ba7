// Leases on write prefixes (docs/architecture.md §2, Reserve): while an execution holds a lease on a prefix, no other
// execution may lease an overlapping one — exact vs exact when equal, a prefix and a path under it, two
// prefixes when one contains the other (prefixesOverlap, under case folding). One global hash chain at
// `leases/events/` (same mechanism as the plan ledger), so the overlap check and the grant are one atomic
// step: a writer validates against the head it read and loses the slot if anyone appended meanwhile.
import { WorldloopError } from '../contracts/errors';
import {
  HashChain,
  type AppendDecision,
  type ChainEvent,
  type ChainHead,
  type ChainReducer,
  type ChainSnapshot,
  type ChainVerification,
  type HashChainOptions,
} from './hash-chain';
import type { ObjectStore } from './object-store';
import { parsePath, prefixesOverlap } from './path';
import { NAMESPACES } from './store-keys';

export interface Lease {
  execution_id: string;
  /** Canonical world paths (exact or prefix), sorted. */
  paths: string[];
  acquired_at: string;
}

interface LeaseState {
  active: Map<string, Lease>;
}

export interface LeaseResult {
  /** False when the execution already held exactly these leases (or, for release, held none). */
  appended: boolean;
  lease: Lease | undefined;
}

const EXECUTION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

function overlapWith(paths: readonly string[], other: Lease): [string, string] | undefined {
  for (const p of paths) for (const q of other.paths) if (prefixesOverlap(p, q)) return [p, q];
  return undefined;
}

function stringList(event: ChainEvent, name: string): string[] {
  const v = event[name];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${event.type}: ${name} malformed`);
  return v as string[];
}

function idOf(event: ChainEvent): string {
  if (typeof event.execution_id !== 'string') throw new Error(`${event.type}: execution_id malformed`);
  return event.execution_id;
}

const leaseReducer: ChainReducer<LeaseState> = {
  initial: (): LeaseState => ({ active: new Map() }),
  encode: (state) => ({ active: [...state.active.values()] }),
  decode: (value) => {
    const v = value as { active?: Lease[] };
    if (!Array.isArray(v.active)) throw new Error('malformed lease checkpoint');
    return { active: new Map(v.active.map((l) => [l.execution_id, { ...l, paths: [...l.paths] }])) };
  },
  apply(state: LeaseState, event: ChainEvent): LeaseState {
    switch (event.type) {
      case 'lease.acquire': {
        const id = idOf(event);
        const paths = stringList(event, 'paths');
        if (state.active.has(id)) throw new Error(`${id} acquires while holding a lease`);
        for (const other of state.active.values()) {
          const hit = overlapWith(paths, other);
          if (hit) throw new Error(`${id} leases ${hit[0]}, overlapping ${hit[1]} held by ${other.execution_id}`);
        }
        state.active.set(id, { execution_id: id, paths, acquired_at: event.at });
        return state;
      }
      case 'lease.release': {
        const id = idOf(event);
        if (!state.active.delete(id)) throw new Error(`${id} releases a lease it does not hold`);
        return state;
      }
      default:
        throw new Error(`unknown event type ${event.type}`);
    }
  },
};

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class Leases {
  private readonly chain: HashChain<LeaseState>;

  constructor(objects: ObjectStore, options: HashChainOptions = {}) {
    this.chain = new HashChain(objects, NAMESPACES.leases, leaseReducer, options);
  }

  /**
   * Leases `paths` (exact paths or prefixes, any accepted spelling) for an execution. Idempotent: the same
   * execution asking for the same set again gets its lease back. ERR_LEASE_CONFLICT when another active
   * lease overlaps, or when this execution already holds a different set (release it first).
   */
  async acquire(executionId: string, paths: readonly string[]): Promise<LeaseResult> {
    if (!EXECUTION_ID.test(executionId)) {
      throw new WorldloopError('ERR_INPUTS', `execution_id ${JSON.stringify(executionId)} is not a valid identifier`);
    }
    if (paths.length === 0) throw new WorldloopError('ERR_INPUTS', 'a lease needs at least one path');
    const canonical = [...new Set(paths.map((p) => parsePath(p).path))].sort();
    return this.chain.append((snap: ChainSnapshot<LeaseState>): AppendDecision<LeaseResult> => {
      const mine = snap.state.active.get(executionId);
      if (mine) {
        if (sameSet(mine.paths, canonical)) return { kind: 'done', result: { appended: false, lease: { ...mine } } };
        throw new WorldloopError(
          'ERR_LEASE_CONFLICT',
          `${executionId} already holds a lease on ${mine.paths.join(', ')}; release it before leasing ${canonical.join(', ')}`,
        );
      }
      for (const other of snap.state.active.values()) {
        const hit = overlapWith(canonical, other);
        if (hit) {
          throw new WorldloopError(
            'ERR_LEASE_CONFLICT',
            `${hit[0]} overlaps ${hit[1]}, leased by execution ${other.execution_id} since ${other.acquired_at}`,
          );
        }
      }
      return {
        kind: 'append',
        type: 'lease.acquire',
        payload: { execution_id: executionId, paths: canonical },
        result: () => ({ appended: true, lease: { ...snap.state.active.get(executionId)! } }),
      };
    });
  }

  /** Releases every lease of an execution. Idempotent: nothing held → nothing written. */
  async releaseLeases(executionId: string): Promise<LeaseResult> {
    return this.chain.append((snap: ChainSnapshot<LeaseState>): AppendDecision<LeaseResult> => {
      const mine = snap.state.active.get(executionId);
      if (!mine) return { kind: 'done', result: { appended: false, lease: undefined } };
      return {
        kind: 'append',
        type: 'lease.release',
        payload: { execution_id: executionId },
        result: () => ({ appended: true, lease: { ...mine } }),
      };
    });
  }

  async activeLeases(): Promise<Lease[]> {
    const snap = await this.chain.read();
    return [...snap.state.active.values()]
      .map((l) => ({ ...l, paths: [...l.paths] }))
      .sort((a, b) => (a.execution_id < b.execution_id ? -1 : a.execution_id > b.execution_id ? 1 : 0));
  }

  async head(): Promise<ChainHead> {
    return (await this.chain.read()).head;
  }

  async verify(): Promise<ChainVerification> {
    return this.chain.verify();
  }
}
