export { phaseQuery, runProcessor } from './run-processor';
