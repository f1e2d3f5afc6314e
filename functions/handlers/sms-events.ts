import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { smsEventsDependencies } from '../composition/sms-events';
import { quarantineSinkOf, sqsConsumer } from '../adapters/poison-message-quarantine';
import type { CountResult } from '../ports/journey-store';
import type { QuarantinedMessage } from '../ports/profile-store';
import { smsReceiptCount, type FeedbackCount } from '../domain/reports/journey-counters';
import type { ProfileRecord } from '../domain/profile/profile';
import { profileMessage, recordDeliveryOutcome } from '../domain/profile/profile-message';
import { SMS_PURPOSE } from '../domain/sms/recipient';
import { InvalidSmsEventError, parseSmsEventBody, SMS_EVENT_NAMES, smsEventOf, type SmsReceipt, type SmsReply } from '../domain/sms/sms-events';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';

export interface SmsEventsDependencies {
  loadProfile(profileId: string): Promise<ProfileRecord | undefined>;
  /** The profile that has this phone identity (E.164), if any. */
  findProfileByPhone(phone: string): Promise<ProfileRecord | undefined>;
  optOutNumber(phone: string, now: Date): Promise<void>;
  optInNumber(phone: string): Promise<void>;
  /** Never text the number again: it cannot receive texts (invalid, or blocking them). */
  suppressNumber(phone: string, now: Date): Promise<void>;
  enqueue(messages: readonly AcceptedMessage[]): Promise<void>;
  /** Adds a segment journey text's receipt to the journey and segment reports, once per (SMS message, kind). */
  countReceipt(count: FeedbackCount, now: Date): Promise<CountResult>;
  /** Records a message that can never be processed (a DynamoDB limit); without it such a message is retried. */
  quarantineMessage?(entry: QuarantinedMessage): Promise<void>;
  now(): Date;
}

/**
 * Consumes the SmsEvents queue (on AWS fed by two SNS topics: the SMS configuration set's event
 * destination and the origination number's two-way channel), like the emailFeedback function:
 * - a final delivery receipt (TEXT_DELIVERED, or a failure such as TEXT_CARRIER_UNREACHABLE)
 *   suppresses the number first when the failure is of the number itself (invalid, or blocking
 *   texts: domain/sms/sms-events.ts SMS_NUMBER_FAILURE_TYPES), as a hard bounce does an address; it
 *   becomes an `SMS Delivered` / `SMS Failed` track event of the profile named by the send's
 *   `profile` context, through the Events queue (its messageId derived from the receipt, so a
 *   redelivery counts once), and a segment journey's text is counted in the journey report
 *   (delivered, or bounced for a failure) and the segment's `sms` row; intermediate receipts are acknowledged;
 * - a STOP-like reply (domain/sms/reply-keywords.ts) puts the number on the SMS opt-out list at
 *   once (an unknown number too), then records `sms_marketing` denied on the profile that has the
 *   number, as a consent decision carried by an `SMS Opted Out` event; START/UNSTOP lifts the
 *   number's opt-out and grants `sms_marketing` again (`SMS Opted In`): an explicit request from
 *   the number itself, the carriers' standard re-subscription.
 * A body that is neither fails its record every time (DLQ, kept for a replay).
 */
export function createSmsEventsHandler(logger: Logger, dependencies: () => SmsEventsDependencies) {
  async function recordReceipt(receipt: SmsReceipt, deps: SmsEventsDependencies, now: Date): Promise<void> {
    const ids = { smsMessageId: receipt.smsMessageId, outcome: receipt.outcome, profileId: receipt.profileId };
    if (receipt.undeliverableNumber !== undefined) {
      // Before the profile event: a redelivered receipt suppresses again (no harm), a lost one never.
      await deps.suppressNumber(receipt.undeliverableNumber, now);
      logger.info('SMS number suppressed: it cannot receive texts', { ...ids, status: receipt.properties.status });
    }
    const count = smsReceiptCount(receipt);
    if (count)
      logger.info('journey SMS outcome', { ...ids, journeyKey: count.journeyKey, counter: count.counter, result: await deps.countReceipt(count, now) });
    const recording = await recordDeliveryOutcome(
      {
        ...(receipt.profileId && { profileId: receipt.profileId }),
        messageId: receipt.eventMessageId,
        event: receipt.event,
        properties: receipt.properties,
        channel: 'sms',
        occurredAt: receipt.occurredAt,
      },
      deps,
      now,
    );
    if (recording.recorded) logger.info('SMS receipt recorded', { ...ids, survivorId: recording.survivorId, messageId: recording.messageId });
    else logger.info('SMS receipt: no profile event', { ...ids, reason: recording.reason, profileFound: recording.profileFound });
  }

  async function recordReply(reply: SmsReply, deps: SmsEventsDependencies, now: Date): Promise<void> {
    const ids = { inboundMessageId: reply.inboundMessageId, intent: reply.intent };
    if (reply.intent === 'other' || !reply.from) {
      // Ids only: never the number or the text.
      logger.info('SMS reply not acted on', { ...ids, e164: reply.from !== undefined });
      return;
    }
    const optOut = reply.intent === 'opt-out';
    if (optOut) await deps.optOutNumber(reply.from, now);
    else await deps.optInNumber(reply.from);
    const profile = await deps.findProfileByPhone(reply.from);
    const message =
      profile &&
      profileMessage(
        profile,
        {
          type: 'track',
          messageId: `sms-reply-${reply.inboundMessageId}`,
          event: optOut ? SMS_EVENT_NAMES.optedOut : SMS_EVENT_NAMES.optedIn,
          properties: { inbound_id: reply.inboundMessageId },
          context: { channel: 'sms', consent: { categoryPreferences: { [SMS_PURPOSE]: !optOut } } },
          timestamp: now.toISOString(),
        },
        now,
      );
    if (message) await deps.enqueue([message]);
    logger.info(optOut ? 'SMS opt-out recorded' : 'SMS opt-in recorded', { ...ids, profileId: profile?.profileId, viaPipeline: message !== undefined });
  }

  async function processRecord(record: SQSRecord): Promise<void> {
    const deps = dependencies();
    const now = deps.now();
    let event: ReturnType<typeof smsEventOf>;
    try {
      event = smsEventOf(parseSmsEventBody(record.body), now);
    } catch (error) {
      // The reason names fields, never values: the body holds phone numbers.
      if (error instanceof InvalidSmsEventError) logger.error('not an SMS event: left for the DLQ', { sqsMessageId: record.messageId, reason: error.message });
      throw error;
    }
    if (event.kind === 'ignored') {
      logger.info('SMS receipt type not acted on', { smsMessageId: event.smsMessageId, eventType: event.eventType });
      return;
    }
    if (event.kind === 'receipt') await recordReceipt(event, deps, now);
    else await recordReply(event, deps, now);
  }

  return sqsConsumer({ consumer: 'smsEvents', logger, sink: () => quarantineSinkOf(dependencies()) }, processRecord);
}

export const handler = createSmsEventsHandler(new Logger({ serviceName: 'smsEvents' }), smsEventsDependencies);
