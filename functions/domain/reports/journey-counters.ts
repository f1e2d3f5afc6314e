import type { EmailOutcome } from '../email/feedback';
import type { SmsReceipt } from '../sms/sms-events';
import type { Touch } from './attribution';
import { JOURNEY_STEPS } from '../journeys/journey-config';
import { dayOf } from '../shared/utc-days';
import type { JourneyRun, JourneyStep, RecordedOutcome } from '../journeys/journey-send';

/**
 * The write side of the journey report: which daily counters a journey fact adds to. Facts are
 * step outcomes, entrants (treatment or holdout), conversions within the attribution window and
 * SES feedback; each is counted once by the store, in one transaction with its marker item.
 */

/** Orders this long after entering a journey count as its conversions. */
export const ATTRIBUTION_DAYS = 7;
/** Daily counters are kept this long after their day (TTL). */
export const COUNTER_RETENTION_DAYS = 400;
/** Journey entries are kept this long: longer than the attribution window, for late events. */
export const ENTRY_RETENTION_DAYS = 30;

const DAY_MS = 86_400_000;

export type Group = 'treatment' | 'holdout';

/** The steps a run starts with: an outcome there makes the profile an entrant. */
const FIRST_STEPS: ReadonlySet<JourneyStep> = new Set<JourneyStep>(['email1', 'promotion', 'audience']);

/** Prefix of a segment journey's key: one report line per segment (and channel). */
export const AUDIENCE_JOURNEY_PREFIX = 'audience-email:';
/** Prefix of a segment's SMS journey key: its sends are counted on a line of their own. */
export const AUDIENCE_SMS_JOURNEY_PREFIX = 'audience-sms:';

/** Whether the key names a segment's journey (email or SMS): runs of the AudienceEmail state machine. */
export const isAudienceJourneyKey = (journeyKey: string): boolean =>
  journeyKey.startsWith(AUDIENCE_JOURNEY_PREFIX) || journeyKey.startsWith(AUDIENCE_SMS_JOURNEY_PREFIX);

/** `cart-abandonment`, `product-view`, `audience-email:<segmentId>` or `audience-sms:<segmentId>` (one report line per segment and channel). */
export function journeyKeyOf(run: JourneyRun): string {
  if (run.journey === 'audience-email') return `${AUDIENCE_JOURNEY_PREFIX}${run.segmentId}`;
  if (run.journey === 'audience-sms') return `${AUDIENCE_SMS_JOURNEY_PREFIX}${run.segmentId}`;
  return run.journey;
}

/** TTL of a day's counter item: epoch seconds, COUNTER_RETENTION_DAYS after the day. */
export function counterExpiresAt(day: string): number {
  return Math.floor(Date.parse(`${day}T00:00:00.000Z`) / 1000) + COUNTER_RETENTION_DAYS * 86_400;
}

/** The counter a final step outcome adds one to: `sent:<step>`, `skipped:<reason>:<step>`, `ended:<reason>:<step>`. */
export function outcomeCounter(step: JourneyStep, outcome: RecordedOutcome): string {
  return outcome.outcome === 'sent' ? `sent:${step}` : `${outcome.outcome}:${outcome.reason}:${step}`;
}

/**
 * The group of the profile entering the journey with this outcome, or undefined when it does not
 * enter: only a run's first step, sent or skipped (a run that ended before its first email never
 * reached the journey's audience, and the global control group is no journey's entrant). A holdout
 * skip is the journey's control group.
 */
export function entrantGroup(step: JourneyStep, outcome: RecordedOutcome): Group | undefined {
  // The global control group is compared with everyone else, not with a journey's treatment.
  if (!FIRST_STEPS.has(step) || outcome.outcome === 'ended' || (outcome.outcome === 'skipped' && outcome.reason === 'control-group')) return undefined;
  return outcome.outcome === 'skipped' && outcome.reason === 'holdout' ? 'holdout' : 'treatment';
}

/** A profile's entry into a journey run, the basis of conversion attribution. */
export interface JourneyEntry {
  readonly runId: string;
  readonly journeyKey: string;
  readonly group: Group;
  /** When the profile entered (ISO 8601). */
  readonly at: string;
}

/**
 * The entries an order at `orderAt` converts: per journey key the newest entry within the
 * attribution window before the order (the run whose email, or holdout, came last).
 */
export function attributedEntries(entries: readonly JourneyEntry[], orderAt: string): JourneyEntry[] {
  const orderTime = Date.parse(orderAt);
  const windowStart = orderTime - ATTRIBUTION_DAYS * DAY_MS;
  const newest = new Map<string, JourneyEntry>();
  for (const entry of entries) {
    const at = Date.parse(entry.at);
    if (!(at >= windowStart && at <= orderTime)) continue;
    const current = newest.get(entry.journeyKey);
    if (!current || at > Date.parse(current.at) || (at === Date.parse(current.at) && entry.runId > current.runId)) newest.set(entry.journeyKey, entry);
  }
  return [...newest.values()];
}

/** What one conversion adds: the order and its revenue to the entry's group. */
export function conversionCounters(group: Group, revenue: number): Record<string, number> {
  return { [`conversions:${group}`]: 1, [`revenue:${group}`]: Number.isFinite(revenue) ? revenue : 0 };
}

const FEEDBACK_COUNTERS: Readonly<Partial<Record<EmailOutcome['kind'], string>>> = {
  delivery: 'delivered',
  open: 'opened',
  click: 'clicked',
  bounce: 'bounced',
  complaint: 'complained',
};

export interface FeedbackCount {
  readonly journeyKey: string;
  readonly day: string;
  /** `delivered:<step>`, `opened:<step>`, `clicked:<step>`, `bounced:<step>` or `complained:<step>`. */
  readonly counter: string;
  /** The SES message id, or the SMS message id of a text's receipt. */
  readonly sesMessageId: string;
  readonly kind: EmailOutcome['kind'];
  /** The segment of an audience email or text: the outcome also counts in that segment's channel row. */
  readonly segmentId?: string;
  /** Default `email`. */
  readonly channel?: 'email' | 'sms';
}

/** The segment report's engagement counter of an SES outcome: `engaged:delivered`, `engaged:opened`, ... */
export const engagementCounter = (kind: EmailOutcome['kind']): string => `engaged:${FEEDBACK_COUNTERS[kind] ?? kind}`;

/**
 * The counter an SES outcome adds to, from the send's tags (journey, step, and segment for
 * audience emails); undefined for an email no journey sent, tags we do not know, or a reject.
 */
export function feedbackCount(outcome: EmailOutcome): FeedbackCount | undefined {
  const prefix = FEEDBACK_COUNTERS[outcome.kind];
  const { journey, step } = outcome.properties;
  if (!prefix || !step || !JOURNEY_STEPS.includes(step)) return undefined;
  let journeyKey: string;
  if (journey === 'cart-abandonment' || journey === 'product-view') journeyKey = journey;
  else if (journey === 'audience-email' && outcome.segmentId) journeyKey = `${AUDIENCE_JOURNEY_PREFIX}${outcome.segmentId}`;
  else return undefined;
  return {
    journeyKey,
    day: dayOf(outcome.occurredAt),
    counter: `${prefix}:${step}`,
    sesMessageId: outcome.sesMessageId,
    kind: outcome.kind,
    ...(journey === 'audience-email' && outcome.segmentId && { segmentId: outcome.segmentId }),
  };
}

/**
 * The counter a final SMS receipt of a segment's SMS journey adds to, read like an email's: a
 * delivered text counts as `delivered:<step>`, a failed one as `bounced:<step>` (the number could
 * not be reached), on the `audience-sms:<segmentId>` line and the segment's `sms` row; undefined
 * for a text no segment journey sent.
 */
export function smsReceiptCount(receipt: SmsReceipt): FeedbackCount | undefined {
  const { journey, step, segment } = receipt.properties;
  if (journey !== 'audience-sms' || typeof segment !== 'string' || typeof step !== 'string' || !JOURNEY_STEPS.includes(step)) return undefined;
  const kind = receipt.outcome === 'delivered' ? 'delivery' : 'bounce';
  return {
    journeyKey: `${AUDIENCE_SMS_JOURNEY_PREFIX}${segment}`,
    day: dayOf(receipt.occurredAt),
    counter: `${FEEDBACK_COUNTERS[kind]}:${step}`,
    sesMessageId: receipt.smsMessageId,
    kind,
    segmentId: segment,
    channel: 'sms',
  };
}

/**
 * The segment report's email (or SMS) touch of an audience journey's first step: the person
 * reached (sent) or held out; undefined for any other step or outcome (skipped for want of consent is no reach).
 */
export function audienceEmailTouch(run: JourneyRun, step: JourneyStep, outcome: RecordedOutcome, at: string): Touch | undefined {
  if ((run.journey !== 'audience-email' && run.journey !== 'audience-sms') || step !== 'audience') return undefined;
  const group: Group | undefined =
    outcome.outcome === 'sent' ? 'treatment' : outcome.outcome === 'skipped' && outcome.reason === 'holdout' ? 'holdout' : undefined;
  const channel = run.journey === 'audience-sms' ? 'sms' : 'email';
  return group && { profileId: run.profileId, segmentId: run.segmentId, channel, group, at, touchKey: run.runId };
}
