// The deploy lane's post-deploy probes (DESIGN.md §12, issue 9): after `worldloop deploy --env E`,
//
//   mock validation  every processor in the registry runs once in mock mode through the Modal adapter, on the
//                    whole loop, and must settle (a success envelope: Settle verified and landed its outputs);
//   negative probe   every processor that requires a secret runs once in real mode on Modal WITHOUT it and
//                    must end in ERR_MISSING_SECRET — the deployed image refuses, fail closed. Anything else
//                    (success, another code) fails the lane.
//
// The negative probe calls the Modal adapter itself, not the loop: real mode is refused in CI by the loop
// (ERR_CI_SAFETY, DESIGN.md §3), and the probe is the one real-mode run CI must make. It is safe by
// construction: no secret is resolved or sent, the network is blocked, nothing it writes reaches the world
// (its workdir is a scratch folder that is removed). ADR 0018.
//
// This module decides and reports; the CLI (src/cli/commands/deploy.ts) wires the runs.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WorldloopError } from '../contracts/errors';
import type { Envelope, RegistryEntry } from '../contracts/schemas';
import { fixedInputs } from '../build/verify-image';
import { writeFileAtomic } from '../write-file-atomic';

export type ProbeKind = 'mock-validation' | 'negative';

export interface ProbeResult {
  readonly ref: string;
  readonly probe: ProbeKind;
  /** passed, failed, or skipped (a processor that needs no secret has nothing to refuse). */
  readonly verdict: 'passed' | 'failed' | 'skipped';
  /** What the run ended in: `success`, or its error code. */
  readonly saw: string;
  readonly detail: string;
  readonly execution_id?: string;
}

export interface ProbeRuns {
  /** One mock-mode run of `ref` through the Modal adapter on the loop; its final envelope. */
  mockRun(entry: RegistryEntry, inputs: unknown): Promise<Envelope>;
  /** One real-mode invocation of the Modal adapter with no secret and no network; its envelope. */
  negativeRun(entry: RegistryEntry, inputs: unknown): Promise<Envelope>;
}

export interface ProbeReport {
  readonly env: string;
  readonly ok: boolean;
  readonly results: readonly ProbeResult[];
}

/** The probe inputs of a processor: its schema's first example, else the smallest valid instance. */
export function probeInputs(entry: RegistryEntry): unknown {
  return fixedInputs(entry.inputs);
}

function saw(envelope: Envelope): string {
  return envelope.status === 'success' ? 'success' : envelope.error.code;
}

function detailOf(envelope: Envelope): string {
  return envelope.status === 'success' ? `${envelope.outputs.length} outputs settled` : envelope.error.message;
}

/** Throws are the probe's findings too: a run that could not even start is a failed probe, not a crash. */
async function settled(run: () => Promise<Envelope>): Promise<{ saw: string; detail: string; id?: string }> {
  try {
    const envelope = await run();
    return { saw: saw(envelope), detail: detailOf(envelope), id: envelope.execution_id };
  } catch (err) {
    const code = err instanceof WorldloopError ? err.code : 'ERR_INTERNAL';
    return { saw: code, detail: err instanceof Error ? err.message : String(err) };
  }
}

/** Runs both probes for every entry, one run at a time, in ref order. */
export async function runDeployProbes(
  env: string,
  entries: readonly RegistryEntry[],
  runs: ProbeRuns,
): Promise<ProbeReport> {
  const results: ProbeResult[] = [];
  const sorted = [...entries].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  for (const entry of sorted) {
    const inputs = probeInputs(entry);
    const mock = await settled(() => runs.mockRun(entry, inputs));
    results.push({
      ref: entry.ref,
      probe: 'mock-validation',
      verdict: mock.saw === 'success' ? 'passed' : 'failed',
      saw: mock.saw,
      detail: mock.saw === 'success' ? mock.detail : `expected success: ${mock.detail}`,
      ...(mock.id ? { execution_id: mock.id } : {}),
    });
    if (entry.secrets.required.length === 0) {
      results.push({
        ref: entry.ref,
        probe: 'negative',
        verdict: 'skipped',
        saw: '',
        detail: 'requires no secret',
      });
      continue;
    }
    const negative = await settled(() => runs.negativeRun(entry, inputs));
    const refused = negative.saw === 'ERR_MISSING_SECRET';
    results.push({
      ref: entry.ref,
      probe: 'negative',
      verdict: refused ? 'passed' : 'failed',
      saw: negative.saw,
      detail: refused
        ? `refused without ${entry.secrets.required.join(', ')}`
        : `expected ERR_MISSING_SECRET without ${entry.secrets.required.join(', ')}: ${negative.detail}`,
      ...(negative.id ? { execution_id: negative.id } : {}),
    });
  }
  return { env, ok: results.every((r) => r.verdict !== 'failed'), results };
}

/** ERR_DEPLOY_PROBE naming every failed probe (processor, probe, what it saw). */
export function probeFailure(report: ProbeReport): WorldloopError {
  const failed = report.results.filter((r) => r.verdict === 'failed');
  return new WorldloopError(
    'ERR_DEPLOY_PROBE',
    `${report.env}: ${failed.length} probe(s) failed: ${failed.map((r) => `${r.ref} ${r.probe} saw ${r.saw} (${r.detail.slice(0, 300)})`).join('; ')}`,
  );
}

/**
 * Keeps the report as `<deployments>/probes/<env>-<time>-<id>.json`, create-only and atomic (written aside,
 * published by link): a probe run never overwrites another's record, and a reader never sees half a file.
 */
export async function recordProbeReport(
  deploymentsDir: string,
  report: ProbeReport,
  meta: { by: string; at: Date; id: string },
): Promise<string> {
  const dir = join(deploymentsDir, 'probes');
  await mkdir(dir, { recursive: true });
  const stamp = meta.at.toISOString().replace(/[:.]/g, '-');
  const file = join(dir, `${report.env}-${stamp}-${meta.id.slice(-12)}.json`);
  const body = { ...report, probed_at: meta.at.toISOString(), by: meta.by };
  await writeFileAtomic(file, `${JSON.stringify(body, null, 2)}\n`, { exclusive: true });
  return file;
}
