// What `worldloop verify` reads from a run's Temporal history, on the committed recorded histories
// (tests/replay/histories/): the start input, Admit's completed result, and whether the run settled from the cache.
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config';
import { admittedFactsFromHistory } from '../../src/temporal/verify-history';

const recorded = (file: string) =>
  historyFromJSON(JSON.parse(readFileSync(join(REPO_ROOT, 'tests/replay/histories', file), 'utf8'))).events ?? [];
const WF = { id: 'run/x', run_id: 'r' };

// Runs recorded since the local-phases patch (Admit, cached Settle and Re-check as local-activity markers) and
// runs recorded before it (ordinary activities) are read alike.
describe.each(['', '.before-local-phases'])('admittedFactsFromHistory (histories%s)', (kind) => {
  const events = (name: string) => recorded(`${name}${kind}.json`);
  it('a cache miss: the request, what Admit decided, cache_hit false', () => {
    const facts = admittedFactsFromHistory('x', WF, events('text-stats-success'));
    expect(facts).toMatchObject({ processor_ref: 'text/stats@1', workflow: WF, cache_hit: false });
    expect(facts.plan).toMatch(/^[a-z0-9]/);
    expect(facts.inputs).toHaveProperty('text');
    expect(facts.admitted.image_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(facts.admitted.image.endsWith(facts.admitted.image_digest)).toBe(true);
    expect(facts.admitted.inputs_hash.hash_schema).toBe('jcs-blake3-v1');
    expect(facts.admitted.cache_key).toMatch(/^[0-9a-f]{64}$/);
    expect(facts.admitted.write_prefix).toMatch(/^world:\/\/artifacts\//);
  });

  it('a cache hit is recognised by settleCached in place of execute', () => {
    expect(admittedFactsFromHistory('x', WF, events('text-stats-cache-hit')).cache_hit).toBe(true);
  });

  it('a run refused in Admit has no admitted facts → ERR_HISTORY_MISMATCH', () => {
    expect(() => admittedFactsFromHistory('x', WF, events('text-stats-bad-inputs'))).toThrow(
      /ERR_HISTORY_MISMATCH.*no completed admit/,
    );
  });

  it('a history that is not a run → ERR_HISTORY_MISMATCH', () => {
    expect(() => admittedFactsFromHistory('x', WF, [])).toThrow(/ERR_HISTORY_MISMATCH/);
  });
});
