import type { DayCounters, DayIncrements } from '../domain/operations/activity';

/** The activity counters of the Profiles table (`STATS#activity`): reconcile adds to them, the Operations API reads them. */
export interface ActivityCounters {
  /** Adds a batch's increments: one write per day. */
  add(days: readonly DayIncrements[]): Promise<void>;
  /** The stored days `from`..`to` (inclusive, YYYY-MM-DD); days without counts are absent. */
  list(range: { readonly from: string; readonly to: string }): Promise<DayCounters[]>;
}

/** Approximate message counts of a queue (SQS's own figures). */
export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /** Every message of its dead-letter queue, visible, in flight or delayed. */
  readonly dlq: number;
}

/** The depth of every platform queue, by queue id (lib/definitions/queues.ts). */
export interface QueueDepths {
  depths(): Promise<Record<string, QueueDepth>>;
}

/** One execution of a batch workflow. */
export interface WorkflowRun {
  /** The state machine's id (lib/definitions/state-machines.ts), e.g. `SegmentRebuild`. */
  readonly workflow: string;
  /** The execution's name: a segment rebuild's is the run id the Segments API answers. */
  readonly runId: string;
  /** The execution status in lower case: `running`, `succeeded`, `failed`, `timed_out`, `aborted`, `pending_redrive`. */
  readonly status: string;
  readonly startedAt: string;
  readonly stoppedAt?: string;
}

/** The latest runs of the batch workflows. */
export interface WorkflowHistory {
  /** Up to `limit` newest executions of each workflow. */
  latest(limit: number): Promise<WorkflowRun[]>;
}
