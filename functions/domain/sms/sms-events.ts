import * as z from 'zod';
import { describeIssues } from '../shared/schema-issues';
import { checkE164 } from './phone-number';
import { replyIntent, type ReplyIntent } from './reply-keywords';

/**
 * What AWS End User Messaging SMS publishes to the platform's SNS topics, delivered raw to the
 * SmsEvents queue (an SNS envelope, when raw delivery is off, is unwrapped): delivery receipts of
 * the configuration set's event destination, and two-way SMS replies of the origination number.
 * Turned into what the platform does about them: a profile event per final receipt, an opt-out or
 * opt-in per keyword reply. Numbers appear only in `from` of a reply, never in event properties.
 */

/** Profile events, named like the email ones (`Email Delivered`, ...). */
export const SMS_EVENT_NAMES = {
  delivered: 'SMS Delivered',
  failed: 'SMS Failed',
  optedOut: 'SMS Opted Out',
  optedIn: 'SMS Opted In',
} as const;

/** Receipt types that end a message in failure (TEXT_SUCCESSFUL, PENDING, QUEUED are steps on the way). */
export const SMS_FAILURE_TYPES: readonly string[] = [
  'TEXT_INVALID',
  'TEXT_INVALID_MESSAGE',
  'TEXT_UNREACHABLE',
  'TEXT_CARRIER_UNREACHABLE',
  'TEXT_BLOCKED',
  'TEXT_CARRIER_BLOCKED',
  'TEXT_SPAM',
  'TEXT_UNKNOWN',
  'TEXT_TTL_EXPIRED',
  'TEXT_PROTECT_BLOCKED',
];
const FAILED_TYPES: ReadonlySet<string> = new Set(SMS_FAILURE_TYPES);

/**
 * Failures that say the number itself cannot receive texts, like an email's hard bounce: an
 * invalid number (TEXT_INVALID), or a device or carrier that blocks texts to it (TEXT_BLOCKED).
 * The others pass or concern one message: an unreachable carrier or a phone switched off, an
 * expired TTL, a text filtered as spam, or an unknown reason (AWS: "may be temporary or permanent").
 */
export const SMS_NUMBER_FAILURE_TYPES: readonly string[] = ['TEXT_INVALID', 'TEXT_BLOCKED'];
const NUMBER_FAILURE_TYPES: ReadonlySet<string> = new Set(SMS_NUMBER_FAILURE_TYPES);

/** The receipt types the platform acts on: what the configuration set's event destination publishes. */
export const SMS_RECEIPT_TYPES: readonly string[] = ['TEXT_DELIVERED', ...SMS_FAILURE_TYPES];

const receiptSchema = z.object({
  eventType: z.string().regex(/^TEXT_[A-Z_]+$/),
  messageId: z.string().min(1),
  eventTimestamp: z.number().int().nonnegative().optional(),
  messageRequestTimestamp: z.number().int().nonnegative().optional(),
  /** The number texted: read only to suppress it after a failure of the number itself, never stored or logged. */
  destinationPhoneNumber: z.string().optional(),
  messageStatus: z.string().optional(),
  messageStatusDescription: z.string().optional(),
  isoCountryCode: z.string().optional(),
  totalMessageParts: z.number().int().optional(),
  /** The send's Context: ours holds ids only (profile, journey, step, run, segment). */
  context: z.record(z.string(), z.string()).default({}),
});

const inboundSchema = z.object({
  originationNumber: z.string().min(1),
  destinationNumber: z.string().optional(),
  messageBody: z.string(),
  inboundMessageId: z.string().min(1),
  messageKeyword: z.string().optional(),
});

/** An SMS event the platform acts on, as End User Messaging SMS publishes it (what the local stand-in builds too). */
export type SmsReceiptEvent = z.input<typeof receiptSchema>;
export type SmsInboundEvent = z.input<typeof inboundSchema>;

export class InvalidSmsEventError extends Error {
  constructor(problems: readonly string[]) {
    super(`not an SMS event: ${problems.join('; ')}`);
    this.name = 'InvalidSmsEventError';
  }
}

export interface SmsReceipt {
  readonly kind: 'receipt';
  readonly outcome: 'delivered' | 'failed';
  readonly smsMessageId: string;
  readonly profileId?: string;
  readonly occurredAt: string;
  readonly event: string;
  /** `sms-<messageId>-<eventType>`: the same receipt delivered again is counted once. */
  readonly eventMessageId: string;
  /** Ids and codes only: `sms_id`, `journey`, `step`, `run`, `segment`, `status`, `country`, `parts`. */
  readonly properties: Readonly<Record<string, string | number>>;
  /** The number (E.164) to suppress: the failure was of the number itself (SMS_NUMBER_FAILURE_TYPES). */
  readonly undeliverableNumber?: string;
}

export interface SmsReply {
  readonly kind: 'reply';
  readonly intent: ReplyIntent;
  /** The sender, E.164; undefined when the number is not one (nothing can be done by number then). */
  readonly from?: string;
  readonly inboundMessageId: string;
}

export type SmsEvent = SmsReceipt | SmsReply | { readonly kind: 'ignored'; readonly eventType: string; readonly smsMessageId: string };

/** The JSON of an SQS body, an SNS envelope unwrapped; a body that is not JSON throws InvalidSmsEventError. */
export function parseSmsEventBody(body: string): unknown {
  const json = (text: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new InvalidSmsEventError(['the body is not JSON']);
    }
  };
  const parsed = json(body);
  const envelope = parsed as { Type?: unknown; Message?: unknown } | null;
  return envelope && envelope.Type === 'Notification' && typeof envelope.Message === 'string' ? json(envelope.Message) : parsed;
}

const isoOf = (epochMs: number | undefined, fallback: Date): string => new Date(epochMs ?? fallback.getTime()).toISOString();

/** What one SMS event asks of the platform; a body that is neither a receipt nor a reply throws InvalidSmsEventError. */
export function smsEventOf(input: unknown, receivedAt: Date): SmsEvent {
  const object = (input ?? {}) as Record<string, unknown>;
  if (typeof object.eventType === 'string') {
    const parsed = receiptSchema.safeParse(input);
    if (!parsed.success) throw new InvalidSmsEventError(describeIssues(parsed.error));
    const receipt = parsed.data;
    const outcome = receipt.eventType === 'TEXT_DELIVERED' ? 'delivered' : FAILED_TYPES.has(receipt.eventType) ? 'failed' : undefined;
    if (!outcome) return { kind: 'ignored', eventType: receipt.eventType, smsMessageId: receipt.messageId };
    const ids: Record<string, string | number> = { sms_id: receipt.messageId };
    for (const name of ['journey', 'step', 'run', 'segment']) {
      const value = receipt.context[name];
      if (value) ids[name] = value;
    }
    if (receipt.messageStatus) ids.status = receipt.messageStatus;
    if (receipt.isoCountryCode) ids.country = receipt.isoCountryCode;
    if (receipt.totalMessageParts !== undefined) ids.parts = receipt.totalMessageParts;
    const profileId = receipt.context.profile;
    const destination = NUMBER_FAILURE_TYPES.has(receipt.eventType) && receipt.destinationPhoneNumber ? checkE164(receipt.destinationPhoneNumber) : undefined;
    return {
      kind: 'receipt',
      outcome,
      smsMessageId: receipt.messageId,
      ...(profileId && { profileId }),
      occurredAt: isoOf(receipt.eventTimestamp ?? receipt.messageRequestTimestamp, receivedAt),
      event: outcome === 'delivered' ? SMS_EVENT_NAMES.delivered : SMS_EVENT_NAMES.failed,
      eventMessageId: `sms-${receipt.messageId}-${receipt.eventType}`,
      properties: ids,
      ...(destination?.ok && { undeliverableNumber: destination.number }),
    };
  }
  const parsed = inboundSchema.safeParse(input);
  if (!parsed.success) throw new InvalidSmsEventError(describeIssues(parsed.error));
  const from = checkE164(parsed.data.originationNumber);
  return {
    kind: 'reply',
    intent: replyIntent(parsed.data.messageBody),
    ...(from.ok && { from: from.number }),
    inboundMessageId: parsed.data.inboundMessageId,
  };
}
