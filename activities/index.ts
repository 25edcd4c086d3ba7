export { createActivities, type Activities } from './create-activities';
export { backgroundDiscardsFinished, sweepContainers, type ContainerSweepReport } from './container-sweep';
export type { ActivityDeps, FlightOwnerProbe } from './deps';
export { PHASES } from './types';
export { SWEEP_INTERVAL_MS, removeWorkdir, startWorkdirSweeper, sweepWorkdirs, type SweepReport } from './workdir';
export type {
  AdmitInput,
  AdmitResult,
  CacheRecord,
  ExecuteInput,
  ExecuteResult,
  Phase,
  PhaseState,
  RecheckInput,
  ReleaseInput,
  ReserveInput,
  ReserveResult,
  SettleCachedInput,
  SettleInput,
  StagingOutcome,
} from './types';
