// Plans and budgets: one hash chain per plan (hash-chain.ts) at `plans/<key>/events/`. Money is integer
// micro-dollars throughout. Derived state: budget, reserved (outstanding), spent, and
// available = budget − reserved − spent, which no event may push below zero (docs/architecture.md §2, Reserve/Settle).
//
// Per execution a reservation moves reserved → charged (settled at an actual cost ≤ the amount reserved;
// the rest returns to the budget) or reserved → released (compensation). Every call is idempotent per
// execution_id, so Temporal may retry Reserve, Settle and the compensation freely.
import { assertNever, WorldloopError } from '../contracts/errors';
import { PlanKeySchema } from '../contracts/schemas';
import { zodIssueError } from '../contracts/zod-issue';
import {
  HashChain,
  type AppendDecision,
  type ChainEvent,
  type ChainHead,
  type ChainReducer,
  type ChainSnapshot,
  type HashChainOptions,
} from './hash-chain';
import type { ObjectStore } from './object-store';
import { NAMESPACES } from './store-keys';

export const PLAN_EVENT_TYPES = ['plan.created', 'budget.raised', 'reserve', 'charge', 'release'] as const;
export type PlanEventType = (typeof PLAN_EVENT_TYPES)[number];

export type ReservationStatus = 'reserved' | 'charged' | 'released';

export interface Reservation {
  execution_id: string;
  amount_micro: number;
  status: ReservationStatus;
  /** Set once charged: the actual cost (≤ amount_micro). */
  charged_micro?: number;
  reserved_at: string;
  settled_at?: string;
}

interface PlanState {
  key: string;
  created_at: string;
  budget_micro: number;
  reserved_micro: number;
  spent_micro: number;
  reservations: Map<string, Reservation>;
}

export interface PlanView {
  key: string;
  created_at: string;
  budget_micro: number;
  reserved_micro: number;
  spent_micro: number;
  available_micro: number;
  events: number;
  head: ChainHead;
  reservations: Reservation[];
}

export interface ReservationResult {
  /** False when the execution already had a reservation (or settlement): nothing was written. */
  appended: boolean;
  reservation: Reservation;
  plan: PlanView;
}

export interface ReleaseResult {
  appended: boolean;
  /** Undefined when the execution never reserved on this plan. */
  reservation: Reservation | undefined;
  plan: PlanView;
}

export interface PlanVerification {
  ok: boolean;
  key: string;
  events: number;
  head: ChainHead;
  problems: string[];
}

const EXECUTION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/** The run request's rule (PlanKeySchema), so no plan can be created that a run could not name. */
export function validatePlanKey(key: string): string {
  const parsed = PlanKeySchema.safeParse(key);
  if (!parsed.success) throw zodIssueError('ERR_USAGE', parsed.error, { context: `plan key ${JSON.stringify(key)}` });
  return key;
}

function validateExecutionId(id: string): string {
  if (typeof id !== 'string' || !EXECUTION_ID.test(id)) {
    throw new WorldloopError('ERR_INPUTS', `execution_id ${JSON.stringify(id)} is not a valid identifier`);
  }
  return id;
}

function validateMicro(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new WorldloopError('ERR_INPUTS', `${what} must be a non-negative integer of micro-dollars, got ${value}`);
  }
  return value;
}

const available = (s: PlanState): number => s.budget_micro - s.reserved_micro - s.spent_micro;

// ---- the reducer: the rules, applied to every stored event (so `plan verify` re-checks them too) ----------

function field(event: ChainEvent, name: string, kind: 'int' | 'string'): number | string {
  const v = event[name];
  if (kind === 'int' ? !Number.isSafeInteger(v) || (v as number) < 0 : typeof v !== 'string') {
    throw new Error(`${event.type}: field ${name} is missing or malformed`);
  }
  return v as number | string;
}

interface EncodedPlanState extends Omit<PlanState, 'reservations'> {
  reservations: Reservation[];
}

function planReducer(planKey: string): ChainReducer<PlanState | undefined> {
  return {
    initial: () => undefined,
    encode: (state) =>
      state ? ({ ...state, reservations: [...state.reservations.values()] } satisfies EncodedPlanState) : null,
    decode: (value) => {
      if (value === null) return undefined;
      const v = value as EncodedPlanState;
      if (v.key !== planKey || !Array.isArray(v.reservations)) throw new Error('checkpoint is not of this plan');
      return { ...v, reservations: new Map(v.reservations.map((r) => [r.execution_id, { ...r }])) };
    },
    apply(state, event) {
      const type = event.type as PlanEventType;
      if (!PLAN_EVENT_TYPES.includes(type)) throw new Error(`unknown event type ${event.type}`);
      if (type === 'plan.created') {
        if (state) throw new Error('plan.created after the plan exists');
        if (event.plan !== planKey) throw new Error(`plan.created names plan ${String(event.plan)}, not ${planKey}`);
        return {
          key: planKey,
          created_at: event.at,
          budget_micro: field(event, 'budget_micro', 'int') as number,
          reserved_micro: 0,
          spent_micro: 0,
          reservations: new Map(),
        };
      }
      if (!state) throw new Error(`${type} before plan.created`);
      switch (type) {
        case 'budget.raised': {
          const budget = field(event, 'budget_micro', 'int') as number;
          if (budget < state.budget_micro) throw new Error(`budget.raised lowers the budget to ${budget}`);
          state.budget_micro = budget;
          return state;
        }
        case 'reserve': {
          const id = field(event, 'execution_id', 'string') as string;
          const amount = field(event, 'amount_micro', 'int') as number;
          const prior = state.reservations.get(id);
          if (prior && prior.status !== 'released') {
            throw new Error(`second reserve for ${id} while its reservation is ${prior.status}`);
          }
          if (amount > available(state)) throw new Error(`reserve ${amount} for ${id} overdraws ${available(state)}`);
          state.reservations.set(id, {
            execution_id: id,
            amount_micro: amount,
            status: 'reserved',
            reserved_at: event.at,
          });
          state.reserved_micro += amount;
          return state;
        }
        case 'charge': {
          const id = field(event, 'execution_id', 'string') as string;
          const amount = field(event, 'amount_micro', 'int') as number;
          const r = state.reservations.get(id);
          if (r?.status !== 'reserved') throw new Error(`charge for ${id} without an open reservation`);
          if (amount > r.amount_micro)
            throw new Error(`charge ${amount} for ${id} exceeds its reservation ${r.amount_micro}`);
          r.status = 'charged';
          r.charged_micro = amount;
          r.settled_at = event.at;
          state.reserved_micro -= r.amount_micro;
          state.spent_micro += amount;
          return state;
        }
        case 'release': {
          const id = field(event, 'execution_id', 'string') as string;
          const r = state.reservations.get(id);
          if (r?.status !== 'reserved') throw new Error(`release for ${id} without an open reservation`);
          r.status = 'released';
          r.settled_at = event.at;
          state.reserved_micro -= r.amount_micro;
          return state;
        }
        default:
          return assertNever(type);
      }
    },
  };
}

function view(snap: ChainSnapshot<PlanState | undefined>): PlanView {
  const s = snap.state;
  if (!s) throw new Error('view of a plan that does not exist');
  return {
    key: s.key,
    created_at: s.created_at,
    budget_micro: s.budget_micro,
    reserved_micro: s.reserved_micro,
    spent_micro: s.spent_micro,
    available_micro: available(s),
    events: snap.head.seq,
    head: { ...snap.head },
    reservations: [...s.reservations.values()].map((r) => ({ ...r })),
  };
}

function mustExist(key: string, snap: ChainSnapshot<PlanState | undefined>): PlanState {
  if (!snap.state) throw new WorldloopError('ERR_PLAN_NOT_FOUND', `no plan ${JSON.stringify(key)}`);
  return snap.state;
}

type Snap = ChainSnapshot<PlanState | undefined>;

export class Ledger {
  private readonly chains = new Map<string, HashChain<PlanState | undefined>>();

  constructor(
    private readonly objects: ObjectStore,
    private readonly options: HashChainOptions = {},
  ) {}

  private chain(key: string): HashChain<PlanState | undefined> {
    validatePlanKey(key);
    let chain = this.chains.get(key);
    if (!chain) {
      chain = new HashChain(this.objects, `${NAMESPACES.plans}${key}/`, planReducer(key), this.options);
      this.chains.set(key, chain);
    }
    return chain;
  }

  /** Creates a plan. The same budget again is a no-op; a different one is ERR_PLAN_EXISTS. */
  async createPlan(key: string, budgetMicro: number): Promise<PlanView & { created: boolean }> {
    validateMicro(budgetMicro, 'budget');
    return this.chain(key).append((snap: Snap): AppendDecision<PlanView & { created: boolean }> => {
      if (snap.state) {
        if (snap.state.budget_micro !== budgetMicro) {
          throw new WorldloopError(
            'ERR_PLAN_EXISTS',
            `plan ${key} exists with budget ${snap.state.budget_micro} micro-USD, not ${budgetMicro}`,
          );
        }
        return { kind: 'done', result: { ...view(snap), created: false } };
      }
      return {
        kind: 'append',
        type: 'plan.created',
        payload: { plan: key, budget_micro: budgetMicro },
        result: () => ({ ...view(snap), created: true }),
      };
    });
  }

  async getPlan(key: string): Promise<PlanView> {
    const snap = await this.chain(key).read();
    mustExist(key, snap);
    return view(snap);
  }

  /** Raises (never lowers) a plan's budget. */
  async raiseBudget(key: string, budgetMicro: number): Promise<PlanView> {
    validateMicro(budgetMicro, 'budget');
    return this.chain(key).append((snap: Snap): AppendDecision<PlanView> => {
      const s = mustExist(key, snap);
      if (budgetMicro < s.budget_micro) {
        throw new WorldloopError('ERR_INPUTS', `a budget can only be raised: ${budgetMicro} < ${s.budget_micro}`);
      }
      if (budgetMicro === s.budget_micro) return { kind: 'done', result: view(snap) };
      return {
        kind: 'append',
        type: 'budget.raised',
        payload: { budget_micro: budgetMicro },
        result: () => view(snap),
      };
    });
  }

  /**
   * Reserves `amountMicro` for an execution. Idempotent: an execution with an open or charged reservation
   * gets it back unchanged (whatever amount it asks for now); a released one is reserved again.
   * ERR_BUDGET_EXCEEDED when it would overdraw.
   */
  async reserve(key: string, executionId: string, amountMicro: number): Promise<ReservationResult> {
    validateExecutionId(executionId);
    validateMicro(amountMicro, 'reservation');
    return this.chain(key).append((snap: Snap): AppendDecision<ReservationResult> => {
      const s = mustExist(key, snap);
      const existing = s.reservations.get(executionId);
      // A released reservation re-opens: Reserve may be retried after it gave its budget back itself (e.g.
      // after a failed lease), and that retry must hold money again before Execute runs.
      if (existing && existing.status !== 'released') {
        return { kind: 'done', result: { appended: false, reservation: { ...existing }, plan: view(snap) } };
      }
      if (amountMicro > available(s)) {
        throw new WorldloopError(
          'ERR_BUDGET_EXCEEDED',
          `plan ${key}: reserving ${amountMicro} micro-USD for ${executionId} exceeds the ${available(s)} available (budget ${s.budget_micro}, reserved ${s.reserved_micro}, spent ${s.spent_micro})`,
        );
      }
      return {
        kind: 'append',
        type: 'reserve',
        payload: { execution_id: executionId, amount_micro: amountMicro },
        result: () => ({ appended: true, reservation: { ...s.reservations.get(executionId)! }, plan: view(snap) }),
      };
    });
  }

  /**
   * Settles a reservation at its actual cost (≤ the amount reserved; the rest returns to the budget).
   * Idempotent: charging the same amount again is a no-op. Refused (ERR_BUDGET_EXCEEDED) above the
   * reservation, after a release (the money is no longer held), or with a different amount than an
   * earlier charge (ERR_CHARGE_MISMATCH: a settle retry must be deterministic).
   */
  async charge(key: string, executionId: string, actualMicro: number): Promise<ReservationResult> {
    validateExecutionId(executionId);
    validateMicro(actualMicro, 'charge');
    return this.chain(key).append((snap: Snap): AppendDecision<ReservationResult> => {
      const s = mustExist(key, snap);
      const r = s.reservations.get(executionId);
      if (!r) throw new WorldloopError('ERR_NOT_FOUND', `plan ${key} has no reservation for ${executionId}`);
      switch (r.status) {
        case 'charged':
          if (r.charged_micro === actualMicro) {
            return { kind: 'done', result: { appended: false, reservation: { ...r }, plan: view(snap) } };
          }
          throw new WorldloopError(
            'ERR_CHARGE_MISMATCH',
            `plan ${key}: ${executionId} was already charged ${r.charged_micro ?? '?'} micro-USD; refusing a second charge of ${actualMicro}`,
          );
        case 'released':
          throw new WorldloopError(
            'ERR_BUDGET_EXCEEDED',
            `plan ${key}: the reservation of ${executionId} was released; a charge after release would spend unreserved money`,
          );
        case 'reserved':
          if (actualMicro > r.amount_micro) {
            throw new WorldloopError(
              'ERR_BUDGET_EXCEEDED',
              `plan ${key}: charge ${actualMicro} micro-USD for ${executionId} exceeds its reservation of ${r.amount_micro}`,
            );
          }
          return {
            kind: 'append',
            type: 'charge',
            payload: { execution_id: executionId, amount_micro: actualMicro, reserved_micro: r.amount_micro },
            result: () => ({ appended: true, reservation: { ...s.reservations.get(executionId)! }, plan: view(snap) }),
          };
        default:
          return assertNever(r.status);
      }
    });
  }

  /**
   * Compensation: returns an open reservation to the budget. Idempotent and safe to call whatever happened:
   * no reservation, already released, or already charged → nothing is written.
   */
  async release(key: string, executionId: string): Promise<ReleaseResult> {
    validateExecutionId(executionId);
    return this.chain(key).append((snap: Snap): AppendDecision<ReleaseResult> => {
      const s = mustExist(key, snap);
      const r = s.reservations.get(executionId);
      if (r?.status !== 'reserved') {
        return { kind: 'done', result: { appended: false, reservation: r ? { ...r } : undefined, plan: view(snap) } };
      }
      return {
        kind: 'append',
        type: 'release',
        payload: { execution_id: executionId, amount_micro: r.amount_micro },
        result: () => ({ appended: true, reservation: { ...s.reservations.get(executionId)! }, plan: view(snap) }),
      };
    });
  }

  /** Re-reads the plan's whole chain from the store and checks hashes, order and every rule. */
  async verifyPlan(key: string): Promise<PlanVerification> {
    const v = await this.chain(key).verify();
    if (v.ok && v.events === 0) throw new WorldloopError('ERR_PLAN_NOT_FOUND', `no plan ${JSON.stringify(key)}`);
    return { ok: v.ok, key, events: v.events, head: v.head, problems: v.problems };
  }

  /** Plan keys present in the store. */
  async listPlans(): Promise<string[]> {
    const keys = await this.objects.list(NAMESPACES.plans);
    return [...new Set(keys.map((k) => k.slice(NAMESPACES.plans.length).split('/')[0]!))].sort();
  }
}
