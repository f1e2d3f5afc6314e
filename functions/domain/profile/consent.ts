import type { AcceptedMessage } from '../tracking/accepted-message';
import { asObject } from '../tracking/json';
import { precedenceTime } from '../tracking/timestamps';
import { PROFILE_LIMITS, quarantinePreview, reservedName, type RejectedValue } from './limits';

/** One consent decision with the event time it was expressed at (newest wins). */
export interface ConsentDecision {
  readonly granted: boolean;
  /** Event time of the message (bounded: see functions/domain/tracking/timestamps.ts). */
  readonly at: string;
  /** When the platform received the message; absent on decisions stored before it was kept. */
  readonly receivedAt?: string;
  /** Where it came from: `tracking`, `email` (the unsubscribe link), `import:<source>`; absent on older decisions. */
  readonly source?: string;
}

/** One change of a category's decision (or of `unsubscribed`), kept for the consent history. */
export interface ConsentChange extends ConsentDecision {
  /** The category as sent, or `unsubscribed`. */
  readonly category: string;
}

/** Changes kept per profile, newest last: enough to show how a person's choices evolved. */
export const MAX_CONSENT_HISTORY = 50;

/**
 * Consent per Segment's consent spec (`context.consent.categoryPreferences`) plus the
 * `unsubscribed` trait. Marketing email needs an explicit grant of a marketing category and no
 * unsubscribe newer than it.
 */
export interface ConsentState {
  readonly categories: Readonly<Record<string, ConsentDecision>>;
  readonly unsubscribed?: ConsentDecision;
  /** Each time a category's decision was first made or reversed, oldest first (MAX_CONSENT_HISTORY newest). */
  readonly history?: readonly ConsentChange[];
}

export const EMPTY_CONSENT: ConsentState = { categories: {} };

/**
 * Orders two decisions by time: the precedence time first (the event time, never later than the
 * receipt, so a message dated in the future cannot outrank one received after it), then the event
 * time. Negative when `a` is older than `b`, 0 when they are as new.
 */
export function compareDecisionTimes(a: ConsentDecision, b: ConsentDecision): number {
  const timeA = precedenceTime(a.at, a.receivedAt);
  const timeB = precedenceTime(b.at, b.receivedAt);
  if (timeA !== timeB) return timeA < timeB ? -1 : 1;
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return 0;
}

/** The newer decision; on a tie the safer one (`safe`: the value that sends less), so any order gives the same state. */
function newer(a: ConsentDecision | undefined, b: ConsentDecision, safe: boolean): ConsentDecision {
  if (!a) return b;
  const order = compareDecisionTimes(b, a);
  if (order !== 0) return order > 0 ? b : a;
  if (a.granted !== b.granted) return b.granted === safe ? b : a;
  return (b.receivedAt ?? '') > (a.receivedAt ?? '') ? b : a;
}

export function mergeConsent(a: ConsentState, b: ConsentState): ConsentState {
  return mergeConsentWithinLimits(a, b).consent;
}

/**
 * Folds consent `b` into `a` (commutative: the newest decision of each category wins). A category
 * new to the profile beyond PROFILE_LIMITS.maxConsentCategories is returned for the quarantine.
 */
export function mergeConsentWithinLimits(a: ConsentState, b: ConsentState): { consent: ConsentState; rejected: RejectedValue[] } {
  const categories: Record<string, ConsentDecision> = { ...a.categories };
  const rejected: RejectedValue[] = [];
  let count = Object.keys(categories).length;
  for (const name of Object.keys(b.categories).sort()) {
    const decision = b.categories[name] as ConsentDecision;
    if (!categories[name]) {
      if (count >= PROFILE_LIMITS.maxConsentCategories) {
        rejected.push({
          trait: 'consent.categories',
          reason: `profile already keeps ${PROFILE_LIMITS.maxConsentCategories} consent categories`,
          value: quarantinePreview(name, 256),
        });
        continue;
      }
      count += 1;
    }
    categories[name] = newer(categories[name], decision, false);
  }
  const unsubscribed = b.unsubscribed ? newer(a.unsubscribed, b.unsubscribed, true) : a.unsubscribed;
  const history = mergeHistory(a, b, new Set(Object.keys(categories)));
  return { consent: { categories, ...(unsubscribed && { unsubscribed }), ...(history.length > 0 && { history }) }, rejected };
}

/** A state's changes: its history, or for a message's own consent, its decisions. */
const changesOf = (consent: ConsentState): ConsentChange[] =>
  consent.history
    ? [...consent.history]
    : [
        ...Object.entries(consent.categories).map(([category, decision]) => ({ category, ...decision })),
        ...(consent.unsubscribed ? [{ category: 'unsubscribed', ...consent.unsubscribed }] : []),
      ];

/**
 * Both histories in time order, each category's repeats of an unchanged decision left out (a
 * banner sending the same preferences on every page is one change), the newest kept. The same
 * changes in any order give the same history, as profile merges need.
 */
function mergeHistory(a: ConsentState, b: ConsentState, keptCategories: ReadonlySet<string>): ConsentChange[] {
  const all = [...changesOf(a), ...changesOf(b)]
    .filter((change) => change.category === 'unsubscribed' || keptCategories.has(change.category))
    .sort((x, y) => compareDecisionTimes(x, y) || (x.category < y.category ? -1 : x.category > y.category ? 1 : Number(x.granted) - Number(y.granted)));
  const last = new Map<string, boolean>();
  const changes: ConsentChange[] = [];
  for (const change of all) {
    if (last.get(change.category) === change.granted) continue;
    last.set(change.category, change.granted);
    changes.push(change);
  }
  return changes.slice(-MAX_CONSENT_HISTORY);
}

/** Where a message's consent came from: an import names its source, the unsubscribe link its email channel, a STOP reply the sms one. */
function consentSource(message: AcceptedMessage): string {
  const origin = asObject(asObject(message.context.dmp).origin);
  if (typeof origin.source === 'string') return `import:${origin.source}`;
  const channel = message.context.channel;
  return channel === 'email' || channel === 'sms' ? channel : 'tracking';
}

/** Consent expressed by one message (its normalized `unsubscribed` trait included). */
export function consentOf(message: AcceptedMessage, unsubscribedTrait: unknown): ConsentState {
  return consentOfMessage(message, unsubscribedTrait).consent;
}

/** Consent expressed by one message, and the category names that cannot be kept (for the quarantine). */
export function consentOfMessage(message: AcceptedMessage, unsubscribedTrait: unknown): { consent: ConsentState; rejected: RejectedValue[] } {
  const stamp = { at: message.timestamp, ...(message.receivedAt && { receivedAt: message.receivedAt }), source: consentSource(message) };
  const preferences = asObject(asObject(message.context.consent).categoryPreferences);
  const categories: Record<string, ConsentDecision> = {};
  const rejected: RejectedValue[] = [];
  for (const [name, granted] of Object.entries(preferences)) {
    if (typeof granted !== 'boolean') continue;
    if (name.trim() === '' || name.length > PROFILE_LIMITS.maxConsentCategoryLength || reservedName(name)) {
      rejected.push({
        trait: 'consent.categories',
        reason: `consent category name empty, reserved or longer than ${PROFILE_LIMITS.maxConsentCategoryLength} characters`,
        value: quarantinePreview(name, 256),
      });
      continue;
    }
    categories[name] = { granted, ...stamp };
  }
  return {
    consent: {
      categories,
      ...(typeof unsubscribedTrait === 'boolean' && { unsubscribed: { granted: unsubscribedTrait, ...stamp } }),
    },
    rejected,
  };
}
