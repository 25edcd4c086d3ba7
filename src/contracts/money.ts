// Money in the contracts, in a module of its own with no imports: the CLI prints a run's cost from here without
// loading the schemas (and zod) on its start (docs/benchmarks.md, "Front door"). schemas.ts re-exports it.

/** Micro-dollars: budgets are integers so that no rounding can overdraw them. */
export const MICRO_PER_USD = 1_000_000;
