// Proves every layer fence of eslint.config.js fires: each case lints a one-line import as if it sat in a
// file of that layer (ESLint's Node API, the repository's own config) and expects the fence's verdict. The
// allowed cases prove the fence is not a blanket ban. Only no-restricted-imports runs, without type
// information, so no TypeScript program is built.
import { ESLint } from 'eslint';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';

type Verdict = 'forbidden' | 'allowed';
const P = '../../../../../src'; // from processors/<ns>/<name>/<major>/src/

// [file the import is written in, the import statement, verdict]
const CASES: ReadonlyArray<readonly [string, string, Verdict]> = [
  // contracts: zod and itself only (@temporalio/common in the two SDK-facing modules)
  ['src/contracts/schemas.ts', "import { z } from 'zod';", 'allowed'],
  ['src/contracts/schemas.ts', "import { type ErrorCode } from './errors';", 'allowed'],
  ['src/contracts/schemas.ts', "import { readFileSync } from 'node:fs';", 'forbidden'],
  ['src/contracts/schemas.ts', "import { canonicalPath } from '../world/path';", 'forbidden'],
  ['src/contracts/schemas.ts', "import type { Config } from '../config';", 'forbidden'],
  ['src/contracts/schemas.ts', "import { ApplicationFailure } from '@temporalio/common';", 'forbidden'],
  ['src/contracts/failure.ts', "import { ApplicationFailure } from '@temporalio/common';", 'allowed'],
  ['src/contracts/failure.ts', "import { proxyActivities } from '@temporalio/workflow';", 'forbidden'],
  ['src/contracts/inputs-schema.ts', "import { Ajv2020 } from 'ajv/dist/2020.js';", 'allowed'],
  ['src/contracts/schemas.ts', "import { Ajv2020 } from 'ajv/dist/2020.js';", 'forbidden'],
  // hashing: contracts only
  ['src/hashing/jcs.ts', "import { WorldloopError } from '../contracts/errors';", 'allowed'],
  ['src/hashing/jcs.ts', "import { canonicalPath } from '../world/path';", 'forbidden'],
  ['src/hashing/jcs.ts', "import { Client } from '@temporalio/client';", 'forbidden'],
  // world: contracts, hashing, writeFileAtomic; types of the config
  ['src/world/ledger.ts', "import { blake3Hex } from '../hashing';", 'allowed'],
  ['src/world/ledger.ts', "import { writeFileAtomic } from '../write-file-atomic';", 'allowed'],
  ['src/world/open-world.ts', "import type { Config } from '../config';", 'allowed'],
  ['src/world/open-world.ts', "import { loadConfig } from '../config';", 'forbidden'],
  ['src/world/ledger.ts', "import { createDockerAdapter } from '../adapters';", 'forbidden'],
  ['src/world/ledger.ts', "import { loadRegistry } from '../registry/registry';", 'forbidden'],
  ['src/world/ledger.ts', "import { Context } from '@temporalio/activity';", 'forbidden'],
  ['src/world/ledger.ts', "import pino from 'pino';", 'forbidden'],
  // adapters (today's files and the new docker/ and modal/ folders): no Temporal values, nothing above
  ['src/adapters/docker/supervisor.ts', "import { Context } from '@temporalio/activity';", 'forbidden'],
  ['src/adapters/docker/adapter.ts', "import { Context } from '@temporalio/activity';", 'forbidden'],
  ['src/adapters/docker/adapter.ts', "import type { Context } from '@temporalio/activity';", 'allowed'],
  ['src/adapters/modal/sandbox.ts', "import { Client } from '@temporalio/client';", 'forbidden'],
  ['src/adapters/docker/adapter.ts', "import { startWorker } from '../../temporal/worker';", 'forbidden'],
  ['src/adapters/docker/adapter.ts', "import { createActivities } from '../../../activities';", 'forbidden'],
  ['src/adapters/docker/adapter.ts', "import { canonicalPath } from '../../world';", 'allowed'],
  // registry, oci, build: no Temporal, no processor kit values
  ['src/registry/registry.ts', "import { compileInputsSchema } from '../processor-kit/inputs';", 'forbidden'],
  ['src/registry/bundle.ts', "import type { EmbeddedSpec } from '../processor-kit/types';", 'allowed'],
  ['src/oci/client.ts', "import { Connection } from '@temporalio/client';", 'forbidden'],
  ['src/build/image-builder.ts', "import { compileInputsSchema } from '../processor-kit/inputs';", 'forbidden'],
  ['src/build/image-builder.ts', "import { devServer } from '../temporal/dev-server';", 'forbidden'],
  ['src/build/image-builder.ts', "import { pushImage } from '../oci/client';", 'allowed'],
  ['src/build/image-builder.ts', "import { loadRegistry } from '../registry';", 'allowed'],
  ['src/registry/pin.ts', "import { pushImage } from '../oci';", 'allowed'],
  ['src/registry/pin.ts', "import { buildAndPush } from '../build/build-push';", 'forbidden'],
  ['src/oci/client.ts', "import { loadRegistry } from '../registry';", 'forbidden'],
  ['src/oci/client.ts', "import { buildAndPush } from '../build';", 'forbidden'],
  // provenance: contracts, hashing, world; adapters as types only; never Temporal
  ['src/provenance/keys.ts', "import { writeFileAtomic } from '../write-file-atomic';", 'allowed'],
  ['src/provenance/reexec.ts', "import type { Adapter } from '../adapters/adapter';", 'allowed'],
  ['src/provenance/reexec.ts', "import { createDockerAdapter } from '../adapters';", 'forbidden'],
  ['src/provenance/verify-run.ts', "import { runClient } from '../temporal/client';", 'forbidden'],
  ['src/provenance/verify-run.ts', "import { Client } from '@temporalio/client';", 'forbidden'],
  // secrets, log, config: contracts (and each other)
  ['src/secrets/resolver.ts', "import { redact } from '../log/redactor';", 'allowed'],
  ['src/secrets/resolver.ts', "import { openWorld } from '../world';", 'forbidden'],
  ['src/log/logger.ts', "import { Worker } from '@temporalio/worker';", 'forbidden'],
  ['src/config.ts', "import { WorldloopError } from './contracts/errors';", 'allowed'],
  ['src/config.ts', "import { openWorld } from './world';", 'forbidden'],
  ['src/lock-file.ts', "import { WorldloopError } from './contracts/errors';", 'forbidden'],
  // processor kit: contracts, hashing, the pure WorldPath modules
  ['src/processor-kit/outputs.ts', "import { canonicalPath } from '../world/path';", 'allowed'],
  ['src/processor-kit/outputs.ts', "import { findDuplicates } from '../world/path-duplicates';", 'allowed'],
  ['src/processor-kit/outputs.ts', "import { WorldStore } from '../world/world-store';", 'forbidden'],
  ['src/processor-kit/outputs.ts', "import { Ledger } from '../world';", 'forbidden'],
  ['src/processor-kit/log.ts', "import pino from 'pino';", 'forbidden'],
  ['src/processor-kit/log.ts', "import { Context } from '@temporalio/activity';", 'forbidden'],
  [`processors/text/stats/1/src/main.ts`, `import { runProcessor } from '${P}/processor-kit';`, 'allowed'],
  [`processors/text/stats/1/src/main.ts`, `import { openWorld } from '${P}/world';`, 'forbidden'],
  [`processors/text/stats/1/src/main.ts`, "import Docker from 'dockerode';", 'forbidden'],
  // github: a leaf REST client; lanes: lane logic below the CLI
  ['src/github/pull-request.ts', "import { WorldloopError } from '../contracts/errors';", 'allowed'],
  ['src/github/pull-request.ts', "import { loadRegistry } from '../registry/registry';", 'forbidden'],
  ['src/github/pull-request.ts', "import { Client } from '@temporalio/client';", 'forbidden'],
  ['src/lanes/pin-pr.ts', "import { ensurePullRequest } from '../github/pull-request';", 'allowed'],
  ['src/lanes/pin-pr.ts', "import { loadRegistry } from '../registry/registry';", 'allowed'],
  ['src/lanes/pin-pr.ts', "import { Worker } from '@temporalio/worker';", 'forbidden'],
  ['src/lanes/pin-pr.ts', "import { main } from '../cli/main';", 'forbidden'],
  // activities: never the workflow package
  ['activities/admit.ts', "import { sleep } from '@temporalio/workflow';", 'forbidden'],
  ['activities/admit.ts', "import { Context } from '@temporalio/activity';", 'allowed'],
  // workflows: values only from @temporalio/workflow and src/contracts
  ['workflows/run-processor.ts', "import { readFile } from 'node:fs/promises';", 'forbidden'],
  ['workflows/run-processor.ts', "import { openWorld } from '../src/world';", 'forbidden'],
  ['workflows/run-processor.ts', "import type { World } from '../src/world';", 'allowed'],
  ['workflows/run-processor.ts', "import { errorEnvelope } from '../src/contracts/envelope';", 'allowed'],
  ['workflows/run-processor.ts', "import { compileInputsSchema } from '../src/contracts/inputs-schema';", 'forbidden'],
];

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({
    cwd: REPO_ROOT,
    // Only the fences run, and without a TypeScript program (the fences need none).
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
    overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
  });
});

async function restrictedImports(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath: join(REPO_ROOT, file) });
  if (!result) throw new Error(`ESLint returned no result for ${file}`);
  const fatal = result.messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(`${file}: ${fatal.map((m) => m.message).join('; ')}`);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer fences (eslint.config.js)', () => {
  it.each(CASES)('%s: %s is %s', async (file, code, verdict) => {
    const messages = await restrictedImports(file, code);
    if (verdict === 'forbidden') expect(messages.length).toBeGreaterThan(0);
    else expect(messages).toEqual([]);
  });

  it('names the layer rule in the message, so a developer knows what to change', async () => {
    const [message] = await restrictedImports('src/world/ledger.ts', "import { Context } from '@temporalio/activity';");
    expect(message).toContain('src/world never imports Temporal');
  });
});
