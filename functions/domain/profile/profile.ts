import type { Identifier } from '../identity/identifiers';
import type { AcceptedMessage } from '../tracking/accepted-message';
import { precedenceTime } from '../tracking/timestamps';
import { unionWindows, type DedupeWindow } from './dedupe-window';
import { EMPTY_ACTIVITY, activityOfMessage, mergeActivity, type Activity } from './activity';
import { EMPTY_CONSENT, consentOfMessage, mergeConsentWithinLimits, type ConsentState } from './consent';
import { PROFILE_LIMITS, type RejectedValue } from './limits';
import { mergeTraitMapsWithinLimits, type Party, type TraitValue } from './traits';

/** An identifier held by a profile, with when it was first and last seen (event time). */
export interface IdentityLink extends Identifier {
  readonly firstSeen: string;
  readonly lastSeen: string;
}

/** The most recently seen value of an identifier type among a profile's identities. */
export function newestIdentity(identities: ReadonlyArray<Identifier & { readonly lastSeen: string }>, type: string): string | undefined {
  let newest: (Identifier & { readonly lastSeen: string }) | undefined;
  for (const identity of identities) if (identity.type === type && (newest === undefined || identity.lastSeen > newest.lastSeen)) newest = identity;
  return newest?.value;
}

/** Where a message came from: tracking SDKs are first party; imports say their source and party. */
export interface Provenance {
  readonly source: string;
  readonly party: Party;
}

/**
 * The unified profile as stored. `version` guards every write (optimistic locking). A profile
 * merged into another becomes a tombstone with `mergedInto`; the survivor lists it in
 * `mergedFrom`, whose event partitions stay where they are and are read together. `mergedFrom`
 * keeps the newest PROFILE_LIMITS.maxInlineMergedFrom ids; past that `mergedFromCount` counts
 * them all, and the store keeps one pointer item per merge so that erasure still reaches every one.
 */
export interface ProfileRecord {
  readonly profileId: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly identities: readonly IdentityLink[];
  readonly traits: Readonly<Record<string, TraitValue>>;
  readonly activity: Activity;
  readonly consent: ConsentState;
  readonly mergedFrom: readonly string[];
  /** How many profiles were merged in, when more than `mergedFrom` lists. */
  readonly mergedFromCount?: number;
  readonly mergedInto?: string;
  /** Message ids this profile took lately (functions/domain/profile/dedupe-window.ts). */
  readonly recentMessages?: DedupeWindow;
}

export function newProfile(profileId: string, now: Date): ProfileRecord {
  const at = now.toISOString();
  return {
    profileId,
    version: 0,
    createdAt: at,
    updatedAt: at,
    identities: [],
    traits: {},
    activity: EMPTY_ACTIVITY,
    consent: EMPTY_CONSENT,
    mergedFrom: [],
  };
}

/** Folds one message (with its validated traits) into a profile. */
export function applyMessage(
  profile: ProfileRecord,
  message: AcceptedMessage,
  traits: Readonly<Record<string, unknown>>,
  provenance: Provenance,
  now: Date,
): ProfileRecord {
  return applyMessageWithinLimits(profile, message, traits, provenance, now).profile;
}

/** The time that orders identity links (newest contact identifier): the event time, never after the receipt. */
export const linkTimeOf = (message: Pick<AcceptedMessage, 'timestamp' | 'receivedAt'>): string => precedenceTime(message.timestamp, message.receivedAt);

/**
 * Folds one message into a profile within PROFILE_LIMITS, returning what did not fit (traits and
 * consent categories beyond the caps, activity values out of bounds, names the bounded aggregates
 * did not keep) for the quarantine. The profile keeps taking the message's other parts.
 */
export function applyMessageWithinLimits(
  profile: ProfileRecord,
  message: AcceptedMessage,
  traits: Readonly<Record<string, unknown>>,
  provenance: Provenance,
  now: Date,
  options: { readonly countersOnly?: boolean } = {},
): { profile: ProfileRecord; rejected: RejectedValue[] } {
  const stamped: Record<string, TraitValue> = {};
  const source = provenance.source.slice(0, PROFILE_LIMITS.maxSourceLength);
  for (const [name, value] of Object.entries(traits)) {
    stamped[name] = {
      value,
      at: message.timestamp,
      ...(message.receivedAt && { receivedAt: message.receivedAt }),
      source,
      party: provenance.party,
      messageId: message.messageId,
    };
  }
  const own = activityOfMessage(message);
  if (options.countersOnly) {
    const { totals, daily, eventsTotal } = own.activity;
    const counters: Activity = { ...EMPTY_ACTIVITY, totals, daily, eventsTotal };
    return { profile: { ...profile, updatedAt: now.toISOString(), activity: mergeActivity(profile.activity, counters, now) }, rejected: own.rejected };
  }
  const traitMerge = mergeTraitMapsWithinLimits(profile.traits, stamped);
  const ownConsent = consentOfMessage(message, traits.unsubscribed);
  const consentMerge = mergeConsentWithinLimits(profile.consent, ownConsent.consent);
  const activity = mergeActivity(profile.activity, own.activity, now);
  const dropped: RejectedValue[] = [
    ...Object.keys(own.activity.events)
      .filter((name) => !activity.events[name])
      .map((name) => ({ trait: 'activity.events', reason: `not among the ${PROFILE_LIMITS.maxEventNames} most recent event names kept`, value: name })),
    ...Object.keys(own.activity.categories)
      .filter((name) => activity.categories[name] === undefined)
      .map((name) => ({ trait: 'activity.categories', reason: `not among the ${PROFILE_LIMITS.maxCategories} most frequent categories kept`, value: name })),
    ...Object.keys(own.activity.cart)
      .filter((id) => !activity.cart[id])
      .map((id) => ({ trait: 'activity.cart', reason: `not among the ${PROFILE_LIMITS.maxCartLines} most recent cart lines kept`, value: id })),
  ];
  return {
    profile: { ...profile, updatedAt: now.toISOString(), traits: traitMerge.traits, activity, consent: consentMerge.consent },
    rejected: [...traitMerge.rejected, ...ownConsent.rejected, ...consentMerge.rejected, ...own.rejected, ...dropped],
  };
}

/** Merges identity links: one link per identifier, earliest first-seen and latest last-seen. */
export function mergeIdentityLinks(a: readonly IdentityLink[], b: readonly IdentityLink[]): IdentityLink[] {
  const byKey = new Map<string, IdentityLink>();
  for (const link of [...a, ...b]) {
    const key = `${link.type}:${link.value}`;
    const current = byKey.get(key);
    byKey.set(
      key,
      current
        ? {
            ...current,
            firstSeen: current.firstSeen < link.firstSeen ? current.firstSeen : link.firstSeen,
            lastSeen: current.lastSeen > link.lastSeen ? current.lastSeen : link.lastSeen,
          }
        : link,
    );
  }
  return [...byKey.values()];
}

/** The union of two profiles into `survivor` (traits by precedence, activity and consent folded). */
export function mergeProfiles(survivor: ProfileRecord, absorbed: ProfileRecord, now: Date): ProfileRecord {
  return mergeProfilesWithinLimits(survivor, absorbed, now).profile;
}

/** How many profiles a profile lists as merged into it, counting those compacted out of `mergedFrom`. */
export const mergedCount = (profile: Pick<ProfileRecord, 'mergedFrom' | 'mergedFromCount'>): number =>
  Math.max(profile.mergedFrom.length, profile.mergedFromCount ?? 0);

/**
 * `mergeProfiles` within PROFILE_LIMITS: the absorbed profile's custom traits and consent
 * categories that do not fit beside the survivor's are returned for the quarantine; `mergedFrom`
 * keeps the newest PROFILE_LIMITS.maxInlineMergedFrom ids and counts the rest.
 */
export function mergeProfilesWithinLimits(survivor: ProfileRecord, absorbed: ProfileRecord, now: Date): { profile: ProfileRecord; rejected: RejectedValue[] } {
  const traitMerge = mergeTraitMapsWithinLimits(survivor.traits, absorbed.traits);
  const consentMerge = mergeConsentWithinLimits(survivor.consent, absorbed.consent);
  const allMerged = [...new Set([...survivor.mergedFrom, absorbed.profileId, ...absorbed.mergedFrom])];
  const count = mergedCount(survivor) + 1 + mergedCount(absorbed);
  const mergedFrom = allMerged.slice(-PROFILE_LIMITS.maxInlineMergedFrom);
  const { mergedFromCount: _count, ...rest } = survivor;
  return {
    profile: {
      ...rest,
      createdAt: survivor.createdAt < absorbed.createdAt ? survivor.createdAt : absorbed.createdAt,
      updatedAt: now.toISOString(),
      identities: mergeIdentityLinks(survivor.identities, absorbed.identities),
      traits: traitMerge.traits,
      activity: mergeActivity(survivor.activity, absorbed.activity, now),
      consent: consentMerge.consent,
      mergedFrom,
      ...(count > mergedFrom.length && { mergedFromCount: count }),
      ...((survivor.recentMessages || absorbed.recentMessages) && { recentMessages: unionWindows(survivor.recentMessages, absorbed.recentMessages, now) }),
    },
    rejected: [...traitMerge.rejected, ...consentMerge.rejected],
  };
}
