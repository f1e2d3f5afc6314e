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
}

/**
 * Consent per Segment's consent spec (`context.consent.categoryPreferences`) plus the
 * `unsubscribed` trait. Marketing email needs an explicit grant of a marketing category and no
 * unsubscribe newer than it.
 */
export interface ConsentState {
  readonly categories: Readonly<Record<string, ConsentDecision>>;
  readonly unsubscribed?: ConsentDecision;
}

export const EMPTY_CONSENT: ConsentState = { categories: {} };

/** Categories that mean "may receive marketing", compared lower-cased. */
export const MARKETING_CATEGORIES = ['marketing', 'email_marketing', 'email', 'advertising', 'personalization'];

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
  return { consent: { categories, ...(unsubscribed && { unsubscribed }) }, rejected };
}

/** Consent expressed by one message (its normalized `unsubscribed` trait included). */
export function consentOf(message: AcceptedMessage, unsubscribedTrait: unknown): ConsentState {
  return consentOfMessage(message, unsubscribedTrait).consent;
}

/** Consent expressed by one message, and the category names that cannot be kept (for the quarantine). */
export function consentOfMessage(message: AcceptedMessage, unsubscribedTrait: unknown): { consent: ConsentState; rejected: RejectedValue[] } {
  const stamp = { at: message.timestamp, ...(message.receivedAt && { receivedAt: message.receivedAt }) };
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

/** Whether marketing messages may be sent: a marketing category granted and no newer (or as new) unsubscribe. */
export function hasMarketingConsent(consent: ConsentState): boolean {
  const grants = Object.entries(consent.categories).filter(([name]) => MARKETING_CATEGORIES.includes(name.toLowerCase()));
  const latest = grants.map(([, d]) => d).reduce<ConsentDecision | undefined>((found, d) => newer(found, d, false), undefined);
  if (!latest?.granted) return false;
  return !(consent.unsubscribed?.granted && compareDecisionTimes(consent.unsubscribed, latest) >= 0);
}
