import { applyMessage, mergeIdentityLinks, newProfile, type IdentityLink, type ProfileRecord } from '../profile/profile';
import { normalizeTraits } from '../profile/traits';
import type { AcceptedMessage } from '../tracking/accepted-message';
import { extractIdentifiers, identifierKey, type Identifier } from './identifiers';
import type { IdentityConfig } from './identity-config';
import { provenanceOf } from './provenance';
import { asObject } from '../tracking/json';

/** The two profiles an un-merge produces, each rebuilt from its own events. */
export interface UnmergePlan {
  /** The original profile (same id), rebuilt without the split-off identities and their events. */
  readonly kept: ProfileRecord;
  readonly keptMessages: readonly AcceptedMessage[];
  /** A new profile holding the split-off identities and the events they brought. */
  readonly split: ProfileRecord;
  readonly splitMessages: readonly AcceptedMessage[];
}

function rebuild(
  profileId: string,
  createdAt: string,
  messages: readonly AcceptedMessage[],
  config: IdentityConfig,
  only: (id: Identifier) => boolean,
  now: Date,
): ProfileRecord {
  let profile: ProfileRecord = { ...newProfile(profileId, now), createdAt };
  for (const message of [...messages].sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1))) {
    const links: IdentityLink[] = extractIdentifiers(config, message)
      .filter(only)
      .map((id) => ({ ...id, firstSeen: message.timestamp, lastSeen: message.timestamp }));
    const traits = { ...asObject(message.context.traits), ...(message.type === 'identify' ? message.traits : {}) };
    const { accepted } = normalizeTraits(traits, { defaultPhoneRegion: config.defaultPhoneRegion });
    profile = applyMessage({ ...profile, identities: mergeIdentityLinks(profile.identities, links) }, message, accepted, provenanceOf(message), now);
  }
  return profile;
}

/**
 * Splits identities off a profile that should never have merged. An event goes with the split-off
 * profile when its most trusted identifier is one of the split identities; both profiles are then
 * rebuilt from their events (traits, activity, consent and identities), so nothing of the other
 * person remains on either. Identities seen only on split-off events follow them.
 */
export function planUnmerge(
  profile: ProfileRecord,
  messages: readonly AcceptedMessage[],
  splitOff: readonly Identifier[],
  splitProfileId: string,
  config: IdentityConfig,
  now: Date,
): UnmergePlan {
  const splitKeys = new Set(splitOff.map(identifierKey));
  const keptMessages: AcceptedMessage[] = [];
  const splitMessages: AcceptedMessage[] = [];
  for (const message of messages) {
    const top = extractIdentifiers(config, message)[0];
    (top && splitKeys.has(identifierKey(top)) ? splitMessages : keptMessages).push(message);
  }
  const keptIdentifierKeys = new Set(
    keptMessages
      .flatMap((m) => extractIdentifiers(config, m))
      .map(identifierKey)
      .filter((key) => !splitKeys.has(key)),
  );
  const kept = rebuild(profile.profileId, profile.createdAt, keptMessages, config, (id) => keptIdentifierKeys.has(identifierKey(id)), now);
  const split = rebuild(splitProfileId, now.toISOString(), splitMessages, config, (id) => !keptIdentifierKeys.has(identifierKey(id)), now);
  // Both keep the original's dedupe window: a redelivered message finds it whichever side it resolves to.
  const window = profile.recentMessages && { recentMessages: profile.recentMessages };
  return {
    kept: { ...kept, version: profile.version + 1, mergedFrom: profile.mergedFrom, ...window },
    keptMessages,
    split: { ...split, version: 1, ...window },
    splitMessages,
  };
}
