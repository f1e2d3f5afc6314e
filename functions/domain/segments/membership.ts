import { createHash } from 'node:crypto';
import type { AudienceTransition } from '../pipeline/messages';

/**
 * Membership versions count a profile's enters and exits of a segment: the n-th change has
 * version n, enters are odd and exits even. A transition is named by (segment, profile,
 * direction, version), so whoever emits it twice emits the same id and consumers dedupe on it.
 */
export function transitionIdOf(segmentId: string, profileId: string, event: AudienceTransition['event'], membershipVersion: number): string {
  return createHash('sha256').update(`${segmentId}\n${profileId}\n${event}\n${membershipVersion}`).digest('hex').slice(0, 32);
}

/**
 * The id of a notice that is not a membership change (an erasure, a consent withdrawal), from what
 * makes it unique: emitted again (a retried step, a redelivered change), it keeps its id.
 */
export function noticeIdOf(...parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

export function audienceTransition(
  segment: { readonly id: string; readonly name: string },
  profileId: string,
  entered: boolean,
  membershipVersion: number,
  at: string,
  runId?: string,
): AudienceTransition {
  const event = entered ? 'Audience Entered' : 'Audience Exited';
  return {
    kind: 'audience-transition',
    event,
    segmentId: segment.id,
    segmentName: segment.name,
    profileId,
    at,
    transitionId: transitionIdOf(segment.id, profileId, event, membershipVersion),
    ...(runId !== undefined && { runId }),
  };
}
