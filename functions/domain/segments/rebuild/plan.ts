import type { SegmentDefinition, SegmentCondition } from '../definition';

/**
 * Planning a rebuild: how the profiles table is split into parallel scan slices, and what each
 * slice must load besides the profile item.
 */

/** The identity of one rebuild run, shared by its slices. */
export interface RebuildRun {
  readonly runId: string;
  readonly segmentIds: readonly string[];
  /** The run's clock: every slice evaluates time windows and stamps transitions with it. */
  readonly at: string;
}

/** One parallel Scan segment (`Segment`/`TotalSegments`) and how far it got. */
export interface ScanSlice {
  readonly run: RebuildRun;
  readonly segment: number;
  readonly totalSegments: number;
  /** False until the slice has scanned its last page (the state machine loops until then). */
  readonly done: boolean;
}

export function planSlices(run: RebuildRun, totalSegments: number): ScanSlice[] {
  return Array.from({ length: totalSegments }, (_, segment) => ({ run, segment, totalSegments, done: false }));
}

/**
 * Scan segments for a table of about `profileCount` profiles: one per `profilesPerSlice`, at
 * least `min`, at most `max` (the Map's children; DynamoDB allows up to 1,000,000).
 */
export function sliceCount(profileCount: number, bounds: { readonly profilesPerSlice: number; readonly min: number; readonly max: number }): number {
  const wanted = Math.ceil(Math.max(0, profileCount) / bounds.profilesPerSlice);
  return Math.max(bounds.min, Math.min(bounds.max, wanted));
}

const RATE_PATTERN = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_SECONDS: Record<string, number> = { minute: 60, minutes: 60, hour: 3_600, hours: 3_600, day: 86_400, days: 86_400 };

/** The period of an EventBridge Scheduler `rate(...)` expression in seconds; undefined otherwise. */
export function ratePeriodSeconds(expression: string): number | undefined {
  const match = RATE_PATTERN.exec(expression.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = UNIT_SECONDS[match[2] ?? ''];
  return value > 0 && unit !== undefined ? value * unit : undefined;
}

/** What evaluating a set of definitions needs loaded besides the profile item. */
export interface EvaluationNeeds {
  readonly scores: boolean;
}

/** Whether a definition reads scores (so evaluators load the SCORES item only when needed). */
export function usesScores(condition: SegmentCondition): boolean {
  switch (condition.kind) {
    case 'and':
    case 'or':
      return condition.conditions.some(usesScores);
    case 'not':
      return usesScores(condition.condition);
    case 'score':
    case 'score-band':
      return true;
    default:
      return false;
  }
}

export function evaluationNeeds(definitions: readonly SegmentDefinition[]): EvaluationNeeds {
  return { scores: definitions.some(usesScores) };
}
