/**
 * The emails sent to a person and what became of each, from the profile's events: the platform
 * records every SES outcome as an event (`Email Delivered`, `Email Opened`, `Email Link Clicked`,
 * `Email Bounced`, `Email Complained`...) carrying the email's id, journey and step. Pure.
 */

export interface EmailEvent {
  readonly event?: string;
  readonly timestamp?: string;
  readonly properties?: Readonly<Record<string, unknown>>;
}

export interface EmailOutcome {
  readonly emailId: string;
  readonly journey?: string;
  readonly step?: string;
  /** The first event of the email (its delivery, usually). */
  readonly firstAt?: string;
  /** Every outcome seen, in the order of the funnel. */
  readonly outcomes: readonly string[];
  /** The furthest outcome: unsubscribed > complained > bounced > rejected > clicked > opened > delivered > sent. */
  readonly result: string;
}

/** In the order of the funnel, problems last: the last one an email reached is its result. */
const FUNNEL = ['sent', 'delivered', 'opened', 'clicked', 'rejected', 'bounced', 'complained', 'unsubscribed'] as const;

/** "Email Link Clicked" → "clicked"; undefined for events that are no email outcome. */
export function emailOutcomeOf(eventName: string | undefined): string | undefined {
  if (!eventName?.startsWith('Email ')) return undefined;
  const words = eventName.slice('Email '.length).toLowerCase();
  if (words.includes('click')) return 'clicked';
  if (words.includes('open')) return 'opened';
  if (words.includes('deliver')) return 'delivered';
  if (words.includes('bounce')) return 'bounced';
  if (words.includes('complain') || words.includes('spam')) return 'complained';
  if (words.includes('reject')) return 'rejected';
  if (words.includes('unsubscrib')) return 'unsubscribed';
  if (words.includes('sent') || words.includes('send')) return 'sent';
  return words;
}

const rank = (outcome: string): number => {
  const index = (FUNNEL as readonly string[]).indexOf(outcome);
  return index === -1 ? 0 : index;
};

/** One line per email (newest first), from events in any order. */
export function emailOutcomes(events: readonly EmailEvent[]): EmailOutcome[] {
  const emails = new Map<string, { journey?: string; step?: string; firstAt?: string; outcomes: Set<string> }>();
  for (const event of events) {
    const outcome = emailOutcomeOf(event.event);
    const emailId = event.properties?.email_id;
    if (!outcome || typeof emailId !== 'string') continue;
    const entry = emails.get(emailId) ?? { outcomes: new Set<string>() };
    entry.outcomes.add(outcome);
    if (typeof event.properties?.journey === 'string') entry.journey = event.properties.journey;
    if (typeof event.properties?.step === 'string') entry.step = event.properties.step;
    if (event.timestamp && (!entry.firstAt || event.timestamp < entry.firstAt)) entry.firstAt = event.timestamp;
    emails.set(emailId, entry);
  }
  return [...emails]
    .map(([emailId, entry]) => {
      const outcomes = [...entry.outcomes].sort((a, b) => rank(a) - rank(b));
      return {
        emailId,
        ...(entry.journey !== undefined && { journey: entry.journey }),
        ...(entry.step !== undefined && { step: entry.step }),
        ...(entry.firstAt !== undefined && { firstAt: entry.firstAt }),
        outcomes,
        result: outcomes[outcomes.length - 1] ?? 'sent',
      };
    })
    .sort((a, b) => (b.firstAt ?? '').localeCompare(a.firstAt ?? ''));
}
