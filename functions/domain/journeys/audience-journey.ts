import type { AudienceTransition } from '../pipeline/messages';
import { runName } from './cart-abandonment';
import type { EmailTemplate } from './journey-config';

/**
 * A segment used as a journey entry: entering the segment starts an `AudienceEmail` run that
 * sends the destination's template (after an optional delay) through the same guards, holdout,
 * quiet hours and idempotent send step as the other journeys. A profile that left the segment
 * before the send gets nothing.
 */
export interface AudienceJourneyDestination {
  readonly type: 'journey';
  readonly journey: 'audience-email';
  readonly template: EmailTemplate;
  /** From entering the segment to the send; 0 sends at once (still subject to the guards). */
  readonly delaySeconds?: number;
}

/** The values an audience email template may use (anything else is refused when saving). */
export const AUDIENCE_TEMPLATE_VALUES: readonly string[] = ['firstName', 'segmentName', 'unsubscribeUrl', 'traits.*'];

export interface AudienceRun {
  readonly journey: 'audience-email';
  readonly runId: string;
  readonly profileId: string;
  readonly segmentId: string;
  readonly segmentName: string;
  /** The transition that started the run; its time is when the profile entered. */
  readonly transitionId: string;
  readonly enteredAt: string;
  readonly template: EmailTemplate;
}

export interface AudienceJourneyStart {
  /** Execution name: the same transition and destination always name the same run. */
  readonly name: string;
  readonly input: { readonly run: AudienceRun; readonly delays: { readonly seconds: number } };
}

/**
 * The run an `Audience Entered` transition starts for a segment's journey destination, or
 * undefined for an exit. `position` tells two journeys of one segment apart.
 */
export function audienceJourneyStart(
  transition: AudienceTransition,
  destination: AudienceJourneyDestination,
  position: number,
): AudienceJourneyStart | undefined {
  if (transition.event !== 'Audience Entered') return undefined;
  const runId = runName('aud', transition.transitionId, String(position));
  return {
    name: runId,
    input: {
      run: {
        journey: 'audience-email',
        runId,
        profileId: transition.profileId,
        segmentId: transition.segmentId,
        segmentName: transition.segmentName,
        transitionId: transition.transitionId,
        enteredAt: transition.at,
        template: destination.template,
      },
      delays: { seconds: destination.delaySeconds ?? 0 },
    },
  };
}
