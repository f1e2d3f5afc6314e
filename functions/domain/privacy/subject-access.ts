import type { ProfileStore } from '../../ports/profile-store';
import type { ScoreStore } from '../../ports/score-store';
import type { SegmentStore } from '../../ports/segment-store';
import type { ProfileRecord } from '../profile/profile';
import { toProfileView, type ProfileView, type ProfileViewOptions } from '../profile/profile-view';
import { consentRegion, historyWithPurposes, purposeStates, type PurposeConfig } from './purposes';

/** The purposes a person granted or denied, with when and where, and how their choices changed (docs/contract.md §9). */
export function consentView(profile: ProfileRecord, config: PurposeConfig) {
  const region = consentRegion(profile.traits.country?.value);
  return {
    profileId: profile.profileId,
    region,
    purposes: purposeStates(profile.consent, region, config),
    history: historyWithPurposes(profile.consent, config),
  };
}

/** Events a portability export holds at most, newest first (the hot history keeps 13 months). */
export const MAX_EXPORTED_EVENTS = 10_000;
export const MAX_EXPORTED_MERGES = 1_000;

export interface SubjectAccessDependencies {
  readonly profiles: Pick<ProfileStore, 'listEvents' | 'listMergeLog'>;
  readonly scores: Pick<ScoreStore, 'getScores'>;
  readonly segments: Pick<SegmentStore, 'segmentIdsOf'>;
}

/**
 * Everything held about a person, in one document (GDPR art. 15 access, art. 20 portability):
 * the profile (identities, traits with their source and party, computed traits, scores with their
 * explanations, segments), consent per purpose with its history, the events (across every profile
 * merged into this one), the emails' and text messages' outcomes among them, and the merge log.
 */
export async function exportPersonalData(
  profile: ProfileRecord,
  options: Omit<ProfileViewOptions, 'scores' | 'segments'> & { readonly purposeConfig: PurposeConfig },
  deps: SubjectAccessDependencies,
) {
  const [scores, segments, events, merges] = await Promise.all([
    deps.scores.getScores(profile.profileId),
    deps.segments.segmentIdsOf(profile.profileId),
    deps.profiles.listEvents(profile, MAX_EXPORTED_EVENTS + 1),
    deps.profiles.listMergeLog(profile, MAX_EXPORTED_MERGES),
  ]);
  const view: ProfileView = toProfileView(profile, { ...options, scores: { ...scores }, segments });
  const messages = events.slice(0, MAX_EXPORTED_EVENTS).map(({ message }) => message);
  return {
    exportedAt: options.now.toISOString(),
    profile: view,
    consent: consentView(profile, options.purposeConfig),
    segments,
    events: messages,
    /** More events than MAX_EXPORTED_EVENTS are held: the newest are exported. */
    eventsTruncated: events.length > MAX_EXPORTED_EVENTS,
    emails: messages.filter((message) => message.context.channel === 'email'),
    /** The texts' receipts and the number's STOP and START replies (`SMS Delivered`, `SMS Failed`, `SMS Opted Out`, ...). */
    texts: messages.filter((message) => message.context.channel === 'sms'),
    merges,
  };
}
