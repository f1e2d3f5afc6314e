import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { AudienceTransition } from '../pipeline/messages';
import type { ProfileScores } from '../scoring/profile-scores';
import { sendHourOf } from '../scoring/profile-scores';
import { newestIdentity } from '../profile/profile';
import type { EventFilter } from './delivery';
import { crmIdOf, type ProfileSnapshot } from './profile-payload';

/**
 * A call-center destination hands the people entering a segment to a dialer (a call-center tool):
 * whom to call (E.164 phone, name, CRM id), why (the segment's `reason`, and a score with its
 * explanation) and when it is decent to (locale, time zone). It is delivered like a webhook (same
 * retries, Standard Webhooks signing, delivery log; deliver-transition.ts), always consent-gated.
 */

/** The purpose a call-center destination serves unless it names another: calling the person with an offer. */
export const CALL_CENTER_DEFAULT_PURPOSE = 'phone_marketing';

/** A dialer calls people who entered; exits (to drop them from the call list) only when asked for. */
export const CALL_CENTER_DEFAULT_EVENTS: readonly AudienceTransition['event'][] = ['Audience Entered'];

/** What the agent reads on screen: one line. */
export const CALL_CENTER_REASON_MAX_LENGTH = 200;

/** A segment's call-center destination as stored (functions/ports/segment-store.ts). */
export interface CallCenterDestination extends EventFilter {
  readonly type: 'call_center';
  readonly url: string;
  readonly secretRef?: string;
  /** Why the person is called, as the agent reads it. */
  readonly reason: string;
  /** The score shown with its explanation: a predictive score (`churn`) or a state score (`lifecycle`). */
  readonly score?: string;
  /** Default CALL_CENTER_DEFAULT_PURPOSE: a call-center destination is always consent-gated. */
  readonly purpose?: string;
  /** Default true: the global control group is never called. */
  readonly marketing?: boolean;
  readonly holdout?: number;
}

/** A call-center destination as delivered: its defaults applied. */
export interface CallCenterTarget extends CallCenterDestination {
  readonly events: readonly AudienceTransition['event'][];
  readonly purpose: string;
  readonly marketing: boolean;
}

export function callCenterTarget(destination: CallCenterDestination): CallCenterTarget {
  return {
    ...destination,
    events: destination.events ?? CALL_CENTER_DEFAULT_EVENTS,
    purpose: destination.purpose ?? CALL_CENTER_DEFAULT_PURPOSE,
    marketing: destination.marketing ?? true,
  };
}

/**
 * The traits a call needs, read from the live profile at delivery time. They only ever reach a
 * call-center contact (never a webhook's `data.profile`, never a log).
 */
export interface ContactTraits {
  readonly phone?: string;
  readonly firstName?: string;
  readonly lastName?: string;
  /** A BCP 47 tag (`fr-FR`), from a `locale` trait. */
  readonly locale?: string;
  /** An IANA zone, from the `timezone` trait. */
  readonly timeZone?: string;
  /** ISO 3166-1 alpha-2, from the `country` trait: the region a national phone number is read in. */
  readonly country?: string;
}

type TraitMap = Readonly<Record<string, { readonly value: unknown } | undefined>>;

const textOf = (traits: TraitMap, name: string): string | undefined => {
  const value = traits[name]?.value;
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : typeof value === 'number' ? String(value) : undefined;
};

function canonicalLocale(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    return Intl.getCanonicalLocales(raw.replace('_', '-'))[0];
  } catch {
    return undefined;
  }
}

/** The contact traits of a profile's traits (`firstName`, `lastName`, `phone`, `locale`, `timezone`, `country`). */
export function contactOf(traits: TraitMap): ContactTraits {
  const phone = textOf(traits, 'phone');
  const firstName = textOf(traits, 'firstName');
  const lastName = textOf(traits, 'lastName');
  const locale = canonicalLocale(textOf(traits, 'locale'));
  const timeZone = textOf(traits, 'timezone');
  const country = textOf(traits, 'country');
  return {
    ...(phone !== undefined && { phone }),
    ...(firstName !== undefined && { firstName }),
    ...(lastName !== undefined && { lastName }),
    ...(locale !== undefined && { locale }),
    ...(timeZone !== undefined && { timeZone }),
    ...(country !== undefined && { country }),
  };
}

/**
 * A number a dialer can call, in E.164: the `phone` trait, else the newest `phone` identifier,
 * read with libphonenumber-js (a national number in the region of the `country` trait); undefined
 * when neither is a valid number.
 */
export function callablePhone(snapshot: Pick<ProfileSnapshot, 'identities' | 'contact'>): string | undefined {
  const region = snapshot.contact?.country?.toUpperCase();
  const candidates = [snapshot.contact?.phone, newestIdentity(snapshot.identities, 'phone')];
  for (const raw of candidates) {
    if (raw === undefined) continue;
    const parsed = parsePhoneNumberFromString(raw, region !== undefined && /^[A-Z]{2}$/.test(region) ? (region as CountryCode) : undefined);
    if (parsed?.isValid()) return parsed.number;
  }
  return undefined;
}

/** The score shown to the agent: a predictive score with what raised it, or a state score's value. */
export type CallCenterScore =
  | { readonly name: string; readonly probability: number; readonly band: string; readonly explanation: readonly string[] }
  | { readonly name: string; readonly value: string | number };

/** Contributions shown as the explanation, most influential first. */
const EXPLANATION_SIZE = 3;

/** The destination's score on the profile; null when the profile has none by that name (yet). */
export function callCenterScore(name: string, scores: ProfileScores): CallCenterScore | null {
  const value = scores[name];
  if (value === undefined) return null;
  if (typeof value !== 'object') return { name, value };
  if (!('probability' in value)) return null;
  const explanation = [...value.contributions]
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
    .slice(0, EXPLANATION_SIZE)
    .map((contribution) => contribution.label);
  return { name, probability: value.probability, band: value.band, explanation };
}

/** What a dialer receives for a person to call: Standard Webhooks' `{type, timestamp, data}` envelope. */
export interface CallCenterContactPayload {
  readonly type: 'call_center.contact';
  /** When the person entered the segment. */
  readonly timestamp: string;
  readonly data: {
    readonly transitionId: string;
    readonly segmentId: string;
    readonly segmentName: string;
    readonly profileId: string;
    /** The CRM's id of the person (crm_id, else user_id), null when neither is known. */
    readonly crmId: string | null;
    /** E.164. */
    readonly phone: string;
    /** Null when neither a first nor a last name is known. */
    readonly name: { readonly first: string | null; readonly last: string | null } | null;
    readonly reason: string;
    /** Only when the destination names a score: null when the profile has none by that name. */
    readonly score?: CallCenterScore | null;
    /** So the agent speaks the person's language and calls at a decent local hour; absent when unknown. */
    readonly locale?: string;
    readonly timeZone?: string;
  };
}

/** Why no contact was built: nothing about an erased person, nobody without a callable phone. */
export type NoContact = 'erased' | 'no-phone';

/**
 * The contact a call-center destination receives for an entry, from the live profile; a reason
 * instead when there is nobody to call. Only what the agent needs: no consent, no other traits.
 */
export function callCenterContact(
  transition: AudienceTransition,
  destination: Pick<CallCenterDestination, 'reason' | 'score'>,
  snapshot: ProfileSnapshot | undefined,
): CallCenterContactPayload | NoContact {
  if (snapshot === undefined) return 'erased';
  const phone = callablePhone(snapshot);
  if (phone === undefined) return 'no-phone';
  const contact = snapshot.contact ?? {};
  // Else the zone the send hour was computed in, read from the person's events; its `UTC` is
  // also what it falls back to when they said nothing, so it tells the agent nothing.
  const scoredZone = sendHourOf(snapshot.scores)?.timeZone;
  const timeZone = contact.timeZone ?? (scoredZone !== 'UTC' ? scoredZone : undefined);
  return {
    type: 'call_center.contact',
    timestamp: transition.at,
    data: {
      transitionId: transition.transitionId,
      segmentId: transition.segmentId,
      segmentName: transition.segmentName,
      profileId: transition.profileId,
      crmId: crmIdOf(snapshot.identities),
      phone,
      name: contact.firstName === undefined && contact.lastName === undefined ? null : { first: contact.firstName ?? null, last: contact.lastName ?? null },
      reason: destination.reason,
      ...(destination.score !== undefined && { score: callCenterScore(destination.score, snapshot.scores) }),
      ...(contact.locale !== undefined && { locale: contact.locale }),
      ...(timeZone !== undefined && { timeZone }),
    },
  };
}
