import type { SegmentRecord, SegmentRun } from './segment-store';

/** Segment rebuilds as workflow runs (Step Functions on AWS and locally) and each segment's rebuild schedule. */
export interface RebuildRuns {
  /** Records the run, then starts its execution (a retried start is idempotent). */
  start(segment: SegmentRecord, trigger: SegmentRun['trigger'], now: Date): Promise<SegmentRun>;
  /** The run record with its execution's status; undefined for an unknown run. */
  status(segment: SegmentRecord, runId: string): Promise<Record<string, unknown> | undefined>;
  /** Keeps the segment's schedule in step with its `schedule` field (`null` removes it). */
  syncSchedule(segmentId: string, expression: string | null): Promise<void>;
}
