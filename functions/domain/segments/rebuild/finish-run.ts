import {
  flushIntents,
  type IntentOutbox,
  type MembershipIntent,
  type MembershipWriter,
  type SegmentCounts,
  type SegmentIdentity,
  type SliceProgress,
} from './evaluate-slice';
import type { RebuildRun } from './plan';

export interface FinishDependencies extends MembershipWriter {
  /** The outbox of the sweep of vanished members. */
  readonly outbox: IntentOutbox;
  listProgress(): Promise<readonly SliceProgress[]>;
  /** Every current member of a segment, page by page. */
  members(segmentId: string): AsyncIterable<readonly string[]>;
  /** Which of these profiles still exist on their own. */
  liveProfileIds(profileIds: readonly string[]): Promise<ReadonlySet<string>>;
  countMembers(segmentId: string): Promise<number>;
  /** Records counts, size history and the succeeded status, once per segment and run. */
  completeRun(segmentId: string, counts: SegmentCounts, size: number): Promise<void>;
}

export interface FinishedSegment {
  readonly segmentId: string;
  readonly size: number;
  readonly counts: SegmentCounts;
}

/** Adds up the slices' counts per segment. */
export function totalCounts(progress: readonly SliceProgress[], segmentIds: readonly string[]): Map<string, SegmentCounts> {
  const totals = new Map<string, SegmentCounts>(segmentIds.map((id) => [id, { evaluated: 0, entered: 0, exited: 0 }]));
  for (const slice of progress) {
    for (const [segmentId, counts] of Object.entries(slice.counts)) {
      const total = totals.get(segmentId);
      if (!total) continue;
      totals.set(segmentId, { evaluated: total.evaluated + counts.evaluated, entered: total.entered + counts.entered, exited: total.exited + counts.exited });
    }
  }
  return totals;
}

/**
 * Ends a run: members whose profile vanished (erased or merged away, so no slice saw them) exit
 * through the same outbox as the slices; then each segment's size is counted and the run
 * recorded. Safe to repeat: a retried finish re-flushes the outbox and finds no one left to sweep.
 */
export async function finishRun(run: RebuildRun, segments: readonly SegmentIdentity[], deps: FinishDependencies): Promise<FinishedSegment[]> {
  const at = new Date(run.at);
  await flushIntents(await deps.outbox.pending(), segments, run.runId, at, deps);
  const totals = totalCounts(
    await deps.listProgress(),
    segments.map((segment) => segment.id),
  );
  const finished: FinishedSegment[] = [];
  for (const segment of segments) {
    let swept = 0;
    for await (const page of deps.members(segment.id)) {
      const live = await deps.liveProfileIds(page);
      const intents: MembershipIntent[] = page
        .filter((profileId) => !live.has(profileId))
        .map((profileId) => ({ segmentId: segment.id, profileId, shouldBeMember: false }));
      await deps.outbox.record(intents);
      swept += (await flushIntents(intents, segments, run.runId, at, deps)).length;
    }
    const total = totals.get(segment.id) ?? { evaluated: 0, entered: 0, exited: 0 };
    const counts = { ...total, exited: total.exited + swept };
    const size = await deps.countMembers(segment.id);
    await deps.completeRun(segment.id, counts, size);
    finished.push({ segmentId: segment.id, size, counts });
  }
  return finished;
}
