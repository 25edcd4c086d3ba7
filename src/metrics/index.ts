export { observePhase, phaseObserver, type PhaseAttempt } from './phase-observer';
export { RunMetrics, type PhaseOutcome, type RunStatus } from './run-metrics';
export { parseMetricsAddress, startMetricsServer, type MetricsAddress, type MetricsServer } from './server';
