// `worldloop pin --pr` (Build & Pin's last step): the registry changes `pin` just made go to one pull request
// on worldloop/pins (src/lanes/pin-pr.ts). Called by pin.ts after the pins passed the two-platform check.
import { relative } from 'node:path';
import type { Config } from '../../config';
import { connectGitHub } from '../../github/client';
import { gitIn } from '../../lanes/git';
import { PINS_BRANCH, type PinsPullRequestResult, proposePins } from '../../lanes/pin-pr';

/** Proposes the pins; prints a line unless `json` (the caller puts the result in its one JSON object). */
export async function proposePinsCommand(cfg: Config, json: boolean): Promise<PinsPullRequestResult> {
  const git = gitIn(cfg.registryDir);
  const root = await git(['rev-parse', '--show-toplevel']);
  const current = await git(['rev-parse', '--abbrev-ref', 'HEAD']);
  const base = cfg.github.refName ?? (current === 'HEAD' ? 'main' : current);
  const result = await proposePins({
    git: gitIn(root),
    github: () => connectGitHub(cfg.github),
    registryPath: relative(root, cfg.registryDir) || '.',
    base,
  });
  if (json) return result;
  if (result.outcome === 'no-change') {
    process.stdout.write(`no pin changed: nothing pushed to ${PINS_BRANCH}, no pull request opened\n`);
    return result;
  }
  const pr = result.pullRequest;
  const where = result.pushed
    ? `pushed ${result.commit.slice(0, 12)} to ${PINS_BRANCH}`
    : `${PINS_BRANCH} already holds this change; pushed nothing`;
  process.stdout.write(`${where} (${result.files.join(', ')})\npull request #${pr.number} ${pr.outcome}: ${pr.url}\n`);
  return result;
}
