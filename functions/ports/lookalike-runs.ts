import type { Lookalike, LookalikeRun } from '../domain/lookalikes/lookalike';

/** Lookalike runs as workflow executions (Step Functions on AWS and locally) and each lookalike's refresh schedule. */
export interface LookalikeRuns {
  /** Records the run, then starts its execution (named after the run). */
  start(lookalike: Lookalike, trigger: LookalikeRun['trigger'], now: Date): Promise<LookalikeRun>;
  /** Keeps the lookalike's refresh schedule in step with its `schedule` field (`null` removes it). */
  syncSchedule(lookalikeId: string, expression: string | null): Promise<void>;
}
