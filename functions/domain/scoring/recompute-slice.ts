/**
 * One slice of the nightly score recompute: pages through a parallel-scan segment of the live
 * profiles, queueing a `recompute` ProfileChange for each, and hands back a cursor when the
 * invocation's time runs short so the state machine calls it again. Resending a page after a
 * retry is harmless: rescoring is idempotent.
 */
import type { ProfileChange } from '../pipeline/messages';

export interface RecomputeSlice {
  readonly segment: number;
  readonly totalSegments: number;
  /** Where the scan stopped (opaque, from the store); absent on the first call. */
  readonly cursor?: string;
}

export interface RecomputeSliceProgress extends RecomputeSlice {
  readonly done: boolean;
  /** Changes queued by this invocation. */
  readonly queued: number;
}

export interface RecomputeSliceDependencies {
  readonly scanPage: (slice: RecomputeSlice) => Promise<{ readonly profileIds: readonly string[]; readonly cursor?: string }>;
  readonly queueChanges: (changes: readonly ProfileChange[]) => Promise<void>;
  /** Whether another page fits in the time left. */
  readonly hasTimeForAnotherPage: () => boolean;
  readonly now: () => Date;
}

export async function recomputeSlice(slice: RecomputeSlice, deps: RecomputeSliceDependencies): Promise<RecomputeSliceProgress> {
  let current: RecomputeSlice = slice;
  let queued = 0;
  for (;;) {
    const page = await deps.scanPage(current);
    const at = deps.now().toISOString();
    await deps.queueChanges(page.profileIds.map((profileId) => ({ kind: 'profile-change', profileId, reason: 'recompute', at })));
    queued += page.profileIds.length;
    current = { segment: slice.segment, totalSegments: slice.totalSegments, ...(page.cursor !== undefined && { cursor: page.cursor }) };
    if (page.cursor === undefined) return { ...current, done: true, queued };
    if (!deps.hasTimeForAnotherPage()) return { ...current, done: false, queued };
  }
}
