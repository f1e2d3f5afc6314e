import type { AcceptedMessage } from '../tracking/accepted-message';
import { asObject } from '../tracking/json';

/** One consent decision with the event time it was expressed at (newest wins). */
export interface ConsentDecision {
  readonly granted: boolean;
  readonly at: string;
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

const newer = (a: ConsentDecision | undefined, b: ConsentDecision): ConsentDecision => (!a || b.at >= a.at ? b : a);

export function mergeConsent(a: ConsentState, b: ConsentState): ConsentState {
  const categories: Record<string, ConsentDecision> = { ...a.categories };
  for (const [name, decision] of Object.entries(b.categories)) categories[name] = newer(categories[name], decision);
  const unsubscribed = b.unsubscribed ? newer(a.unsubscribed, b.unsubscribed) : a.unsubscribed;
  return { categories, ...(unsubscribed && { unsubscribed }) };
}


/** Consent expressed by one message (its normalized `unsubscribed` trait included). */
export function consentOf(message: AcceptedMessage, unsubscribedTrait: unknown): ConsentState {
  const at = message.timestamp;
  const preferences = asObject(asObject(message.context.consent).categoryPreferences);
  const categories: Record<string, ConsentDecision> = {};
  for (const [name, granted] of Object.entries(preferences)) {
    if (typeof granted === 'boolean') categories[name] = { granted, at };
  }
  return {
    categories,
    ...(typeof unsubscribedTrait === 'boolean' && { unsubscribed: { granted: unsubscribedTrait, at } }),
  };
}

/** Whether marketing messages may be sent: a marketing category granted and no newer unsubscribe. */
export function hasMarketingConsent(consent: ConsentState): boolean {
  const grants = Object.entries(consent.categories).filter(([name]) => MARKETING_CATEGORIES.includes(name.toLowerCase()));
  const latestGrant = grants.map(([, d]) => d).sort((x, y) => (x.at < y.at ? 1 : -1))[0];
  if (!latestGrant?.granted) return false;
  return !(consent.unsubscribed?.granted && consent.unsubscribed.at >= latestGrant.at);
}
