/** The runs of one workflow (a journey state machine): started once per name, stopped by id. */
export interface WorkflowRuns {
  /** Starts a run named after what caused it; the same name again is the same run. Returns the run's id. */
  start(name: string, input: unknown): Promise<string>;
  /** Stops a run; one that already ended stays as it ended. */
  stop(runId: string, cause: string): Promise<void>;
  /** The id of the run started under `name`. */
  runIdOf(name: string): string;
}
