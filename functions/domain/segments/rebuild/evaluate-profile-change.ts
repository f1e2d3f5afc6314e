import type { ProfileChange, AudienceTransition } from '../../pipeline/messages';
import type { ProfileRecord } from '../../profile/profile';
import type { AcceptedMessage } from '../../tracking/accepted-message';
import { noticeIdOf } from '../membership';
import { eventsWithin, historyFor, membershipChanges, qualifyingSegmentIds, type EvaluableSegment } from './membership-diff';

/** How many stored events a real-time evaluation reads at most (newest first). */
export const MAX_EVENTS_PER_EVALUATION = 1_000;

export interface ProfileChangeDependencies {
  /** Every segment, parsed (a short cache is fine: a new segment is filled by its first rebuild). */
  segments(): Promise<readonly EvaluableSegment[]>;
  /** A merged-away id resolves to its survivor; undefined when erased. */
  getProfile(profileId: string): Promise<ProfileRecord | undefined>;
  getScores(profileId: string): Promise<Readonly<Record<string, unknown>> | undefined>;
  /** Newest first, across the profile and those merged into it. */
  listEvents(profile: ProfileRecord, limit: number): Promise<readonly AcceptedMessage[]>;
  segmentIdsOf(profileId: string): Promise<readonly string[]>;
  /** SegmentStore.applyMembership: same change and same `at` again returns the same transition. */
  applyMembership(segment: EvaluableSegment, profileId: string, shouldBeMember: boolean, at: Date): Promise<AudienceTransition | undefined>;
  now(): Date;
}

/**
 * Re-evaluates one changed profile against every segment and records the enters and exits;
 * memberships of profiles merged into it are closed. Transitions are stamped with the change's
 * own time, so a redelivered message (`redelivered`) re-applies every segment and gets back the
 * transitions a crashed first attempt wrote but may not have emitted (same ids: consumers dedupe).
 */
export async function evaluateProfileChange(change: ProfileChange, redelivered: boolean, deps: ProfileChangeDependencies): Promise<AudienceTransition[]> {
  const segments = await deps.segments();
  if (segments.length === 0) return [];
  const at = new Date(change.at);
  const now = deps.now();
  const transitions: AudienceTransition[] = [];
  const apply = async (segment: EvaluableSegment, profileId: string, shouldBeMember: boolean): Promise<void> => {
    const transition = await deps.applyMembership(segment, profileId, shouldBeMember, at);
    if (transition) transitions.push(transition);
  };

  const profile = await deps.getProfile(change.profileId);
  const absorbed = new Set(change.absorbedProfileIds ?? []);
  // A change announced for an id that has since been merged away: that id is absorbed too.
  if (profile && profile.profileId !== change.profileId) absorbed.add(change.profileId);
  for (const absorbedId of absorbed) {
    const memberOf = redelivered ? segments.map((segment) => segment.id) : await deps.segmentIdsOf(absorbedId);
    for (const segment of segments.filter((candidate) => memberOf.includes(candidate.id))) await apply(segment, absorbedId, false);
  }
  // An erased profile: erasure removed its memberships without emitting exits.
  if (!profile) return transitions;

  const need = historyFor(segments, now);
  // Independent reads, side by side: they are most of the real-time path's latency.
  const [scores, events, memberOf] = await Promise.all([
    deps.getScores(profile.profileId),
    need ? deps.listEvents(profile, MAX_EVENTS_PER_EVALUATION) : Promise.resolve(undefined),
    redelivered ? Promise.resolve(undefined) : deps.segmentIdsOf(profile.profileId),
  ]);
  const qualifying = qualifyingSegmentIds({ profile, ...(scores && { scores }), ...(events && need && { events: eventsWithin(events, need) }) }, segments, now);
  // Memberships of different segments are separate items: their writes go side by side too.
  if (!memberOf) {
    await Promise.all(segments.map((segment) => apply(segment, profile.profileId, qualifying.has(segment.id))));
    return [...transitions, ...withdrawalExits(change, profile.profileId, segments, qualifying, at)];
  }
  const changes = membershipChanges(profile.profileId, segments, qualifying, new Set(memberOf));
  await Promise.all(changes.map(({ segment, shouldBeMember }) => apply(segment, profile.profileId, shouldBeMember)));
  return [...transitions, ...withdrawalExits(change, profile.profileId, segments, qualifying, at)];
}

/**
 * A person who withdrew a purpose but stays in a segment is told as an exit to the webhooks of the
 * segment serving that purpose (their deliveries stop from now on): one notice per change and
 * segment, deterministic so that a redelivered change sends nothing twice.
 */
function withdrawalExits(
  change: ProfileChange,
  profileId: string,
  segments: readonly EvaluableSegment[],
  stillMemberOf: ReadonlySet<string>,
  at: Date,
): AudienceTransition[] {
  const withdrawn = change.withdrawnPurposes ?? [];
  if (withdrawn.length === 0) return [];
  return segments.flatMap((segment) => {
    const purposes = (segment.webhookPurposes ?? []).filter((purpose) => withdrawn.includes(purpose));
    if (!stillMemberOf.has(segment.id) || purposes.length === 0) return [];
    const transitionId = noticeIdOf('withdrawn', segment.id, profileId, change.at, ...purposes);
    return [
      {
        kind: 'audience-transition',
        event: 'Audience Exited',
        segmentId: segment.id,
        segmentName: segment.name,
        profileId,
        at: at.toISOString(),
        transitionId,
        withdrawnPurposes: purposes,
      },
    ];
  });
}
