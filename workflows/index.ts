export { driftAudit } from './drift-audit';
export { phaseQuery, runProcessor } from './run-processor';
