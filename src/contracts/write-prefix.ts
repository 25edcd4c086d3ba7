// The write prefix template of a run. Pure, so the workflow can expand it (docs/architecture.md §2: exactly once).
import { parseProcessorRef } from './processor-ref';

export const EXECUTION_ID_PLACEHOLDER = '{execution_id}';

/** `world://artifacts/outputs/<ns>/<name>/{execution_id}/` — unique per run, so runs never collide. */
export function defaultWritePrefix(processorRef: string): string {
  const ref = parseProcessorRef(processorRef);
  if (!ref) throw new Error(`not a processor reference: ${processorRef}`);
  return `world://artifacts/outputs/${ref.ns}/${ref.name}/${EXECUTION_ID_PLACEHOLDER}/`;
}

export function expandWritePrefix(template: string, executionId: string): string {
  return template.split(EXECUTION_ID_PLACEHOLDER).join(executionId);
}

/** Where the second copy of every receipt lives (docs/architecture.md §6). */
export function determinismPath(executionId: string): string {
  return `world://artifacts/execution/${executionId}/determinism.json`;
}
