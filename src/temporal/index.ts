export {
  TEMPORAL_CLI_VERSION,
  buildTemporalCli,
  cachedTemporalCliPath,
  findTemporalCli,
  locateTemporalCli,
  temporalCliVersion,
  type TemporalCli,
  type TemporalCliSource,
} from './cli-binary';
export {
  devServerAddress,
  devServerPaths,
  devServerStatus,
  devServerUiUrl,
  ensureDevServer,
  ensureSearchAttributes,
  probeTemporal,
  stopDevServer,
  type DevServerInfo,
  type DevServerPaths,
  type DevServerStatus,
} from './dev-server';
export {
  connectTemporal,
  connectWorkerNativeConnection,
  resolveTemporalTarget,
  uiLinkForWorkflow,
  uiUrlForAddress,
  type ConnectedTarget,
  type TemporalConnection,
  type TemporalTarget,
} from './connection';
