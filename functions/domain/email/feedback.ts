import { createHash } from 'node:crypto';
import * as z from 'zod';
import { describeIssues } from '../shared/schema-issues';

/**
 * SES deliverability and engagement feedback: an SES event, as SES publishes it for a
 * configuration set (to SNS, or as the `detail` of an EventBridge event), turned into what the
 * platform does about it: addresses to suppress and one profile event. Addresses appear only in
 * `suppress`, never in the event's properties.
 */

const timestamp = z.iso.datetime({ offset: true });
const recipients = z.array(z.object({ emailAddress: z.string().min(1) }));

const mail = z.object({
  messageId: z.string().min(1),
  timestamp,
  destination: z.array(z.string()).default([]),
  /** The send's tags (ours: ids only) and SES's own `ses:*` tags, each name with a list of values. */
  tags: z.record(z.string(), z.array(z.string())).default({}),
});

const bounceEvent = z.object({
  eventType: z.literal('Bounce'),
  mail,
  bounce: z.object({
    bounceType: z.enum(['Permanent', 'Transient', 'Undetermined']),
    bounceSubType: z.string().min(1),
    bouncedRecipients: recipients,
    timestamp: timestamp.optional(),
  }),
});

const complaintEvent = z.object({
  eventType: z.literal('Complaint'),
  mail,
  complaint: z.object({
    complainedRecipients: recipients,
    complaintFeedbackType: z.string().optional(),
    timestamp: timestamp.optional(),
  }),
});

const deliveryEvent = z.object({
  eventType: z.literal('Delivery'),
  mail,
  delivery: z.object({ timestamp: timestamp.optional() }),
});

const openEvent = z.object({
  eventType: z.literal('Open'),
  mail,
  open: z.object({ timestamp: timestamp.optional() }),
});

const clickEvent = z.object({
  eventType: z.literal('Click'),
  mail,
  click: z.object({ link: z.string().min(1), timestamp: timestamp.optional() }),
});

const rejectEvent = z.object({
  eventType: z.literal('Reject'),
  mail,
  reject: z.object({ reason: z.string().optional() }).default({}),
});

/** The SES event types the platform acts on. */
export const sesEventSchema = z.discriminatedUnion('eventType', [bounceEvent, complaintEvent, deliveryEvent, openEvent, clickEvent, rejectEvent]);

/** An SES event the platform acts on, as SES sends it (what the local emulator builds too). */
export type SesEvent = z.input<typeof sesEventSchema>;

/** Enough of any SES event to recognise it: types we do not act on are acknowledged by this much. */
const sesEventEnvelope = z.object({ eventType: z.string().min(1), mail: z.object({ messageId: z.string().min(1) }) });

const ACTED_ON: ReadonlySet<string> = new Set(sesEventSchema.options.map((option) => option.shape.eventType.value));

/** A body that is not an SES event: a poison message, to keep (DLQ) rather than drop. */
export class InvalidSesEventError extends Error {
  constructor(problems: readonly string[]) {
    super(`not an SES event: ${problems.join('; ')}`);
    this.name = 'InvalidSesEventError';
  }
}

export type FeedbackKind = 'delivery' | 'open' | 'click' | 'bounce' | 'complaint' | 'reject';
export type SuppressionReason = 'bounce' | 'complaint';

/** Segment's email event names, so segments and scores read them like any email tool's events. */
export const FEEDBACK_EVENT_NAMES: Readonly<Record<FeedbackKind, string>> = {
  delivery: 'Email Delivered',
  open: 'Email Opened',
  click: 'Email Link Clicked',
  bounce: 'Email Bounced',
  complaint: 'Email Marked as Spam',
  reject: 'Email Rejected',
};

export interface EmailOutcome {
  readonly kind: FeedbackKind;
  readonly sesMessageId: string;
  /** From the send's `profile` tag; absent for an email the journeys did not send. */
  readonly profileId?: string;
  /** From the send's `segment` tag: the segment of an audience journey's email. */
  readonly segmentId?: string;
  /** When it happened (ISO 8601, UTC): the event's own time, else the send's. */
  readonly occurredAt: string;
  readonly event: string;
  /**
   * The profile event's idempotency key: the same SES event delivered again gets the same one.
   * `ses-<sesMessageId>-<eventType>`, plus for opens and clicks (there can be several) a suffix
   * from the event's time (and link).
   */
  readonly eventMessageId: string;
  /** Ids and codes only: `email_id`, `journey`, `step`, `run`, and per kind the bounce type, link, reason. */
  readonly properties: Readonly<Record<string, string>>;
  /** Addresses never to mail again: permanent bounces and complaints. */
  readonly suppress: readonly string[];
  readonly suppressReason?: SuppressionReason;
}

export interface IgnoredEvent {
  readonly kind: 'ignored';
  readonly eventType: string;
  readonly sesMessageId: string;
}

export type EmailFeedback = EmailOutcome | IgnoredEvent;

/** The JSON of an SQS body; a body that is not JSON throws InvalidSesEventError (feedbackOf checks the shape). */
export function parseSesEventBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new InvalidSesEventError(['the body is not JSON']);
  }
}

const tagValue = (tags: Readonly<Record<string, readonly string[]>>, name: string): string | undefined => {
  const value = tags[name]?.[0];
  return value !== undefined && value !== '' ? value : undefined;
};

const shortHash = (value: string): string => createHash('sha256').update(value).digest('hex').slice(0, 12);

/**
 * The clicked link without its query and fragment: they may carry personal data or a token (the
 * unsubscribe link's), which must not land on the profile. Not a URL: kept out entirely.
 */
function withoutQuery(link: string): string | undefined {
  try {
    const url = new URL(link);
    return `${url.origin}${url.pathname}`;
  } catch {
    return undefined;
  }
}

/**
 * What to do about one SES event (the parsed body). Types the platform does not act on (Send,
 * DeliveryDelay, Rendering Failure, Subscription, future ones) come back `ignored`; a body that is
 * not an SES event, or an acted-on type missing its fields, throws InvalidSesEventError.
 */
export function feedbackOf(input: unknown): EmailFeedback {
  const envelope = sesEventEnvelope.safeParse(input);
  if (!envelope.success) throw new InvalidSesEventError(describeIssues(envelope.error));
  if (!ACTED_ON.has(envelope.data.eventType)) return { kind: 'ignored', eventType: envelope.data.eventType, sesMessageId: envelope.data.mail.messageId };
  const parsed = sesEventSchema.safeParse(input);
  if (!parsed.success) throw new InvalidSesEventError(describeIssues(parsed.error));
  const event = parsed.data;
  const sesMessageId = event.mail.messageId;
  const profileId = tagValue(event.mail.tags, 'profile');
  const segmentId = tagValue(event.mail.tags, 'segment');
  const common: Record<string, string> = { email_id: sesMessageId };
  for (const tag of ['journey', 'step', 'run']) {
    const value = tagValue(event.mail.tags, tag);
    if (value) common[tag] = value;
  }
  const outcome = (
    kind: FeedbackKind,
    at: string | undefined,
    properties: Record<string, string> = {},
    suffix = '',
    suppress: { readonly addresses: readonly string[]; readonly reason: SuppressionReason } | undefined = undefined,
  ): EmailOutcome => ({
    kind,
    sesMessageId,
    ...(profileId && { profileId }),
    ...(segmentId && { segmentId }),
    occurredAt: new Date(at ?? event.mail.timestamp).toISOString(),
    event: FEEDBACK_EVENT_NAMES[kind],
    eventMessageId: `ses-${sesMessageId}-${event.eventType}${suffix}`,
    properties: { ...common, ...properties },
    suppress: suppress?.addresses ?? [],
    ...(suppress && { suppressReason: suppress.reason }),
  });

  switch (event.eventType) {
    case 'Delivery':
      return outcome('delivery', event.delivery.timestamp);
    case 'Open': {
      const at = event.open.timestamp ?? event.mail.timestamp;
      return outcome('open', at, {}, `-${Date.parse(at)}`);
    }
    case 'Click': {
      const at = event.click.timestamp ?? event.mail.timestamp;
      const link = withoutQuery(event.click.link);
      return outcome('click', at, link ? { link_url: link } : {}, `-${Date.parse(at)}-${shortHash(event.click.link)}`);
    }
    case 'Bounce': {
      const { bounce } = event;
      // Only a permanent bounce says the address is bad; SES retried transient ones already.
      const addresses = bounce.bounceType === 'Permanent' ? bounce.bouncedRecipients.map((recipient) => recipient.emailAddress) : [];
      return outcome(
        'bounce',
        bounce.timestamp,
        { bounce_type: bounce.bounceType, bounce_sub_type: bounce.bounceSubType },
        '',
        addresses.length > 0 ? { addresses, reason: 'bounce' } : undefined,
      );
    }
    case 'Complaint': {
      const { complaint } = event;
      const feedbackType = complaint.complaintFeedbackType;
      // The mailbox provider reporting that the recipient said it is not spam is no complaint.
      if (feedbackType === 'not-spam') return { kind: 'ignored', eventType: event.eventType, sesMessageId };
      const addresses = complaint.complainedRecipients.map((recipient) => recipient.emailAddress);
      return outcome(
        'complaint',
        complaint.timestamp,
        feedbackType ? { complaint_feedback_type: feedbackType } : {},
        '',
        addresses.length > 0 ? { addresses, reason: 'complaint' } : undefined,
      );
    }
    case 'Reject':
      return outcome('reject', undefined, event.reject.reason ? { reject_reason: event.reject.reason } : {});
  }
}
