import type { AudienceTransition } from '../pipeline/messages';
import { runName } from './cart-abandonment';
import type { SmsTemplate } from '../sms/sms-text';
import type { EmailTemplate } from './journey-config';

/**
 * A segment used as a journey entry: entering the segment starts a run of the `AudienceEmail`
 * state machine (wait, then one send step) that sends the destination's template (after an
 * optional delay) through the same guards, holdout, quiet hours and idempotent send step as the
 * other journeys. `audience-email` sends an email, `audience-sms` a text message (the channel is
 * the journey: each has its own report line). A profile that left the segment before the send
 * gets nothing.
 */
export type AudienceJourneyDestination = AudienceEmailDestination | AudienceSmsDestination;

export interface AudienceEmailDestination {
  readonly type: 'journey';
  readonly journey: 'audience-email';
  readonly template: EmailTemplate;
  /** From entering the segment to the send; 0 sends at once (still subject to the guards). */
  readonly delaySeconds?: number;
}

export interface AudienceSmsDestination {
  readonly type: 'journey';
  readonly journey: 'audience-sms';
  readonly template: SmsTemplate;
  /** As for email. */
  readonly delaySeconds?: number;
}

/** The values an audience email template may use (anything else is refused when saving). */
export const AUDIENCE_TEMPLATE_VALUES: readonly string[] = ['firstName', 'segmentName', 'unsubscribeUrl', 'traits.*'];

export type AudienceRun = AudienceEmailRun | AudienceSmsRun;

export interface AudienceEmailRun extends AudienceRunFields {
  readonly journey: 'audience-email';
  readonly template: EmailTemplate;
}

export interface AudienceSmsRun extends AudienceRunFields {
  readonly journey: 'audience-sms';
  readonly template: SmsTemplate;
}

interface AudienceRunFields {
  readonly runId: string;
  readonly profileId: string;
  readonly segmentId: string;
  readonly segmentName: string;
  /** The transition that started the run; its time is when the profile entered. */
  readonly transitionId: string;
  readonly enteredAt: string;
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
  const fields: AudienceRunFields = {
    runId,
    profileId: transition.profileId,
    segmentId: transition.segmentId,
    segmentName: transition.segmentName,
    transitionId: transition.transitionId,
    enteredAt: transition.at,
  };
  const run: AudienceRun =
    destination.journey === 'audience-sms'
      ? { journey: 'audience-sms', ...fields, template: destination.template }
      : { journey: 'audience-email', ...fields, template: destination.template };
  return {
    name: runId,
    input: {
      run,
      delays: { seconds: destination.delaySeconds ?? 0 },
    },
  };
}
