// What a Modal run hands its processor, end to end through the loopback fake of Modal's gRPC API and the real
// SDK: a real-mode secret (Modal gives a named secret to the prepare command alone, which writes it to a 0400
// file the kit reads) and artifact inputs (copied into the sandbox's /work/artifacts and verified as under the
// local adapter, with byte-identical outputs).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { hostPlatform } from '../../src/registry';
import { runHandle } from '../../src/temporal/client';
import { startModalFake, type ModalFake } from '../fixtures/modal-fake/server';
import { secretLeaks } from '../unit/helpers/secret-leaks';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';
import { bytesAt, outputsOf, receiptOf } from './modal-outputs';

const TOKEN = { MODAL_TOKEN_ID: 'ak-fake-inputs', MODAL_TOKEN_SECRET: 'as-fake-inputs' };
// Two values on purpose: the worker's own (Admit checks the name) and Modal's (what the sandbox gets).
const LOCAL_VALUE = `sk-local-${randomBytes(16).toString('hex')}`;
const MODAL_VALUE = `sk-modal-${randomBytes(16).toString('hex')}`;

let fake: ModalFake;
let h: LoopHarness;

beforeAll(async () => {
  const env = integrationEnv();
  fake = await startModalFake({
    tokenId: TOKEN.MODAL_TOKEN_ID,
    tokenSecret: TOKEN.MODAL_TOKEN_SECRET,
    secretValues: { OPENAI_API_KEY: { OPENAI_API_KEY: MODAL_VALUE } },
    sandboxes: { docker: new Docker(), pullRegistry: env.registryHost, platform: hostPlatform() },
  });
  vi.stubEnv('MODAL_SERVER_URL', fake.url);
  h = await startLoopHarness(env, {
    overrides: {
      ...TOKEN,
      MODAL_SERVER_URL: fake.url,
      MODAL_CONFIG_PATH: '/nonexistent/modal.toml',
      WORLDLOOP_MODAL_USER: 'test',
      WORLDLOOP_MODAL_BRANCH: 'inputs',
      OPENAI_API_KEY: LOCAL_VALUE,
      WORLDLOOP_SECRETS_DIR: await mkdtemp(join(tmpdir(), 'wl-no-secrets-')),
      CI: undefined,
    },
  });
}, 900_000);

afterAll(async () => {
  await h?.close();
  await fake?.close();
  vi.unstubAllEnvs();
});

type ExecStart = { command_args: string[]; secret_sources?: { secret_id?: string }[] };

describe('a real-mode run on Modal reads its secret', () => {
  it('test/secret@1: the Modal secret’s value reaches the processor as a file, in no environment, nowhere else', async () => {
    fake.calls.length = 0;
    const { execution_id, envelope } = await h.run({
      processor_ref: 'test/secret@1',
      inputs: { label: `real ${uuidv7()}` },
      adapter: 'modal',
      mode: 'real',
    });
    expect(envelope.status, JSON.stringify(envelope)).toBe('success');
    if (envelope.status !== 'success') return;
    const report = JSON.parse((await bytesAt(h, envelope.outputs[0]!)).toString()) as Record<string, unknown>;
    expect(report).toMatchObject({
      mode: 'real',
      sha256: createHash('sha256').update(MODAL_VALUE).digest('hex'),
      in_environment: false,
    });

    // Modal was asked for the secret by name; the sandbox got none, the prepare command alone got it.
    const methods = fake.calls.map((c) => c.method);
    expect(methods).toContain('SecretGetOrCreate');
    const create = fake.calls.find((c) => c.method === 'SandboxCreateV2')!.request as {
      definition: { secret_ids: string[] };
    };
    expect(create.definition.secret_ids).toEqual([]);
    const execs = fake.calls.filter((c) => c.method === 'TaskExecStart').map((c) => c.request as ExecStart);
    expect(execs.map((e) => (e.secret_sources ?? []).length)).toEqual([1, 0, 0]);
    expect(execs[1]!.command_args.slice(0, 2)).toEqual(['/usr/bin/node', '/app/main.js']);

    // Neither value in what the run recorded: envelope, receipt, the workflow history.
    const history = historyToJSON(await runHandle(h.client, execution_id).fetchHistory());
    const recorded = [JSON.stringify(envelope), JSON.stringify(await receiptOf(h, envelope)), history].join('\n');
    expect(secretLeaks(recorded, MODAL_VALUE)).toEqual([]);
    expect(secretLeaks(recorded, LOCAL_VALUE)).toEqual([]);
  });
});

describe('artifact inputs on Modal', () => {
  it('text/stats@1 counting a world artifact: the same outputs and input_artifacts as the local adapter', async () => {
    const first = await h.run({ processor_ref: 'text/stats@1', inputs: { text: `artifact ${uuidv7()}\nline 2\n` } });
    expect(first.envelope.status, JSON.stringify(first.envelope)).toBe('success');
    if (first.envelope.status !== 'success') return;
    const inputs = { file: { $world: first.envelope.outputs[0]! } };
    const modal = await h.run({ processor_ref: 'text/stats@1', inputs, adapter: 'modal', cache: false });
    const local = await h.run({ processor_ref: 'text/stats@1', inputs, adapter: 'local', cache: false });
    expect(await outputsOf(h, modal.envelope)).toEqual(await outputsOf(h, local.envelope));
    const [viaModal, viaLocal] = [await receiptOf(h, modal.envelope), await receiptOf(h, local.envelope)];
    expect(viaModal.adapter).toBe('modal');
    expect(viaModal.input_artifacts).toBeDefined();
    expect(viaModal.input_artifacts).toEqual(viaLocal.input_artifacts);
    expect(viaModal.inputs_hash).toEqual(viaLocal.inputs_hash);
  });
});
