import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { emailFeedbackDependencies } from '../composition/email-feedback';
import type { CountResult } from '../ports/journey-store';
import { quarantineSinkOf, sqsConsumer } from '../adapters/poison-message-quarantine';
import type { QuarantinedMessage } from '../ports/profile-store';
import { feedbackOf, InvalidSesEventError, parseSesEventBody, type SuppressionReason } from '../domain/email/feedback';
import type { ProfileRecord } from '../domain/profile/profile';
import { recordDeliveryOutcome } from '../domain/profile/profile-message';
import { feedbackCount, type FeedbackCount } from '../domain/reports/journey-counters';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';

export interface EmailFeedbackDependencies {
  suppress(emails: readonly string[], reason: SuppressionReason, now: Date): Promise<void>;
  loadProfile(profileId: string): Promise<ProfileRecord | undefined>;
  enqueue(messages: readonly AcceptedMessage[]): Promise<void>;
  /** Adds the outcome to its journey's report counters, once per (SES message, kind). */
  countFeedback(count: FeedbackCount, now: Date): Promise<CountResult>;
  /** Records a message that can never be processed (a DynamoDB limit); without it such a message is retried. */
  quarantineMessage?(entry: QuarantinedMessage): Promise<void>;
  now(): Date;
}

/**
 * Consumes SES events (the EmailFeedback queue; on AWS fed by an EventBridge rule on the
 * configuration set): suppresses permanently bounced and complaining addresses, counts a journey
 * email's outcome in the journey report (once per SES message and kind), then records the outcome
 * as a `track` event of the profile named by the send's `profile` tag, through the Events queue
 * (re-delivered SES events carry the same messageId, so reconcile counts them once).
 * A body that is not an SES event fails its record every time, so it ends in the DLQ, kept: SES
 * events are the platform's own input (not the public write key's), a parse failure is a bug to
 * fix and replay, and a bounce or complaint must not be lost. A body refused by a store limit
 * (functions/adapters/failure-classification.ts) can never succeed: it is quarantined instead.
 */
export function createEmailFeedbackHandler(logger: Logger, dependencies: () => EmailFeedbackDependencies) {
  async function processRecord(record: SQSRecord): Promise<void> {
    let feedback: ReturnType<typeof feedbackOf>;
    try {
      feedback = feedbackOf(parseSesEventBody(record.body));
    } catch (error) {
      // The reason names fields, never values: the body holds addresses.
      if (error instanceof InvalidSesEventError) logger.error('not an SES event: left for the DLQ', { sqsMessageId: record.messageId, reason: error.message });
      throw error;
    }
    if (feedback.kind === 'ignored') {
      logger.info('SES event type not acted on', { sesMessageId: feedback.sesMessageId, eventType: feedback.eventType });
      return;
    }
    const deps = dependencies();
    const now = deps.now();
    if (feedback.suppressReason) await deps.suppress(feedback.suppress, feedback.suppressReason, now);
    const ids = { sesMessageId: feedback.sesMessageId, kind: feedback.kind, profileId: feedback.profileId, suppressed: feedback.suppress.length };
    const count = feedbackCount(feedback);
    if (count)
      logger.info('journey email outcome', { ...ids, journeyKey: count.journeyKey, counter: count.counter, result: await deps.countFeedback(count, now) });
    const recording = await recordDeliveryOutcome(
      {
        ...(feedback.profileId && { profileId: feedback.profileId }),
        messageId: feedback.eventMessageId,
        event: feedback.event,
        properties: feedback.properties,
        channel: 'email',
        occurredAt: feedback.occurredAt,
      },
      deps,
      now,
    );
    if (recording.recorded) logger.info('email feedback recorded', { ...ids, survivorId: recording.survivorId, messageId: recording.messageId });
    else logger.info('email feedback: no profile event', { ...ids, reason: recording.reason, profileFound: recording.profileFound });
  }

  return sqsConsumer({ consumer: 'emailFeedback', logger, sink: () => quarantineSinkOf(dependencies()) }, processRecord);
}

export const handler = createEmailFeedbackHandler(new Logger({ serviceName: 'emailFeedback' }), emailFeedbackDependencies);
