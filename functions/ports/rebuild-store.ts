import type { ProfileRecord } from '../domain/profile/profile';
import type { IntentOutbox, ScanCursor, SliceProgress } from '../domain/segments/rebuild/evaluate-slice';

/** What a segment rebuild reads and writes besides the segment store: scans, batched lookups, progress, outbox. */
export interface RebuildStore {
  /** Items of the store as last counted: sizes the parallel scan. */
  approximateItemCount(): Promise<number>;
  /** One page of live profiles of a scan slice, from `cursor`. */
  scanProfiles(
    segment: number,
    totalSegments: number,
    cursor: ScanCursor | undefined,
    pageSize: number,
  ): Promise<{ profiles: ProfileRecord[]; next?: ScanCursor }>;
  /** profileId → the segments (among `segmentIds`) it is a member of, as of the start of the run. */
  memberships(runId: string, segmentIds: readonly string[], profileIds: readonly string[]): Promise<Map<string, Set<string>>>;
  /** profileId → its scores item, for the profiles that have one. */
  scores(profileIds: readonly string[]): Promise<Map<string, Readonly<Record<string, unknown>>>>;
  /** The ids among `profileIds` whose profile still exists on its own (not erased, not merged away). */
  liveProfileIds(profileIds: readonly string[]): Promise<Set<string>>;
  loadProgress(runId: string, slice: string): Promise<SliceProgress | undefined>;
  /** Saves only if the stored progress is still at `previousPages` pages; throws ProgressConflictError otherwise. */
  saveProgress(runId: string, slice: string, previousPages: number, progress: SliceProgress, now: Date): Promise<void>;
  /** Every slice's progress of a run (the finish step adds up their counts). */
  listProgress(runId: string): Promise<SliceProgress[]>;
  /** The membership intents of one slice of a run (written before they are applied, so a retry finishes them). */
  outbox(runId: string, slice: string, now: () => Date): IntentOutbox;
}
