export { createActivities, type Activities } from './create-activities';
export type { ActivityDeps, FlightOwnerProbe } from './deps';
export { PHASES } from './types';
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
