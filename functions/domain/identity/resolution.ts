import type { IdentityLink, ProfileRecord } from '../profile/profile';
import { identifierKey, type Identifier } from './identifiers';
import { identifierLimit, type IdentityConfig } from './identity-config';
import { PROFILE_LIMITS } from '../profile/limits';

/** What the identity graph says about one identifier of a message. */
export interface StoredLink {
  /** The live profile the identifier belongs to (tombstones already followed). */
  readonly profileId: string;
  readonly lastSeen: string;
}

/** Why a link or merge was refused; recorded in the merge log. */
export interface IdentityConflict {
  readonly identifier: Identifier;
  /** The profile that holds the identifier, when it is held. */
  readonly heldBy?: string;
  readonly rule: string;
}

/**
 * The decision for one message: which profile the message belongs to, which profiles merge into
 * it, which identifiers it gains and which links were refused.
 */
export interface ResolutionPlan {
  /** Existing profile that survives, or undefined when the message starts a new profile. */
  readonly survivorId?: string;
  /** Profiles merged into the survivor, with the identifier that linked each. */
  readonly absorbed: ReadonlyArray<{ readonly profileId: string; readonly via: Identifier }>;
  /** Identifiers of the message not yet held by any profile of the group, to link to it. */
  readonly newLinks: readonly Identifier[];
  readonly conflicts: readonly IdentityConflict[];
}

function strictCounts(config: IdentityConfig, identities: Iterable<Identifier>): Map<string, Set<string>> {
  const counts = new Map<string, Set<string>>();
  for (const { type, value } of identities) {
    if (!config.strictTypes.includes(type)) continue;
    const values = counts.get(type) ?? new Set<string>();
    values.add(value);
    counts.set(type, values);
  }
  return counts;
}

/** Whether adding `incoming` identities to a group keeps every strict limit. */
function fitsStrictLimits(config: IdentityConfig, group: readonly Identifier[], incoming: readonly Identifier[]): boolean {
  for (const [type, values] of strictCounts(config, [...group, ...incoming])) {
    if (values.size > identifierLimit(config, type)) return false;
  }
  return true;
}

/**
 * Plans identity resolution for one message. Identifiers are taken most trusted first: the first
 * decides whose message it is (its profile, or a new one); each next identifier either already
 * belongs to the group, links a profile that merges into it, or is new and joins it, unless that
 * would break a strict limit (two user ids: the shared family computer), in which case the
 * profiles stay apart and the conflict is recorded.
 */
export function planResolution(
  config: IdentityConfig,
  identifiers: readonly Identifier[],
  links: ReadonlyMap<string, StoredLink>,
  profiles: ReadonlyMap<string, ProfileRecord>,
): ResolutionPlan {
  const members: string[] = [];
  const groupIdentities: Identifier[] = [];
  const absorbed: Array<{ profileId: string; via: Identifier }> = [];
  const newLinks: Identifier[] = [];
  const conflicts: IdentityConflict[] = [];
  const identitiesOf = (profileId: string): readonly IdentityLink[] => profiles.get(profileId)?.identities ?? [];

  identifiers.forEach((identifier, index) => {
    const holder = links.get(identifierKey(identifier))?.profileId;
    if (index === 0) {
      if (holder) {
        members.push(holder);
        groupIdentities.push(...identitiesOf(holder));
      } else {
        newLinks.push(identifier);
        groupIdentities.push(identifier);
      }
      return;
    }
    if (holder && members.includes(holder)) return;
    if (holder) {
      if (fitsStrictLimits(config, groupIdentities, identitiesOf(holder))) {
        members.push(holder);
        absorbed.push({ profileId: holder, via: identifier });
        groupIdentities.push(...identitiesOf(holder));
      } else {
        conflicts.push({ identifier, heldBy: holder, rule: 'merge would exceed a strict identifier limit' });
      }
      return;
    }
    if (groupIdentities.some((held) => identifierKey(held) === identifierKey(identifier))) return;
    if (fitsStrictLimits(config, groupIdentities, [identifier])) {
      newLinks.push(identifier);
      groupIdentities.push(identifier);
    } else {
      conflicts.push({ identifier, rule: `profile already holds the maximum of ${identifier.type}` });
    }
  });

  const survivorId = chooseSurvivor(config, members, profiles);
  return {
    ...(survivorId && { survivorId }),
    absorbed: survivorId
      ? [
          ...absorbed.filter((entry) => entry.profileId !== survivorId),
          // The anchor profile is absorbed too when another member was chosen to survive.
          ...(members[0] && members[0] !== survivorId ? [{ profileId: members[0], via: identifiers[0] as Identifier }] : []),
        ]
      : [],
    newLinks,
    conflicts,
  };
}

/**
 * The surviving profile id must be stable: the member holding a user id, else the oldest one.
 * Known customers keep their id however many anonymous profiles fold into them.
 */
function chooseSurvivor(config: IdentityConfig, members: readonly string[], profiles: ReadonlyMap<string, ProfileRecord>): string | undefined {
  const ranked = members
    .map((id) => profiles.get(id))
    .filter((p): p is ProfileRecord => p !== undefined)
    .sort((a, b) => {
      const aKnown = a.identities.some((l) => l.type === config.priority[0]) ? 0 : 1;
      const bKnown = b.identities.some((l) => l.type === config.priority[0]) ? 0 : 1;
      if (aKnown !== bKnown) return aKnown - bKnown;
      if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
      return a.profileId < b.profileId ? -1 : 1;
    });
  return ranked[0]?.profileId;
}

const leastRecentlySeenFirst = (a: IdentityLink, b: IdentityLink): number =>
  a.lastSeen !== b.lastSeen ? (a.lastSeen < b.lastSeen ? -1 : 1) : identifierKey(a) < identifierKey(b) ? -1 : 1;

/**
 * Identifiers beyond the limit of a lenient type (anonymous, device and external ids): the least
 * recently seen are released so the newest keep linking; then, while the profile holds more than
 * PROFILE_LIMITS.maxIdentitiesPerProfile in all (many external id types), the least recently seen
 * lenient ones of any type. Identifiers carried by the current message stay.
 */
export function identitiesOverLimit(config: IdentityConfig, identities: readonly IdentityLink[], keep: readonly Identifier[]): IdentityLink[] {
  const keepKeys = new Set(keep.map(identifierKey));
  const released: IdentityLink[] = [];
  const types = new Set(identities.map((l) => l.type));
  for (const type of types) {
    if (config.strictTypes.includes(type)) continue;
    const ofType = identities.filter((l) => l.type === type).sort(leastRecentlySeenFirst);
    let excess = ofType.length - identifierLimit(config, type);
    for (const link of ofType) {
      if (excess <= 0) break;
      if (keepKeys.has(identifierKey(link))) continue;
      released.push(link);
      excess -= 1;
    }
  }
  const releasedKeys = new Set(released.map(identifierKey));
  let excess = identities.length - released.length - PROFILE_LIMITS.maxIdentitiesPerProfile;
  if (excess > 0) {
    const lenient = identities
      .filter((l) => !config.strictTypes.includes(l.type) && !releasedKeys.has(identifierKey(l)) && !keepKeys.has(identifierKey(l)))
      .sort(leastRecentlySeenFirst);
    for (const link of lenient) {
      if (excess <= 0) break;
      released.push(link);
      excess -= 1;
    }
  }
  return released;
}
