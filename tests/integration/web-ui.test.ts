// The Temporal Web UI, in a real browser: headless Chromium (Debian's package, driven by playwright-core)
// opens a finished run's page on the dev server and finds the five phase activities and worldloop's
// search attributes — what a platform engineer looks at when a run is questioned.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { uiLinkForWorkflow } from '../../src/temporal';
import { integrationEnv } from './env';
import { startLoopHarness, type LoopHarness } from './loop-harness';

const CHROMIUM = '/usr/bin/chromium';
let h: LoopHarness;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup.sh\` (installs Debian's chromium)`);
  h = await startLoopHarness(integrationEnv());
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

it('shows the run history with the five phase activities and the worldloop search attributes', async () => {
  const { execution_id, handle } = await h.start({
    processor_ref: 'text/stats@1',
    inputs: { text: `ui ${Date.now()}` },
    cache: false,
  });
  await handle.result();
  const { uiUrl, namespace } = integrationEnv();
  const page = await browser.newPage();

  const runPage = uiLinkForWorkflow(uiUrl, namespace, handle.workflowId, handle.firstExecutionRunId);

  // The history page: its timeline names each activity, one per phase.
  await page.goto(runPage, { waitUntil: 'networkidle' });
  await page.getByText('Event History').first().waitFor({ timeout: 30_000 });
  const history = await page.locator('body').innerText();
  expect(history).toContain(handle.workflowId);
  for (const activity of ['admit', 'reserve', 'execute', 'settle', 'recheck']) {
    expect(history, `activity ${activity} on the history page`).toMatch(new RegExp(`^${activity}$`, 'm'));
  }

  // The run's search attributes, with the values the workflow upserted.
  await page.goto(runPage.replace(/\/history$/, '/search-attributes'), { waitUntil: 'networkidle' });
  await page.getByText('WorldloopProcessorRef').first().waitFor({ timeout: 30_000 });
  const attributes = await page.locator('body').innerText();
  const receipt = await h.world.world.readBytes(`world://artifacts/execution/${execution_id}/determinism.json`);
  const { inputs_hash } = JSON.parse(new TextDecoder().decode(receipt)) as { inputs_hash: { value: string } };
  for (const [name, value] of [
    ['WorldloopProcessorRef', '"text/stats@1"'],
    ['WorldloopExecutionId', `"${execution_id}"`],
    ['WorldloopInputsHash', `"${inputs_hash.value}"`],
    ['WorldloopStatus', '"succeeded"'],
    ['WorldloopCacheHit', 'false'],
    ['WorldloopMode', '"mock"'],
  ]) {
    expect(attributes, `${name} on the search attributes page`).toContain(`"${name}": ${value}`);
  }
  expect(attributes).toMatch(/"WorldloopImageDigest": "sha256:[0-9a-f]{64}"/);

  // Visibility: the run is found by a worldloop search attribute query in the workflow list.
  const query = encodeURIComponent(`WorldloopExecutionId="${execution_id}" AND WorldloopStatus="succeeded"`);
  await page.goto(`${uiUrl}/namespaces/${namespace}/workflows?query=${query}`, { waitUntil: 'networkidle' });
  await page.getByText(handle.workflowId).first().waitFor({ timeout: 30_000 });
  await page.close();
}, 300_000);
