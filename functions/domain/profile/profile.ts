import type { Identifier } from '../identity/identifiers';
import type { AcceptedMessage } from '../tracking/accepted-message';
import { EMPTY_ACTIVITY, activityOf, mergeActivity, type Activity } from './activity';
import { EMPTY_CONSENT, consentOf, mergeConsent, type ConsentState } from './consent';
import { mergeTraitMaps, type Party, type TraitValue } from './traits';

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
 * `mergedFrom`, whose event partitions stay where they are and are read together.
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
  readonly mergedInto?: string;
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
  const stamped: Record<string, TraitValue> = {};
  for (const [name, value] of Object.entries(traits)) {
    stamped[name] = { value, at: message.timestamp, source: provenance.source, party: provenance.party, messageId: message.messageId };
  }
  return {
    ...profile,
    updatedAt: now.toISOString(),
    traits: mergeTraitMaps(profile.traits, stamped),
    activity: mergeActivity(profile.activity, activityOf(message), now),
    consent: mergeConsent(profile.consent, consentOf(message, traits.unsubscribed)),
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
  return {
    ...survivor,
    createdAt: survivor.createdAt < absorbed.createdAt ? survivor.createdAt : absorbed.createdAt,
    updatedAt: now.toISOString(),
    identities: mergeIdentityLinks(survivor.identities, absorbed.identities),
    traits: mergeTraitMaps(survivor.traits, absorbed.traits),
    activity: mergeActivity(survivor.activity, absorbed.activity, now),
    consent: mergeConsent(survivor.consent, absorbed.consent),
    mergedFrom: [...new Set([...survivor.mergedFrom, absorbed.profileId, ...absorbed.mergedFrom])],
  };
}
