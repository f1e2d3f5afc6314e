/**
 * Messages between the stages of the processing pipeline (each stage an SQS-driven function):
 * reconcile → ProfileChanges → score → SegmentEvaluation → segmentEvaluator → Activation → activation.
 * Every consumer is idempotent: a message may arrive twice, or after a newer one.
 */

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
}

/** A profile entered or left a segment (CONTRACT.md §7), for webhooks and journeys. */
export interface AudienceTransition {
  readonly kind: 'audience-transition';
  readonly event: 'Audience Entered' | 'Audience Exited';
  readonly segmentId: string;
  readonly segmentName: string;
  readonly profileId: string;
  readonly at: string;
  /** Deterministic id (segment, profile, direction, membership version): dedupes redeliveries. */
  readonly transitionId: string;
  /** The rebuild run that found it, when not real time. */
  readonly runId?: string;
}

export type ActivationMessage = AudienceTransition;
