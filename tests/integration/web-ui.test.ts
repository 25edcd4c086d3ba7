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
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup.sh\` (installs Debian's chromium)`);
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
  const { execution_id, handle } = await h.start({ processor_ref: 'text/stats@1', inputs: { text: `ui ${Date.now()}` }, cache: false });
  await handle.result();
  const { uiUrl, namespace } = integrationEnv();
  const page = await browser.newPage();

  // The history page lists every event; activity types appear as their names.
  await page.goto(uiLinkForWorkflow(uiUrl, namespace, handle.workflowId, handle.firstExecutionRunId), { waitUntil: 'networkidle' });
  await page.getByText('execute', { exact: false }).first().waitFor({ timeout: 30_000 });
  const history = await page.content();
  for (const activity of ['admit', 'reserve', 'execute', 'settle', 'recheck']) {
    expect(history, `activity ${activity} on the history page`).toContain(activity);
  }

  // Visibility: the run is found by a worldloop search attribute query in the workflow list.
  const query = encodeURIComponent(`WorldloopExecutionId="${execution_id}" AND WorldloopProcessorRef="text/stats@1" AND WorldloopStatus="succeeded"`);
  await page.goto(`${uiUrl}/namespaces/${namespace}/workflows?query=${query}`, { waitUntil: 'networkidle' });
  await page.getByText(handle.workflowId).first().waitFor({ timeout: 30_000 });

  // The run's own page lists its search attributes by name.
  await page.goto(uiLinkForWorkflow(uiUrl, namespace, handle.workflowId, handle.firstExecutionRunId).replace(/\/history$/, '/metadata'), {
    waitUntil: 'networkidle',
  });
  const body = await page.content();
  const attributes = ['WorldloopProcessorRef', 'WorldloopInputsHash', 'WorldloopImageDigest', 'WorldloopStatus', 'WorldloopCacheHit'];
  const seen = attributes.filter((a) => body.includes(a));
  expect(seen, `search attributes visible on the run page: ${seen.join(', ')}`).toEqual(attributes);
  await page.close();
}, 300_000);
