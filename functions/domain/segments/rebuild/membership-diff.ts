import type { ProfileRecord } from '../../profile/profile';
import type { AcceptedMessage } from '../../tracking/accepted-message';
import type { SegmentDefinition } from '../definition';
import { combineHistoryNeeds, evaluateSegment, historyNeeded, segmentSubject, type HistoryNeed } from '../evaluate';

/** A segment ready to evaluate: its parsed definition beside the id and name transitions carry. */
export interface EvaluableSegment {
  readonly id: string;
  readonly name: string;
  readonly definition: SegmentDefinition;
  /** The purposes its webhook destinations serve (a withdrawal of one is told to them as an exit). */
  readonly webhookPurposes?: readonly string[];
}

/** A membership to change: the profile should now be in (`enter`) or out of (`exit`) the segment. */
export interface MembershipChange {
  readonly segment: EvaluableSegment;
  readonly profileId: string;
  readonly shouldBeMember: boolean;
}

export interface ProfileEvidence {
  readonly profile: ProfileRecord;
  readonly scores?: Readonly<Record<string, unknown>>;
  /** Newest first, back to at least `historyFor(...)` when that is defined. */
  readonly events?: readonly AcceptedMessage[];
}

/** How much event history evaluating `segments` at `now` needs (undefined: none, read no events). */
export function historyFor(segments: readonly EvaluableSegment[], now: Date): HistoryNeed | undefined {
  return combineHistoryNeeds(segments.map((segment) => historyNeeded(segment.definition, now)));
}

/** The segments the profile qualifies for at `now`. */
export function qualifyingSegmentIds(evidence: ProfileEvidence, segments: readonly EvaluableSegment[], now: Date): Set<string> {
  const subject = segmentSubject(evidence.profile, {
    now,
    ...(evidence.scores && { scores: evidence.scores }),
    ...(evidence.events && { events: evidence.events }),
  });
  return new Set(segments.filter((segment) => evaluateSegment(segment.definition, subject, now)).map((segment) => segment.id));
}

/**
 * The changes that bring a profile's memberships of `segments` in line with what it qualifies
 * for: enters for qualifying segments it is not in, exits for the others it is in. Segments
 * outside `segments` are left alone whatever `currentMemberOf` says.
 */
export function membershipChanges(
  profileId: string,
  segments: readonly EvaluableSegment[],
  qualifying: ReadonlySet<string>,
  currentMemberOf: ReadonlySet<string>,
): MembershipChange[] {
  const changes: MembershipChange[] = [];
  for (const segment of segments) {
    const shouldBeMember = qualifying.has(segment.id);
    if (shouldBeMember !== currentMemberOf.has(segment.id)) changes.push({ segment, profileId, shouldBeMember });
  }
  return changes;
}

/** Events at or after `need.since` (all when it has none), newest first as given. */
export function eventsWithin(events: readonly AcceptedMessage[], need: HistoryNeed): AcceptedMessage[] {
  const since = need.since?.getTime();
  return since === undefined ? [...events] : events.filter((message) => Date.parse(message.timestamp) >= since);
}
