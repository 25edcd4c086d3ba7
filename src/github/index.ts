export { connectGitHub, type GitHubRepo, type GitHubSettings } from './client';
export { ensurePullRequest, type PullRequestResult, type PullRequestWanted } from './pull-request';
export { actionsSecretNames, putActionsSecret, sealForGitHub, type ActionsSecretScope } from './actions-secrets';
