// Pure pieces of the Temporal plumbing: the search-attribute list the dev server registers, and the links
// the CLI prints.
import { describe, expect, it } from 'vitest';
import { WORLDLOOP_SEARCH_ATTRIBUTES } from '../../src/contracts/search-attributes';
import { uiLinkForWorkflow, uiUrlForAddress } from '../../src/temporal/connection';

describe('search attributes', () => {
  it('lists the eight worldloop attributes with their CLI specs', () => {
    expect(WORLDLOOP_SEARCH_ATTRIBUTES.map((sa) => sa.cliSpec)).toEqual([
      'WorldloopProcessorRef=Keyword',
      'WorldloopMode=Keyword',
      'WorldloopPlan=Keyword',
      'WorldloopInputsHash=Keyword',
      'WorldloopImageDigest=Keyword',
      'WorldloopStatus=Keyword',
      'WorldloopCacheHit=Bool',
      'WorldloopExecutionId=Keyword',
    ]);
  });
});

describe('Web UI links', () => {
  it('encodes the workflow id (run/<execution_id> has a slash) and points at the history', () => {
    expect(uiLinkForWorkflow('http://127.0.0.1:8233/', 'default', 'run/0190abcd', 'r-1')).toBe(
      'http://127.0.0.1:8233/namespaces/default/workflows/run%2F0190abcd/r-1/history',
    );
    expect(uiLinkForWorkflow('http://127.0.0.1:8233', 'my ns', 'plan/p')).toBe(
      'http://127.0.0.1:8233/namespaces/my%20ns/workflows/plan%2Fp',
    );
  });

  it('derives a UI for a configured cluster, preferring TEMPORAL_UI_URL', () => {
    expect(uiUrlForAddress('temporal.internal:7233', 'https://ui.example/')).toBe('https://ui.example');
    expect(uiUrlForAddress('ns.acct.tmprl.cloud:7233', undefined)).toBe('https://cloud.temporal.io');
    expect(uiUrlForAddress('temporal.internal:7233', undefined)).toBe('http://temporal.internal:8080');
  });
});
