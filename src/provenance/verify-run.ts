// `worldloop verify`: re-check every link of what a run claims (docs/provenance.md §Verify). Each link is one
// check with its own code; all of them run (one broken link does not hide another), and the run is proven
// only when every one holds.
import { WorldloopError, type ErrorCode } from '../contracts/errors';
import { OutputsIndexSchema, ReceiptSchema, type Receipt } from '../contracts/schemas';
import { determinismPath } from '../contracts/write-prefix';
import { parseJsonBytes } from '../hashing';
import type { Ledger, WorldStore } from '../world';
import type { VerifyingKey } from './keys';
import type { AdmittedRunFacts } from './run-facts';
import { verifyAttestation } from './verify-attestation';
import { digestProblem, rehash } from './verify-blobs';

export const VERIFY_LINKS = ['receipt-copies', 'history', 'outputs', 'ledger', 'attestation'] as const;
export type VerifyLink = (typeof VERIFY_LINKS)[number];

export interface LinkResult {
  link: VerifyLink;
  ok: boolean;
  /** Set when the link is broken. */
  code?: ErrorCode;
  detail: string;
}

export interface VerifyReport {
  execution_id: string;
  ok: boolean;
  links: LinkResult[];
  /** The receipt the links were checked against, when its copies held. */
  receipt?: Receipt;
}

export interface VerifyDeps {
  world: WorldStore;
  ledger: Ledger;
  key: VerifyingKey;
}

const fail = (code: ErrorCode, detail: string): never => {
  throw new WorldloopError(code, detail);
};

/** Both receipt copies bound, byte-identical, and hashing to the digest they are bound to. */
export async function checkReceiptCopies(world: WorldStore, facts: AdmittedRunFacts): Promise<Receipt> {
  const paths = [`${facts.admitted.write_prefix}receipt.json`, determinismPath(facts.execution_id)];
  const copies = await Promise.all(paths.map((p) => rehash(world, p)));
  copies.forEach((c, i) => {
    if (!c) fail('ERR_RECEIPT_MISMATCH', `${paths[i]} is missing`);
    else if (c.blake3 !== c.entry.blake3) fail('ERR_RECEIPT_MISMATCH', `${paths[i]}: ${digestProblem(c, c.entry)}`);
  });
  const [a, b] = copies as [NonNullable<(typeof copies)[0]>, NonNullable<(typeof copies)[0]>];
  if (!Buffer.from(a.bytes).equals(Buffer.from(b.bytes))) {
    fail('ERR_RECEIPT_MISMATCH', `${paths[0]} (blake3 ${a.blake3}) and ${paths[1]} (blake3 ${b.blake3}) differ`);
  }
  const parsed = ReceiptSchema.safeParse(parseJsonBytes(b.bytes));
  if (!parsed.success) return fail('ERR_RECEIPT_MISMATCH', `${paths[1]} is not a worldloop receipt`);
  return parsed.data;
}

/** The receipt says what the history says Admit decided. */
export function checkHistory(receipt: Receipt, facts: AdmittedRunFacts): string {
  const a = facts.admitted;
  const pairs: [string, unknown, unknown][] = [
    ['execution_id', receipt.execution_id, facts.execution_id],
    ['workflow', receipt.workflow, facts.workflow],
    ['processor_ref', receipt.processor_ref, facts.processor_ref],
    ['image_digest', receipt.image_digest, a.image_digest],
    ['inputs_hash', receipt.inputs_hash, a.inputs_hash],
    ['cache key', receipt.cache.key, a.cache_key],
    ['cache hit', receipt.cache.hit, facts.cache_hit],
    ['env_fingerprint', receipt.env_fingerprint, a.env_fingerprint],
    ['mode', receipt.mode, a.mode],
    ['platform', receipt.platform, a.platform],
    ['adapter', receipt.adapter, a.adapter],
    ['input_artifacts', receipt.input_artifacts, a.input_artifacts],
  ];
  const differ = pairs.filter(([, r, h]) => JSON.stringify(r) !== JSON.stringify(h));
  if (differ.length > 0) {
    fail(
      'ERR_HISTORY_MISMATCH',
      differ.map(([k, r, h]) => `${k}: receipt ${JSON.stringify(r)}, history ${JSON.stringify(h)}`).join('; '),
    );
  }
  return `image ${a.image_digest}, inputs ${a.inputs_hash.value}, cache key ${a.cache_key} match run ${facts.workflow.run_id}`;
}

/** outputs.json and every output re-hashed (BLAKE3 and SHA-256) against the receipt. */
export async function checkOutputs(world: WorldStore, receipt: Receipt): Promise<string> {
  const indexPath = receipt.outputs_index.path;
  const index = await rehash(world, indexPath);
  if (!index) return fail('ERR_OUTPUT_TAMPERED', `${indexPath} is missing`);
  const indexProblem = digestProblem(index, { blake3: receipt.outputs_index.blake3, sha256: index.entry.sha256 });
  if (indexProblem) fail('ERR_OUTPUT_TAMPERED', `${indexPath}: ${indexProblem}`);
  const listed = OutputsIndexSchema.parse(parseJsonBytes(index.bytes)).outputs;
  const problems: string[] = [];
  const recorded = new Map(receipt.outputs.map((o) => [o.path, o]));
  if (listed.length !== recorded.size || listed.some((o) => !recorded.has(o.path))) {
    problems.push(`${indexPath} and the receipt list different outputs`);
  }
  for (const o of listed) {
    const r = recorded.get(o.path);
    if (r && (r.blake3 !== o.blake3 || r.sha256 !== o.sha256 || r.size_bytes !== o.size_bytes)) {
      problems.push(`${o.path}: outputs.json and the receipt record different digests`);
      continue;
    }
    const got = await rehash(world, o.path);
    const problem = got ? digestProblem(got, o) : 'missing';
    if (problem) problems.push(`${o.path}: ${problem}`);
  }
  if (problems.length > 0) fail('ERR_OUTPUT_TAMPERED', problems.join('; '));
  return `outputs.json and ${listed.length} output(s) re-hashed (BLAKE3, SHA-256)`;
}

/** The plan ledger: chain intact; a miss reserved what Admit decided, was charged the receipt's cost, released the rest. */
export async function checkLedger(ledger: Ledger, receipt: Receipt, facts: AdmittedRunFacts): Promise<string> {
  const chain = await ledger.verifyPlan(facts.plan);
  if (!chain.ok) fail('ERR_LEDGER_BROKEN', `plan ${facts.plan}: ${chain.problems.join('; ')}`);
  const plan = await ledger.getPlan(facts.plan);
  const r = plan.reservations.find((x) => x.execution_id === facts.execution_id);
  if (facts.cache_hit) {
    if (r)
      fail('ERR_LEDGER_MISMATCH', `a cache hit holds no reservation, but plan ${facts.plan} has one (${r.status})`);
    return `cache hit: nothing reserved or charged on plan ${facts.plan} (chain of ${chain.events} events intact)`;
  }
  if (!r) return fail('ERR_LEDGER_MISMATCH', `plan ${facts.plan} has no reservation for ${facts.execution_id}`);
  if (r.amount_micro !== facts.admitted.reserve_micro) {
    fail('ERR_LEDGER_MISMATCH', `reserved ${r.amount_micro} micro-USD, Admit decided ${facts.admitted.reserve_micro}`);
  }
  if (r.status !== 'charged') fail('ERR_LEDGER_MISMATCH', `the reservation is ${r.status}, not charged`);
  if (r.charged_micro !== receipt.cost_micro) {
    fail('ERR_LEDGER_MISMATCH', `charged ${r.charged_micro ?? '?'} micro-USD, the receipt says ${receipt.cost_micro}`);
  }
  const released = r.amount_micro - receipt.cost_micro;
  return `plan ${facts.plan}: reserved ${r.amount_micro}, charged ${receipt.cost_micro}, released ${released} micro-USD (chain of ${chain.events} events intact)`;
}

async function link(name: VerifyLink, code: ErrorCode, fn: () => Promise<string> | string): Promise<LinkResult> {
  try {
    return { link: name, ok: true, detail: await fn() };
  } catch (err) {
    if (err instanceof WorldloopError) return { link: name, ok: false, code: err.code, detail: err.detail };
    return { link: name, ok: false, code, detail: err instanceof Error ? err.message : String(err) };
  }
}

export async function verifyRun(deps: VerifyDeps, facts: AdmittedRunFacts): Promise<VerifyReport> {
  let receipt: Receipt | undefined;
  const links: LinkResult[] = [
    await link('receipt-copies', 'ERR_RECEIPT_MISMATCH', async () => {
      receipt = await checkReceiptCopies(deps.world, facts);
      return `both copies identical (blake3 ${(await deps.world.stat(determinismPath(facts.execution_id)))?.blake3})`;
    }),
  ];
  if (!receipt) {
    // Without a receipt there is nothing to hold the other links against.
    for (const name of VERIFY_LINKS.slice(1)) {
      links.push({
        link: name,
        ok: false,
        code: 'ERR_RECEIPT_MISMATCH',
        detail: 'not checked: no trustworthy receipt',
      });
    }
    return { execution_id: facts.execution_id, ok: false, links };
  }
  const r = receipt;
  links.push(
    await link('history', 'ERR_HISTORY_MISMATCH', () => checkHistory(r, facts)),
    await link('outputs', 'ERR_OUTPUT_TAMPERED', () => checkOutputs(deps.world, r)),
    await link('ledger', 'ERR_LEDGER_MISMATCH', () => checkLedger(deps.ledger, r, facts)),
    await link('attestation', 'ERR_ATTESTATION_INVALID', () => verifyAttestation(deps.world, deps.key, r, facts)),
  );
  return { execution_id: facts.execution_id, ok: links.every((l) => l.ok), links, receipt: r };
}
