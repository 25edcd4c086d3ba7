// One pull request per head branch, created or brought up to date — never a second one.
import type { GitHubRepo } from './client';

export interface PullRequestWanted {
  /** The branch in this repository (not owner:branch). */
  readonly head: string;
  readonly base: string;
  readonly title: string;
  readonly body: string;
}

export interface PullRequestResult {
  readonly outcome: 'created' | 'updated' | 'unchanged';
  readonly number: number;
  readonly url: string;
}

export async function ensurePullRequest(gh: GitHubRepo, want: PullRequestWanted): Promise<PullRequestResult> {
  const { owner, repo } = gh;
  const open = await gh.call(`list open pull requests from ${want.head}`, (o) =>
    o.rest.pulls.list({ owner, repo, head: `${owner}:${want.head}`, base: want.base, state: 'open', per_page: 10 }),
  );
  const existing = open.data[0];
  if (!existing) {
    const created = await gh.call(`open a pull request ${want.head} → ${want.base}`, (o) =>
      o.rest.pulls.create({ owner, repo, head: want.head, base: want.base, title: want.title, body: want.body }),
    );
    return { outcome: 'created', number: created.data.number, url: created.data.html_url };
  }
  if (existing.title === want.title && (existing.body ?? '') === want.body) {
    return { outcome: 'unchanged', number: existing.number, url: existing.html_url };
  }
  await gh.call(`update pull request #${existing.number}`, (o) =>
    o.rest.pulls.update({ owner, repo, pull_number: existing.number, title: want.title, body: want.body }),
  );
  return { outcome: 'updated', number: existing.number, url: existing.html_url };
}
