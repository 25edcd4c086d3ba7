export {
  keepExecutionLogs,
  keepRunLogs,
  runLogsPath,
  type KeepRunLogsDeps,
  type KeptRunLogs,
  type RunLogContext,
  type RunLogSource,
} from './keep-run-logs';
export { MAX_BYTES, MAX_LINE_BYTES, MAX_LINES, selectLifecycleLines, type SelectedLines } from './lifecycle-lines';
export { followRunLogs, type FollowOptions, type FollowSources } from './follow';
export { LifecycleCapture, STDERR_CAPTURE_FILE, droppedMarker } from './capture';
