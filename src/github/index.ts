export { connectGitHub, type GitHubRepo, type GitHubSettings } from './client';
export { ensurePullRequest, type PullRequestResult, type PullRequestWanted } from './pull-request';
