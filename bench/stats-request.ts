// The one run every bench measures: text/stats@1 in mock mode on the default plan, charged nothing.
import type { RunRequest } from '../src/contracts';
import { defaultWritePrefix } from '../src/contracts/write-prefix';

export function statsRequest(text: string): RunRequest {
  return {
    processor_ref: 'text/stats@1',
    inputs: { text },
    mode: 'mock',
    plan: 'default',
    adapter: 'local',
    write_prefix: defaultWritePrefix('text/stats@1'),
  };
}
