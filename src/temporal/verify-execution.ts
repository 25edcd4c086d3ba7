// The client role of `worldloop verify` (as client.ts is for runs): gather the run's facts from Temporal, the
// world and the ledger, run every check of src/provenance, and optionally re-execute. The CLI prints what this
// returns; the integration tests call it directly.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { materializeArtifactInputs } from '../../activities/artifact-inputs';
import type { Config } from '../config';
import { createDockerAdapter } from '../adapters';
import { connectDocker } from '../adapters/docker-engine';
import { bindArtifacts } from '../contracts/artifact-inputs';
import { WorldloopError } from '../contracts/errors';
import { createLogger, defaultRedactor } from '../log';
import {
  reexecute,
  verifyRun,
  verifyingKeyFromPem,
  type ReexecReport,
  type VerifyReport,
  type VerifyingKey,
} from '../provenance';
import { openWorld } from '../world';
import { runClient } from './client';
import { configuredSigningKey, realSecretResolver } from './signing-key';
import type { TemporalConnection } from './connection';
import { admittedRunFacts } from './verify-history';

export interface VerifyExecutionOptions {
  /** Re-run the image with the same inputs in a fresh container and compare every output. */
  reexec?: boolean;
  /** Let --reexec re-run a real-mode run for real (it calls the provider again). */
  allowReal?: boolean;
  /** A public key PEM file to verify the attestation with, instead of this machine's signing key. */
  keyFile?: string;
}

export interface ExecutionVerification extends VerifyReport {
  keyid: string;
  reexec?: ReexecReport;
}

/** The key attestations are checked against: --key, else the configured signing key's public half. */
export async function verifyingKey(cfg: Config, keyFile?: string): Promise<VerifyingKey> {
  if (keyFile) {
    let pem: string;
    try {
      pem = await readFile(keyFile, 'utf8');
    } catch {
      throw new WorldloopError('ERR_USAGE', `cannot read the public key file ${keyFile}`);
    }
    return verifyingKeyFromPem(pem, keyFile);
  }
  return configuredSigningKey(cfg);
}

export async function verifyExecution(
  cfg: Config,
  temporal: TemporalConnection,
  executionId: string,
  opts: VerifyExecutionOptions = {},
): Promise<ExecutionVerification> {
  const key = await verifyingKey(cfg, opts.keyFile);
  const facts = await admittedRunFacts(runClient(temporal), executionId);
  const { world, ledger } = openWorld(cfg);
  const report = await verifyRun({ world, ledger, key }, facts);
  const result: ExecutionVerification = { ...report, keyid: key.keyid };
  if (!opts.reexec) return result;
  if (!report.receipt) {
    throw new WorldloopError('ERR_RECEIPT_MISMATCH', 'no trustworthy receipt to re-execute against');
  }
  const adapter = createDockerAdapter({
    docker: connectDocker(cfg),
    redact: (s) => defaultRedactor.redactString(s),
    logger: createLogger({ level: cfg.logLevel === 'info' ? 'warn' : cfg.logLevel }),
    ...(cfg.egressNetwork ? { egressNetwork: cfg.egressNetwork } : {}),
  });
  const reexec = await reexecute(
    {
      adapter,
      world,
      workdirRoot: join(cfg.stateDir, 'reexec'),
      ci: cfg.ci,
      resolveSecret: (name) => realSecretResolver(cfg).resolve(name),
      // As Execute does: the admitted artifact bytes (digest-checked while copied) where the container reads them.
      prepare: async (workdir) => {
        const artifacts = facts.admitted.input_artifacts ?? [];
        await materializeArtifactInputs(world, workdir, artifacts);
        return artifacts.length > 0
          ? (bindArtifacts(facts.inputs, artifacts) as Record<string, unknown>)
          : facts.inputs;
      },
    },
    facts,
    report.receipt,
    { allowReal: opts.allowReal === true, executionId: uuidv7() },
  );
  return { ...result, ok: result.ok && reexec.ok, reexec };
}
