// Settle signs an attestation for every settled run (cache hits included) and `verifyRun` re-checks each link
// of a run against the world, the ledger and the admitted facts — here with the real activities over a real
// store in a temp folder (phase-harness), tampering with the store's files the way an attacker with disk
// access would. The Temporal and Docker halves are in tests/integration/verify-cli.test.ts.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdmitResult } from '../../activities';
import {
  IN_TOTO_PAYLOAD_TYPE,
  WORLDLOOP_BUILD_TYPE,
  attestationPath,
  type ProvenanceStatement,
} from '../../src/contracts/attestation';
import { determinismPath } from '../../src/contracts/write-prefix';
import { canonicalizeToBytes } from '../../src/hashing';
import {
  ed25519Signer,
  keyIdOf,
  openAttestation,
  signEnvelope,
  verifyRun,
  type AdmittedRunFacts,
  type VerifyingKey,
} from '../../src/provenance';
import { NAMESPACES, blobKey, pathKey } from '../../src/world';
import {
  PLAN,
  WORKFLOW,
  admit,
  inActivity,
  phaseEnv,
  prefixOf,
  request,
  settle,
  signingKey,
  upToSettle,
  type PhaseEnv,
} from './phase-harness';

let env: PhaseEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

const publicKey = createPublicKey(signingKey);
const key: VerifyingKey = { keyid: keyIdOf(publicKey), publicKey };

function factsOf(id: string, admitted: AdmitResult, cacheHit = false): AdmittedRunFacts {
  return {
    execution_id: id,
    workflow: WORKFLOW,
    processor_ref: request().processor_ref,
    plan: PLAN,
    inputs: request().inputs,
    admitted,
    cache_hit: cacheHit,
  };
}

async function settled(id: string) {
  env = await phaseEnv();
  const admitted = await admit(env, id);
  const envelope = await settle(env, id);
  return { env, admitted, envelope, facts: factsOf(id, admitted) };
}

const storeFile = (e: PhaseEnv, key: string) => join(e.dir, 'store', ...key.split('/'));

describe('the attestation Settle writes', () => {
  it('is an in-toto SLSA v1 statement over every output, outputs.json and both receipt copies', async () => {
    const { env: e, admitted, envelope } = await settled('e1');
    const statement = await openAttestation(e.world, key, attestationPath('e1'));
    const names = statement.subject.map((s) => s.name);
    expect(names).toEqual(
      [...envelope.outputs, envelope.index_path, `${prefixOf('e1')}receipt.json`, determinismPath('e1')].sort(),
    );
    const output = await e.world.stat(envelope.outputs[0]!);
    expect(statement.subject.find((s) => s.name === envelope.outputs[0])?.digest).toEqual({
      sha256: output?.sha256,
      blake3: output?.blake3,
    });
    const def = statement.predicate.buildDefinition;
    expect(def.buildType).toBe(WORLDLOOP_BUILD_TYPE);
    expect(def.externalParameters).toEqual({
      processor_ref: 'test/echo@1',
      inputs_hash: admitted.inputs_hash,
      mode: 'mock',
      plan: PLAN,
    });
    expect(def.internalParameters).toMatchObject({
      env_fingerprint: admitted.env_fingerprint,
      adapter: 'local',
      platform: 'linux/amd64',
      cache: { hit: false, source_execution_id: null },
      signing_keyid: key.keyid,
    });
    expect(def.resolvedDependencies[0]).toEqual({
      name: 'image',
      uri: `oci://${admitted.image}`,
      digest: { sha256: admitted.image_digest.slice('sha256:'.length) },
    });
    expect(statement.predicate.runDetails.metadata.invocationId).toBe('e1');
    expect((await e.world.stat(attestationPath('e1')))?.execution_id).toBe('e1');
    // Not an output: outputs.json does not list it.
    expect(envelope.outputs.some((p) => p.includes('attestation'))).toBe(false);
  });

  it('a Settle retry signs nothing new: the first attestation stands, byte for byte', async () => {
    env = await phaseEnv();
    const { settleInput } = await upToSettle(env, 'e1');
    await inActivity(env.activities.settle, settleInput);
    const first = await env.world.stat(attestationPath('e1'));
    await inActivity(env.activities.settle, settleInput);
    expect(await env.world.stat(attestationPath('e1'))).toEqual(first);
    // Only one attestation blob exists for the run: the retry did not even store a second envelope.
    const report = await verifyRun({ world: env.world, ledger: env.plans, key }, factsOf('e1', settleInput.admitted));
    expect(report.ok).toBe(true);
  });

  it('a cache hit is attested too, naming the run it re-used', async () => {
    const { env: e } = await settled('e1');
    const a2 = await admit(e, 'e2');
    const input = {
      execution_id: 'e2',
      request: request(),
      admitted: a2,
      record: a2.cache_hit!,
      workflow: WORKFLOW,
      started_at: '2026-01-01T00:00:00.000Z',
    };
    await inActivity(e.activities.settleCached, input);
    const statement = await openAttestation(e.world, key, attestationPath('e2'));
    expect(statement.predicate.buildDefinition.internalParameters.cache).toEqual({
      hit: true,
      source_execution_id: 'e1',
    });
    const report = await verifyRun({ world: e.world, ledger: e.plans, key }, factsOf('e2', a2, true));
    expect(report.links.filter((l) => !l.ok)).toEqual([]);
    expect(report.links.find((l) => l.link === 'ledger')?.detail).toMatch(/cache hit: nothing reserved/);
  });
});

describe('verifyRun', () => {
  const broken = (report: Awaited<ReturnType<typeof verifyRun>>) =>
    report.links.filter((l) => !l.ok).map((l) => [l.link, l.code]);

  it('a fresh run holds on every link, with the ledger arithmetic spelt out', async () => {
    const { env: e, facts } = await settled('e1');
    const report = await verifyRun({ world: e.world, ledger: e.plans, key }, facts);
    expect(broken(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.links.map((l) => l.link)).toEqual(['receipt-copies', 'history', 'outputs', 'ledger', 'attestation']);
    expect(report.links.find((l) => l.link === 'ledger')?.detail).toMatch(/reserved 100, charged 7, released 93/);
  });

  it('one flipped byte of a stored output blob → ERR_OUTPUT_TAMPERED naming that output', async () => {
    const { env: e, facts, envelope } = await settled('e1');
    const entry = (await e.world.stat(envelope.outputs[0]!))!;
    const file = storeFile(e, blobKey(entry.blake3));
    const bytes = await readFile(file);
    bytes[0] = bytes[0]! ^ 1;
    await writeFile(file, bytes);
    const report = await verifyRun({ world: e.world, ledger: e.plans, key }, facts);
    expect(broken(report)).toEqual([['outputs', 'ERR_OUTPUT_TAMPERED']]);
    expect(report.links.find((l) => l.link === 'outputs')?.detail).toContain(envelope.outputs[0]);
  });

  it('a receipt copy re-pointed at other bytes → ERR_RECEIPT_MISMATCH', async () => {
    const { env: e, facts } = await settled('e1');
    const path = `${prefixOf('e1')}receipt.json`;
    const forged = new TextEncoder().encode(
      new TextDecoder().decode(await e.world.readBytes(path)).replace('"cost_micro":7', '"cost_micro":0'),
    );
    const blob = await e.world.putBlob(forged);
    const indexFile = storeFile(e, pathKey(NAMESPACES.index, path));
    const record = JSON.parse(await readFile(indexFile, 'utf8')) as Record<string, unknown>;
    await writeFile(indexFile, JSON.stringify({ ...record, ...blob }));
    const report = await verifyRun({ world: e.world, ledger: e.plans, key }, facts);
    expect(report.links[0]).toMatchObject({ link: 'receipt-copies', ok: false, code: 'ERR_RECEIPT_MISMATCH' });
    expect(report.ok).toBe(false);
  });

  it('receipt ≠ history (another admitted image digest) → ERR_HISTORY_MISMATCH', async () => {
    const { env: e, facts } = await settled('e1');
    const other = { ...facts, admitted: { ...facts.admitted, image_digest: `sha256:${'b'.repeat(64)}` } };
    const report = await verifyRun({ world: e.world, ledger: e.plans, key }, other);
    expect(broken(report)).toEqual([['history', 'ERR_HISTORY_MISMATCH']]);
    expect(report.links[1]?.detail).toMatch(/image_digest/);
  });

  it('receipt ≠ history (an artifact input the receipt does not list) → ERR_HISTORY_MISMATCH', async () => {
    const { env: e, facts } = await settled('e1');
    const artifact = {
      pointer: '/file',
      path: 'world://artifacts/x.txt',
      blake3: 'c'.repeat(64),
      sha256: 'd'.repeat(64),
      size_bytes: 1,
    };
    const other = { ...facts, admitted: { ...facts.admitted, input_artifacts: [artifact] } };
    const report = await verifyRun({ world: e.world, ledger: e.plans, key }, other);
    expect(broken(report)).toEqual([['history', 'ERR_HISTORY_MISMATCH']]);
    expect(report.links[1]?.detail).toMatch(/input_artifacts/);
  });

  it('a reservation Admit did not decide → ERR_LEDGER_MISMATCH', async () => {
    const { env: e, facts } = await settled('e1');
    const other = { ...facts, admitted: { ...facts.admitted, reserve_micro: 50 } };
    const report = await verifyRun({ world: e.world, ledger: e.plans, key }, other);
    expect(broken(report)).toEqual([['ledger', 'ERR_LEDGER_MISMATCH']]);
  });

  it('an attestation blob altered on disk → ERR_ATTESTATION_INVALID', async () => {
    const { env: e, facts } = await settled('e1');
    const entry = (await e.world.stat(attestationPath('e1')))!;
    const file = storeFile(e, blobKey(entry.blake3));
    await writeFile(file, (await readFile(file, 'utf8')).replace('"keyid":"', '"keyid":"0'));
    const report = await verifyRun({ world: e.world, ledger: e.plans, key }, facts);
    expect(broken(report)).toEqual([['attestation', 'ERR_ATTESTATION_INVALID']]);
  });

  it('a well-formed attestation signed by another key, or with a forged subject → ERR_ATTESTATION_INVALID', async () => {
    const { env: e, facts } = await settled('e1');
    const statement = await openAttestation(e.world, key, attestationPath('e1'));
    // Re-sign with the right key but a subject digest changed: the signature holds, the subjects do not.
    const forged: ProvenanceStatement = {
      ...statement,
      subject: statement.subject.map((s, i) =>
        i === 0 ? { ...s, digest: { ...s.digest, sha256: 'f'.repeat(64) } } : s,
      ),
    };
    const signed = signEnvelope(
      IN_TOTO_PAYLOAD_TYPE,
      canonicalizeToBytes(forged),
      ed25519Signer(signingKey, key.keyid),
    );
    const other = generateKeyPairSync('ed25519');
    const foreign: VerifyingKey = { keyid: keyIdOf(other.publicKey), publicKey: other.publicKey };
    // Verifying with a key that did not sign it fails on the signature.
    const wrongKey = await verifyRun({ world: e.world, ledger: e.plans, key: foreign }, facts);
    expect(broken(wrongKey)).toEqual([['attestation', 'ERR_ATTESTATION_INVALID']]);
    expect(wrongKey.links.at(-1)?.detail).toMatch(/no signature by key/);
    // Swap the forged envelope in under the attestation's index record.
    const blob = await e.world.putBlob(canonicalizeToBytes(signed));
    const indexFile = storeFile(e, pathKey(NAMESPACES.index, attestationPath('e1')));
    const record = JSON.parse(await readFile(indexFile, 'utf8')) as Record<string, unknown>;
    await writeFile(indexFile, JSON.stringify({ ...record, ...blob }));
    const report = await verifyRun({ world: e.world, ledger: e.plans, key }, facts);
    expect(broken(report)).toEqual([['attestation', 'ERR_ATTESTATION_INVALID']]);
    expect(report.links.at(-1)?.detail).toMatch(/not attested as stored/);
  });
});
