// `worldloop pin --pr`: after `worldloop pin` rewrote pins (both platforms asserted), put exactly those
// registry changes on the stable branch worldloop/pins — one commit on top of the base — and open or update
// its one pull request. Idempotent by construction: when the branch already holds the same tree on the same
// base, nothing is pushed; when the pull request already says the same, nothing is sent; with no pin change,
// neither git nor GitHub is touched at all.
import type { GitHubRepo } from '../github/client';
import { ensurePullRequest, type PullRequestResult } from '../github/pull-request';
import { type Git, changedPaths, remoteBranchHead, treeWith } from './git';

export const PINS_BRANCH = 'worldloop/pins';

export interface PinsPullRequestOptions {
  readonly git: Git;
  /** Connects lazily: with nothing to propose, no token is needed. */
  readonly github: () => GitHubRepo;
  /** The registry folder relative to the repository root. */
  readonly registryPath: string;
  /** The branch the pull request targets. */
  readonly base: string;
  readonly remote?: string;
  readonly branch?: string;
}

export type PinsPullRequestResult =
  | { readonly outcome: 'no-change' }
  | {
      readonly outcome: 'proposed';
      readonly files: readonly string[];
      readonly pushed: boolean;
      readonly commit: string;
      readonly pullRequest: PullRequestResult;
    };

const BOT = {
  GIT_AUTHOR_NAME: 'worldloop',
  GIT_AUTHOR_EMAIL: 'worldloop@users.noreply.github.com',
  GIT_COMMITTER_NAME: 'worldloop',
  GIT_COMMITTER_EMAIL: 'worldloop@users.noreply.github.com',
};

export function pinsPullRequestText(files: readonly string[], base: string): { title: string; body: string } {
  return {
    title: 'chore(registry): re-pin processor images',
    body: [
      `Build & Pin rebuilt the processors and \`worldloop pin\` found new digests (linux/amd64 and linux/arm64 both asserted in every index).`,
      '',
      'Changed pins:',
      ...files.map((f) => `- \`${f}\``),
      '',
      `This pull request is kept up to date on the branch \`${PINS_BRANCH}\` against \`${base}\` by \`worldloop pin --pr\`; merge it to deploy the new digests.`,
    ].join('\n'),
  };
}

export async function proposePins(options: PinsPullRequestOptions): Promise<PinsPullRequestResult> {
  const { git, registryPath, base } = options;
  const remote = options.remote ?? 'origin';
  const branch = options.branch ?? PINS_BRANCH;
  const files = await changedPaths(git, [registryPath]);
  if (files.length === 0) return { outcome: 'no-change' };

  const head = await git(['rev-parse', 'HEAD']);
  const tree = await treeWith(git, [registryPath]);
  const remoteHead = await remoteBranchHead(git, remote, branch);
  let commit: string | undefined;
  if (remoteHead) {
    await git(['fetch', '--quiet', '--no-tags', remote, `refs/heads/${branch}`]);
    const [remoteTree, remoteParent] = (await git(['rev-parse', `${remoteHead}^{tree}`, `${remoteHead}^`])).split('\n');
    if (remoteTree === tree && remoteParent === head) commit = remoteHead;
  }
  const pushed = commit === undefined;
  if (commit === undefined) {
    const message = `chore(registry): re-pin processor images\n\n${files.map((f) => `- ${f}`).join('\n')}\n`;
    commit = await git(['commit-tree', tree, '-p', head, '-m', message], BOT);
    // The branch belongs to this command: it is always "base + one commit", so a force push is the update.
    await git(['push', '--quiet', '--force', remote, `${commit}:refs/heads/${branch}`]);
  }
  const text = pinsPullRequestText(files, base);
  const pullRequest = await ensurePullRequest(options.github(), { head: branch, base, ...text });
  return { outcome: 'proposed', files, pushed, commit, pullRequest };
}
