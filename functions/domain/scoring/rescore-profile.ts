/**
 * The scoring stage of the pipeline for one ProfileChange: reload the profile, recompute its
 * scores, write them when they changed, then ask for segment evaluation. Idempotent: a change
 * delivered twice, or after a newer one, writes nothing new and only re-asks for evaluation.
 */
import type { ProfileChange } from '../pipeline/messages';
import type { ProfileRecord } from '../profile/profile';
import type { AcceptedMessage } from '../tracking/accepted-message';
import type { ScoreStore } from '../../ports/score-store';
import { computeProfileScores, scoresFingerprint, type ScoringSettings } from './profile-scores';
import { objectsToAnalytics, type PurposeConfig } from '../privacy/purposes';

export interface RescoreDependencies {
  readonly profiles: {
    /** A merged-away id resolves to its survivor; an erased profile is undefined. */
    getProfile(profileId: string): Promise<ProfileRecord | undefined>;
    listEvents(profile: ProfileRecord, limit: number): Promise<ReadonlyArray<{ readonly message: AcceptedMessage }>>;
  };
  readonly scores: ScoreStore;
  /** Sends the change on to segment evaluation. */
  readonly evaluateSegments: (change: ProfileChange) => Promise<void>;
  readonly settings: ScoringSettings;
  /** Newest events read for the send hour (each costs read capacity). */
  readonly eventLimit: number;
  readonly now: () => Date;
  /** Whose purposes decide whether a person may be scored (`analytics`); DEFAULT_PURPOSE_CONFIG when absent. */
  readonly purposeConfig?: PurposeConfig;
}

export type RescoreOutcome =
  /** The profile no longer exists on its own: merged into another, or erased. */
  | { readonly outcome: 'skipped'; readonly reason: 'merged' | 'erased' }
  /** The profile changed while scoring: the newer change rescores it. */
  | { readonly outcome: 'superseded' }
  /** The person denied `analytics`: no scores are kept for them (segments on scores no longer match). */
  | { readonly outcome: 'withheld' }
  | { readonly outcome: 'written' | 'unchanged'; readonly scoringMs: number };

export async function rescoreProfile(change: ProfileChange, deps: RescoreDependencies): Promise<RescoreOutcome> {
  const absorbed = change.absorbedProfileIds ?? [];
  if (absorbed.length > 0) await deps.scores.retireScores(absorbed, deps.now());
  const profile = await deps.profiles.getProfile(change.profileId);
  if (!profile) {
    await deps.scores.retireScores([change.profileId], deps.now());
    return { outcome: 'skipped', reason: 'erased' };
  }
  if (profile.profileId !== change.profileId) {
    // Its survivor has its own change in the queue; the scores of a merged-away id must go.
    await deps.scores.retireScores([change.profileId], deps.now());
    return { outcome: 'skipped', reason: 'merged' };
  }
  const now = deps.now();
  // Scores profile people for marketing: someone who denied analytics is not scored, and loses the scores they had.
  // (Not yet decided is not a denial: scoring runs on the platform's own data unless the person objects.)
  if (objectsToAnalytics(profile, deps.purposeConfig)) {
    const current = await deps.scores.getScores(profile.profileId);
    if (current !== undefined && Object.keys(current).length > 0 && (await deps.scores.putScores(profile, {}, now)) === 'profile-changed') {
      return { outcome: 'superseded' };
    }
    await deps.evaluateSegments(change);
    return { outcome: 'withheld' };
  }
  const [events, current] = await Promise.all([deps.profiles.listEvents(profile, deps.eventLimit), deps.scores.getScores(profile.profileId)]);
  const started = performance.now();
  const scores = computeProfileScores(
    profile,
    events.map((event) => event.message),
    deps.settings,
    now,
  );
  const scoringMs = performance.now() - started;
  const unchanged = current !== undefined && scoresFingerprint(current) === scoresFingerprint(scores);
  if (!unchanged && (await deps.scores.putScores(profile, scores, now)) === 'profile-changed') return { outcome: 'superseded' };
  await deps.evaluateSegments(change);
  return { outcome: unchanged ? 'unchanged' : 'written', scoringMs };
}
