// An append-only, hash-chained event log on an ObjectStore (docs/adr/0001-ledger-on-conditional-writes.md).
//
// Event n lives at `<prefix><n, 12 digits>` and its bytes are exactly JCS(event), where every event is
// `{ seq, prev, type, at, ...payload }`, `seq` starts at 1 and `prev` is the hex hash of event n−1
// (64 zeros for event 1). The hash of event n is
//
//     h(n) = BLAKE3( bytes(h(n−1)) ‖ JCS(event n) )      with bytes(h(0)) = 32 zero bytes
//
// (`bytes(h)` is the 32-byte digest, not its hex). Appends are optimistic: read the head, let the caller
// validate against the derived state, then create `<seq+1>` with a create-only write. Exactly one of any
// number of racing writers (threads, processes, machines) wins a sequence number; the others re-read and
// re-validate. So the derived state a writer validated against is always the state its event follows.
import { WorldloopError } from '../contracts/errors';
import { blake3Hex, canonicalize, parseJsonBytes } from '../hashing';
import type { ObjectStore } from './object-store';

export const GENESIS_HASH = '0'.repeat(64);
const SEQ_DIGITS = 12;
const SEQ_NAME = /^\d{12}$/;
const utf8 = new TextEncoder();
const utf8Decode = new TextDecoder('utf-8', { fatal: true });

export interface ChainEvent {
  seq: number;
  prev: string;
  type: string;
  at: string;
  [field: string]: unknown;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * Folds events into derived state. `apply` may mutate and return the state it was given; it throws a
 * plain Error whose message describes the rule an event breaks (the chain turns it into ERR_LEDGER_BROKEN).
 */
export interface ChainReducer<S> {
  initial(): S;
  apply(state: S, event: ChainEvent): S;
}

export interface ChainSnapshot<S> {
  head: ChainHead;
  state: S;
}

export type AppendDecision<R> =
  | { kind: 'append'; type: string; payload: Record<string, unknown>; result: (event: ChainEvent) => R }
  | { kind: 'done'; result: R };

export interface ChainVerification {
  ok: boolean;
  events: number;
  head: ChainHead;
  problems: string[];
}

export interface HashChainOptions {
  /** Maximum optimistic attempts before giving up with ERR_LEDGER_CONTENTION. */
  maxAttempts?: number;
  now?: () => Date;
}

export function seqName(seq: number): string {
  return String(seq).padStart(SEQ_DIGITS, '0');
}

function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** h(n) = BLAKE3(bytes(prevHash) ‖ eventBytes). */
export function chainHash(prevHash: string, eventBytes: Uint8Array): string {
  const buf = new Uint8Array(32 + eventBytes.byteLength);
  buf.set(hexToBytes(prevHash), 0);
  buf.set(eventBytes, 32);
  return blake3Hex(buf);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Checks one stored event against its slot and predecessor; returns the parsed event and its hash, or a
 * description of what is wrong.
 */
function checkEvent(
  bytes: Uint8Array,
  seq: number,
  prevHash: string,
): { ok: true; event: ChainEvent; hash: string } | { ok: false; problem: string } {
  let event: ChainEvent;
  try {
    event = parseJsonBytes(bytes) as ChainEvent;
  } catch (err) {
    return { ok: false, problem: `event ${seq}: not JSON (${(err as Error).message})` };
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return { ok: false, problem: `event ${seq}: not an object` };
  }
  let text: string;
  try {
    text = utf8Decode.decode(bytes);
  } catch {
    return { ok: false, problem: `event ${seq}: not UTF-8` };
  }
  if (canonicalize(event) !== text) return { ok: false, problem: `event ${seq}: bytes are not the JCS form` };
  if (event.seq !== seq)
    return { ok: false, problem: `event ${seq}: stored in slot ${seq} but says seq ${String(event.seq)}` };
  if (event.prev !== prevHash) {
    return {
      ok: false,
      problem: `event ${seq}: prev ${String(event.prev)} does not match the hash of event ${seq - 1} (${prevHash})`,
    };
  }
  if (typeof event.type !== 'string' || typeof event.at !== 'string') {
    return { ok: false, problem: `event ${seq}: missing type or at` };
  }
  return { ok: true, event, hash: chainHash(prevHash, bytes) };
}

export class HashChain<S> {
  private snapshot: ChainSnapshot<S> | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private readonly maxAttempts: number;
  private readonly now: () => Date;

  constructor(
    private readonly objects: ObjectStore,
    /** Key prefix ending in `/`, e.g. `plans/p1/events/`. */
    readonly prefix: string,
    private readonly reducer: ChainReducer<S>,
    options: HashChainOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 200;
    this.now = options.now ?? (() => new Date());
  }

  private broken(problem: string): WorldloopError {
    // A chain that fails once is not trusted again in this process: the next call re-reads from scratch.
    this.snapshot = undefined;
    return new WorldloopError('ERR_LEDGER_BROKEN', `${this.prefix}: ${problem}`);
  }

  /** Reads the whole chain from the store (a listing plus every event). Throws ERR_LEDGER_BROKEN. */
  private async loadCold(): Promise<ChainSnapshot<S>> {
    const v = await this.readAll();
    if (!v.ok) throw this.broken(v.problems[0] ?? 'unknown problem');
    return { head: v.head, state: v.state };
  }

  /** Brings the cached snapshot up to date by probing the slots after its head (O(new events)). */
  private async refresh(): Promise<ChainSnapshot<S>> {
    if (!this.snapshot) {
      this.snapshot = await this.loadCold();
      return this.snapshot;
    }
    const snap = this.snapshot;
    for (;;) {
      const seq = snap.head.seq + 1;
      const bytes = await this.objects.get(`${this.prefix}${seqName(seq)}`);
      if (!bytes) return snap;
      this.applyStored(snap, seq, bytes);
    }
  }

  private applyStored(snap: ChainSnapshot<S>, seq: number, bytes: Uint8Array): void {
    const checked = checkEvent(bytes, seq, snap.head.hash);
    if (!checked.ok) throw this.broken(checked.problem);
    try {
      snap.state = this.reducer.apply(snap.state, checked.event);
    } catch (err) {
      throw this.broken(`event ${seq} breaks a rule: ${(err as Error).message}`);
    }
    snap.head = { seq, hash: checked.hash };
  }

  /** The current derived state (refreshed from the store). */
  async read(): Promise<ChainSnapshot<S>> {
    return this.exclusive(() => this.refresh());
  }

  /**
   * Appends one event after `decide` validated it against the current state, or returns `decide`'s result
   * without writing. Retries on a lost race, re-reading and re-deciding each time.
   */
  async append<R>(decide: (snap: ChainSnapshot<S>) => AppendDecision<R>): Promise<R> {
    return this.exclusive(async () => {
      for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
        const snap = await this.refresh();
        const decision = decide(snap);
        if (decision.kind === 'done') return decision.result;
        const seq = snap.head.seq + 1;
        const event: ChainEvent = {
          ...decision.payload,
          seq,
          prev: snap.head.hash,
          type: decision.type,
          at: this.now().toISOString(),
        };
        const bytes = utf8.encode(canonicalize(event));
        const put = await this.objects.putIfAbsent(`${this.prefix}${seqName(seq)}`, bytes);
        if (put === 'created') {
          this.applyStored(snap, seq, bytes);
          return decision.result(event);
        }
        // Another writer took this slot: back off with jitter so racing writers spread out, then re-read.
        await sleep(Math.random() * Math.min(50, 2 ** Math.min(attempt, 6)));
      }
      throw new WorldloopError(
        'ERR_LEDGER_CONTENTION',
        `${this.prefix}: gave up after ${this.maxAttempts} attempts lost to concurrent writers`,
      );
    });
  }

  /** Serialises this process's readers and writers of the chain; other processes are handled by putIfAbsent. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Reads every stored event from scratch (ignoring the cache) and checks the chain end to end. */
  async verify(): Promise<ChainVerification> {
    const v = await this.readAll();
    return { ok: v.ok, events: v.events, head: v.head, problems: v.problems };
  }

  private async readAll(): Promise<ChainVerification & { state: S }> {
    const keys = await this.objects.list(this.prefix);
    const problems: string[] = [];
    const slots: number[] = [];
    for (const key of keys) {
      const name = key.slice(this.prefix.length);
      if (!SEQ_NAME.test(name)) problems.push(`unexpected object ${key}`);
      else slots.push(Number(name));
    }
    let state = this.reducer.initial();
    let head: ChainHead = { seq: 0, hash: GENESIS_HASH };
    let events = 0;
    // Keys are sorted and zero-padded, so slot i must hold seq i+1; a hole means an event was removed.
    for (const [i, seq] of slots.entries()) {
      if (seq !== i + 1) {
        problems.push(`event ${i + 1} is missing (next stored event is ${seq})`);
        break;
      }
      const bytes = await this.objects.get(`${this.prefix}${seqName(seq)}`);
      if (!bytes) {
        problems.push(`event ${seq} vanished while reading`);
        break;
      }
      const checked = checkEvent(bytes, seq, head.hash);
      if (!checked.ok) {
        problems.push(checked.problem);
        break;
      }
      try {
        state = this.reducer.apply(state, checked.event);
      } catch (err) {
        problems.push(`event ${seq} breaks a rule: ${(err as Error).message}`);
        break;
      }
      head = { seq, hash: checked.hash };
      events = seq;
    }
    return { ok: problems.length === 0, events, head, problems, state };
  }
}
