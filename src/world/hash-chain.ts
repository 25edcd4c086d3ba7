// An append-only, hash-chained event log on an ObjectStore (docs/adr/0001-ledger-on-conditional-writes.md).
//
// A chain lives under a root such as `plans/<key>/`. Event n is the object `<root>events/<n, 12 digits>`
// and its bytes are exactly JCS(event), where every event is
// `{ seq, prev, type, at, ...payload }`, `seq` starts at 1 and `prev` is the hex hash of event n−1
// (64 zeros for event 1). The hash of event n is
//
//     h(n) = BLAKE3( bytes(h(n−1)) ‖ JCS(event n) )      with bytes(h(0)) = 32 zero bytes
//
// (`bytes(h)` is the 32-byte digest, not its hex). Appends are optimistic: read the head, let the caller
// validate against the derived state, then create `<seq+1>` with a create-only write. Exactly one of any
// number of racing writers (threads, processes, machines) wins a sequence number; the others re-read and
// re-validate. So the derived state a writer validated against is always the state its event follows.
//
// Checkpoints (`<root>checkpoints/<n>` = JCS({seq, hash, state})) are written every `checkpointEvery`
// events so a new process reads only the events after the latest one instead of the whole chain. They are
// a cache, not a source of truth: a checkpoint must name the real hash of event n to be used, and
// `verify()` recomputes the state from event 1 and checks every checkpoint against it.
import { WorldloopError } from '../contracts/errors';
import { blake3Hex, canonicalize, parseJsonBytes } from '../hashing';
import type { ObjectStore } from './object-store';

export const GENESIS_HASH = '0'.repeat(64);
const SEQ_DIGITS = 12;
const SEQ_NAME = /^\d{12}$/;
const utf8 = new TextEncoder();
const utf8Decode = new TextDecoder('utf-8', { fatal: true });
/** Events read in parallel per round trip (bounded, so a long chain never exhausts file descriptors). */
const READ_BATCH = 64;

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
  /** JSON form of the state for checkpoints (I-JSON; Maps become arrays). */
  encode(state: S): unknown;
  /** Inverse of encode; throws on a malformed value. */
  decode(value: unknown): S;
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
  /** Write a checkpoint after every this many events (0: never). */
  checkpointEvery?: number;
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
  private readonly checkpointEvery: number;
  private readonly now: () => Date;
  private readonly events: string;
  private readonly checkpoints: string;

  constructor(
    private readonly objects: ObjectStore,
    /** Key prefix ending in `/`, e.g. `plans/p1/`. */
    readonly root: string,
    private readonly reducer: ChainReducer<S>,
    options: HashChainOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 200;
    this.checkpointEvery = options.checkpointEvery ?? 256;
    this.now = options.now ?? (() => new Date());
    this.events = `${root}events/`;
    this.checkpoints = `${root}checkpoints/`;
  }

  private eventKey(seq: number): string {
    return `${this.events}${seqName(seq)}`;
  }

  private broken(problem: string): WorldloopError {
    // A chain that fails once is not trusted again in this process: the next call re-reads from scratch.
    this.snapshot = undefined;
    return new WorldloopError('ERR_LEDGER_BROKEN', `${this.root}: ${problem}`);
  }

  /** Sorted event and checkpoint sequence numbers, with problems for anything else stored under the root. */
  private async inventory(): Promise<{ events: number[]; checkpoints: number[]; problems: string[] }> {
    const keys = await this.objects.list(this.root);
    const events: number[] = [];
    const checkpoints: number[] = [];
    const problems: string[] = [];
    for (const key of keys) {
      const [list, name] = key.startsWith(this.events)
        ? [events, key.slice(this.events.length)]
        : key.startsWith(this.checkpoints)
          ? [checkpoints, key.slice(this.checkpoints.length)]
          : [undefined, key];
      if (list && SEQ_NAME.test(name)) list.push(Number(name));
      else problems.push(`unexpected object ${key}`);
    }
    // Keys are zero-padded and sorted, so slot i must hold seq i+1; a hole means an event was removed.
    const hole = events.findIndex((seq, i) => seq !== i + 1);
    if (hole >= 0) problems.push(`event ${hole + 1} is missing (next stored event is ${events[hole]!})`);
    return { events, checkpoints, problems };
  }

  /**
   * A new process's first read: start from the latest usable checkpoint (or from event 1) and read only the
   * events after it. Throws ERR_LEDGER_BROKEN.
   */
  private async loadCold(): Promise<ChainSnapshot<S>> {
    const inv = await this.inventory();
    if (inv.problems.length > 0) throw this.broken(inv.problems[0]!);
    const last = inv.events.length;
    let snap: ChainSnapshot<S> = { head: { seq: 0, hash: GENESIS_HASH }, state: this.reducer.initial() };
    for (const seq of inv.checkpoints.filter((c) => c <= last).reverse()) {
      const fromCheckpoint = await this.readCheckpoint(seq);
      if (fromCheckpoint) {
        snap = fromCheckpoint;
        break;
      }
    }
    for (let from = snap.head.seq + 1; from <= last; from += READ_BATCH) {
      const seqs = Array.from({ length: Math.min(READ_BATCH, last - from + 1) }, (_, i) => from + i);
      const bytes = await Promise.all(seqs.map((seq) => this.objects.get(this.eventKey(seq))));
      for (const [i, seq] of seqs.entries()) {
        const b = bytes[i];
        if (!b) throw this.broken(`event ${seq} vanished while reading`);
        this.applyStored(snap, seq, b);
      }
    }
    return snap;
  }

  /** A checkpoint, if it is well-formed and names the actual hash of its event; undefined otherwise. */
  private async readCheckpoint(seq: number): Promise<ChainSnapshot<S> | undefined> {
    const [cp, eventBytes] = await Promise.all([
      this.objects.get(`${this.checkpoints}${seqName(seq)}`),
      this.objects.get(this.eventKey(seq)),
    ]);
    if (!cp || !eventBytes) return undefined;
    try {
      const value = parseJsonBytes(cp) as { seq?: unknown; hash?: unknown; state?: unknown };
      const event = parseJsonBytes(eventBytes) as ChainEvent;
      if (value.seq !== seq || event.seq !== seq || typeof event.prev !== 'string') return undefined;
      if (value.hash !== chainHash(event.prev, eventBytes)) return undefined;
      return { head: { seq, hash: value.hash }, state: this.reducer.decode(value.state) };
    } catch {
      return undefined;
    }
  }

  private async writeCheckpoint(snap: ChainSnapshot<S>): Promise<void> {
    const body = { seq: snap.head.seq, hash: snap.head.hash, state: this.reducer.encode(snap.state) };
    try {
      await this.objects.putIfAbsent(`${this.checkpoints}${seqName(snap.head.seq)}`, utf8.encode(canonicalize(body)));
    } catch {
      // Only an optimisation: the next cold read uses an earlier checkpoint or event 1.
    }
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
      const bytes = await this.objects.get(this.eventKey(seq));
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
        const put = await this.objects.putIfAbsent(this.eventKey(seq), bytes);
        if (put === 'created') {
          this.applyStored(snap, seq, bytes);
          if (this.checkpointEvery > 0 && seq % this.checkpointEvery === 0) await this.writeCheckpoint(snap);
          return decision.result(event);
        }
        // Another writer took this slot: back off with jitter so racing writers spread out, then re-read.
        await sleep(Math.random() * Math.min(50, 2 ** Math.min(attempt, 6)));
      }
      throw new WorldloopError(
        'ERR_LEDGER_CONTENTION',
        `${this.root}: gave up after ${this.maxAttempts} attempts lost to concurrent writers`,
      );
    });
  }

  /** Serialises this process's readers and writers of the chain; other processes are handled by putIfAbsent. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Reads every stored event from scratch (ignoring the cache and the checkpoints' states) and checks the
   * chain end to end: names, JCS form, sequence, hash links, every rule, and every checkpoint.
   */
  async verify(): Promise<ChainVerification> {
    const inv = await this.inventory();
    const problems = [...inv.problems];
    const pendingCheckpoints = new Set(inv.checkpoints);
    let state = this.reducer.initial();
    let head: ChainHead = { seq: 0, hash: GENESIS_HASH };
    const contiguous = inv.events.filter((seq, i) => seq === i + 1);
    outer: for (let start = 0; start < contiguous.length; start += READ_BATCH) {
      const batch = contiguous.slice(start, start + READ_BATCH);
      const bytes = await Promise.all(batch.map((seq) => this.objects.get(this.eventKey(seq))));
      for (const [i, seq] of batch.entries()) {
        const b = bytes[i];
        if (!b) {
          problems.push(`event ${seq} vanished while reading`);
          break outer;
        }
        const checked = checkEvent(b, seq, head.hash);
        if (!checked.ok) {
          problems.push(checked.problem);
          break outer;
        }
        try {
          state = this.reducer.apply(state, checked.event);
        } catch (err) {
          problems.push(`event ${seq} breaks a rule: ${(err as Error).message}`);
          break outer;
        }
        head = { seq, hash: checked.hash };
        if (pendingCheckpoints.delete(seq)) {
          const cp = await this.objects.get(`${this.checkpoints}${seqName(seq)}`);
          const expected = canonicalize({ seq, hash: head.hash, state: this.reducer.encode(state) });
          if (!cp || Buffer.from(cp).toString('utf8') !== expected) {
            problems.push(`checkpoint ${seq} does not match the state recomputed from events 1..${seq}`);
          }
        }
      }
    }
    for (const seq of pendingCheckpoints) {
      if (seq > head.seq) problems.push(`checkpoint ${seq} is beyond the last verified event ${head.seq}`);
    }
    return { ok: problems.length === 0, events: head.seq, head, problems };
  }
}
