import type { LiveProfiles } from '../../ports/live-profiles';
import type { ProfileStore } from '../../ports/profile-store';
import type { ScoreStore } from '../../ports/score-store';
import { mapConcurrently } from '../shared/concurrency';
import type { SegmentDefinition } from './definition';
import { evaluateSegment, historyNeeded, segmentSubject } from './evaluate';
import { usesScores } from './rebuild/plan';

/** Preview budget: a bounded sample, so a preview answers in seconds whatever the number of profiles. */
export const PREVIEW_BUDGET = {
  maxItemsScanned: 20_000,
  maxProfiles: 2_000,
  /** Behaviour conditions read each profile's events: a smaller sample keeps that bounded. */
  maxProfilesWithHistory: 200,
  maxEventsPerProfile: 1_000,
  concurrency: 8,
};

export interface PreviewDependencies {
  readonly profiles: Pick<LiveProfiles, 'sample' | 'approximateItemCount'>;
  readonly events: Pick<ProfileStore, 'listEvents'>;
  readonly scores: Pick<ScoreStore, 'getScores'>;
}

export interface SegmentPreview {
  readonly estimatedSize: number;
  /** Every profile was evaluated: `estimatedSize` is the size. */
  readonly exact: boolean;
  readonly sampled: number;
  readonly matched: number;
  readonly sample: ReadonlyArray<{ readonly profileId: string; readonly createdAt: string; readonly updatedAt: string }>;
}

/**
 * The size a definition would have now, and some of its members. Exact when the sample is every
 * profile; otherwise the share of sampled profiles that match, times the number of profiles,
 * itself estimated as the store's item count times the share of profiles among the items read.
 */
export async function previewSegment(definition: SegmentDefinition, sampleSize: number, now: Date, deps: PreviewDependencies): Promise<SegmentPreview> {
  const needsHistory = historyNeeded(definition, now);
  const sample = await deps.profiles.sample({
    maxProfiles: needsHistory ? PREVIEW_BUDGET.maxProfilesWithHistory : PREVIEW_BUDGET.maxProfiles,
    maxItemsScanned: PREVIEW_BUDGET.maxItemsScanned,
  });
  const withScores = usesScores(definition);
  const matches = await mapConcurrently(sample.profiles, PREVIEW_BUDGET.concurrency, async (profile) => {
    const events = needsHistory ? (await deps.events.listEvents(profile, PREVIEW_BUDGET.maxEventsPerProfile)).map((stored) => stored.message) : undefined;
    const profileScores = withScores ? await deps.scores.getScores(profile.profileId) : undefined;
    const subject = segmentSubject(profile, {
      now,
      ...(profileScores && { scores: profileScores as unknown as Record<string, unknown> }),
      ...(events && { events }),
    });
    return evaluateSegment(definition, subject, now);
  });
  const matched = sample.profiles.filter((_, index) => matches[index]);
  let estimatedSize = matched.length;
  if (!sample.complete && sample.profiles.length > 0) {
    const itemCount = await deps.profiles.approximateItemCount();
    const profileCount = Math.max(sample.profiles.length, Math.round(itemCount * (sample.profiles.length / Math.max(1, sample.itemsScanned))));
    estimatedSize = Math.round((matched.length / sample.profiles.length) * profileCount);
  }
  return {
    estimatedSize,
    exact: sample.complete,
    sampled: sample.profiles.length,
    matched: matched.length,
    sample: matched.slice(0, sampleSize).map((profile) => ({ profileId: profile.profileId, createdAt: profile.createdAt, updatedAt: profile.updatedAt })),
  };
}
