// The processor reference grammar, `ns/name@major`, without zod: the workflow bundle imports it (through the write
// prefix template), and every module the workflow imports is evaluated again in each workflow's sandbox, so zod and
// the schemas there cost every run ≈ 11 ms of the first workflow task (docs/benchmarks.md, "Workflow tasks").

/** `ns/name@major`, lower-case, the form registry files and the CLI use. */
export const PROCESSOR_REF_PATTERN = /^([a-z0-9][a-z0-9-]*)\/([a-z0-9][a-z0-9-]*)@([1-9][0-9]*)$/;

export function parseProcessorRef(ref: string): { ns: string; name: string; major: number } | undefined {
  const m = PROCESSOR_REF_PATTERN.exec(ref);
  return m ? { ns: m[1]!, name: m[2]!, major: Number(m[3]) } : undefined;
}
