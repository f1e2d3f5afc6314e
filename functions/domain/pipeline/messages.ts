/**
 * Messages between the stages of the processing pipeline (each stage an SQS-driven function):
 * reconcile → ProfileChanges → score → SegmentEvaluation → segmentEvaluator → Activation → activation.
 * Every consumer is idempotent: a message may arrive twice, or after a newer one.
 */

import type { AcceptedMessage } from '../tracking/accepted-message';

/**
 * An Events queue body: the accepted messages of one Tracking API request (or import chunk), in
 * order, one visitor's messages side by side. One SQS message per request rather than one per
 * event: a tenth of the SQS requests and of the ingest function's work, and a person's messages
 * reach reconcile together. A body that is a single AcceptedMessage (earlier versions, replays of
 * their dead letters) is read too.
 */
export interface AcceptedMessages {
  readonly kind: 'accepted-messages';
  readonly messages: readonly AcceptedMessage[];
}

/** At most this many messages per Events queue body: a reconcile batch of 10 bodies stays at 1,000 messages. */
export const MAX_MESSAGES_PER_EVENTS_BODY = 100;

/** A profile's data changed; the receiver reloads the profile and recomputes what depends on it. */
export interface ProfileChange {
  readonly kind: 'profile-change';
  readonly profileId: string;
  /** Why it changed: a tracked event, an import row, a merge, an un-merge, or a scheduled recompute. */
  readonly reason: 'event' | 'merge' | 'unmerge' | 'recompute';
  /** When the change happened (ISO 8601). */
  readonly at: string;
  /** The tracking message that caused it, when one did. */
  readonly messageId?: string;
  /** Profiles merged away by this change: their memberships and scores move to `profileId`. */
  readonly absorbedProfileIds?: readonly string[];
  /** Purposes the person had granted and no longer does: destinations serving them are told the person left. */
  readonly withdrawnPurposes?: readonly string[];
}

/** A profile entered or left a segment (docs/contract.md §7), for webhooks and journeys. */
export interface AudienceTransition {
  readonly kind: 'audience-transition';
  /**
   * `Profile Deleted`: the member was erased (GDPR art. 17); every webhook of the segment is told,
   * whatever its event filter or purpose (art. 19: recipients are informed of an erasure).
   */
  readonly event: 'Audience Entered' | 'Audience Exited' | 'Profile Deleted';
  readonly segmentId: string;
  readonly segmentName: string;
  readonly profileId: string;
  readonly at: string;
  /** Deterministic id (segment, profile, direction, membership version): dedupes redeliveries. */
  readonly transitionId: string;
  /** The rebuild run that found it, when not real time. */
  readonly runId?: string;
  /**
   * An exit sent because the person withdrew these purposes while staying in the segment: it goes
   * only to the webhooks serving one of them (the others keep the person).
   */
  readonly withdrawnPurposes?: readonly string[];
}

export type ActivationMessage = AudienceTransition;
