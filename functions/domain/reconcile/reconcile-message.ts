import { extractIdentifiers, identifierKey, type Identifier } from '../identity/identifiers';
import type { IdentityConfig } from '../identity/identity-config';
import { identitiesOverLimit, planResolution } from '../identity/resolution';
import { applyMessage, mergeIdentityLinks, mergeProfiles, newProfile, type IdentityLink } from '../profile/profile';
import { normalizeTraits } from '../profile/traits';
import type { AcceptedMessage } from '../tracking/accepted-message';
import { provenanceOf } from '../identity/provenance';
import { asObject } from '../tracking/json';
import {
  ConcurrentUpdateError,
  DuplicateMessageError,
  SuppressedIdentityError,
  type MergeLogEntry,
  type ProfileStore,
} from '../../ports/profile-store';

export type ReconcileOutcome =
  | {
      readonly status: 'applied';
      readonly profileId: string;
      readonly absorbedProfileIds: readonly string[];
      readonly conflicts: number;
      readonly attempts: number;
    }
  /** Already applied; `profileId` tells where, so downstream notifications can be re-sent safely. */
  | { readonly status: 'duplicate'; readonly profileId?: string }
  | { readonly status: 'suppressed' }
  | { readonly status: 'unattributable'; readonly reason: string };

export interface ReconcileDependencies {
  readonly store: ProfileStore;
  readonly config: IdentityConfig;
  readonly now: () => Date;
  readonly newProfileId: () => string;
  /** Pause before retrying after a concurrent update (jittered by the caller). */
  readonly backoff: (attempt: number) => Promise<void>;
  readonly maxAttempts?: number;
}

/** Updates of an identifier's last-seen time are batched: at most one write a day per identifier. */
const LAST_SEEN_RESOLUTION_MS = 86_400_000;


/** Traits a message sets: identify/group traits, and `context.traits` on any message. */
function incomingTraits(message: AcceptedMessage): Record<string, unknown> {
  return { ...asObject(message.context.traits), ...(message.type === 'identify' ? message.traits : {}) };
}

/**
 * Applies one accepted message to the identity graph and the profile it belongs to, atomically
 * and idempotently (a second delivery of the same messageId changes nothing). A concurrent
 * update of the same profiles makes the commit fail; the whole decision is then taken again
 * from fresh state, so no update is lost.
 */
export async function reconcileMessage(message: AcceptedMessage, deps: ReconcileDependencies): Promise<ReconcileOutcome> {
  const { store, config } = deps;
  const identifiers = extractIdentifiers(config, message);
  if (identifiers.length === 0) return { status: 'unattributable', reason: 'no linkable identifier (all blocked or invalid)' };
  const provenance = provenanceOf(message);
  const { accepted: traits, rejected } = normalizeTraits(incomingTraits(message), { defaultPhoneRegion: config.defaultPhoneRegion });
  const maxAttempts = deps.maxAttempts ?? 8;

  for (let attempt = 1; ; attempt += 1) {
    const now = deps.now();
    const snapshot = await store.loadSnapshot(message.messageId, identifiers, now);
    if (snapshot.alreadyProcessed) return { status: 'duplicate', ...(snapshot.processedBy && { profileId: snapshot.processedBy }) };
    if (snapshot.suppressed.length > 0) return { status: 'suppressed' };

    const plan = planResolution(config, identifiers, snapshot.links, snapshot.profiles);
    const existing = plan.survivorId ? snapshot.profiles.get(plan.survivorId) : undefined;
    let profile = existing ?? newProfile(deps.newProfileId(), now);
    const absorbed = plan.absorbed.map(({ profileId }) => snapshot.profiles.get(profileId)).filter((p) => p !== undefined);
    for (const other of absorbed) profile = mergeProfiles(profile, other, now);

    const at = message.timestamp;
    const linkedKeys = new Set(plan.newLinks.map(identifierKey));
    const touched: IdentityLink[] = [];
    for (const identifier of identifiers) {
      const key = identifierKey(identifier);
      const live = snapshot.links.get(key);
      const onGroup = linkedKeys.has(key) || (live && (live.profileId === profile.profileId || absorbed.some((p) => p.profileId === live.profileId)));
      if (!onGroup) continue;
      const stored = snapshot.storedHolders.get(key);
      const held = profile.identities.find((l) => identifierKey(l) === key);
      const firstSeen = held && held.firstSeen < at ? held.firstSeen : at;
      const lastSeen = held && held.lastSeen > at ? held.lastSeen : at;
      const stale = !stored || stored.profileId !== profile.profileId || Date.parse(lastSeen) - Date.parse(stored.lastSeen) > LAST_SEEN_RESOLUTION_MS;
      const link: IdentityLink = { ...identifier, firstSeen, lastSeen };
      if (stale) touched.push(link);
      profile = { ...profile, identities: mergeIdentityLinks(profile.identities, [link]) };
    }
    const released = identitiesOverLimit(config, profile.identities, identifiers);
    const releasedKeys = new Set(released.map(identifierKey));
    profile = { ...profile, identities: profile.identities.filter((l) => !releasedKeys.has(identifierKey(l))) };
    profile = applyMessage(profile, message, traits, provenance, now);
    profile = { ...profile, version: (existing?.version ?? 0) + 1 };

    const logAt = now.toISOString();
    const mergeLog: MergeLogEntry[] = [
      ...plan.absorbed.map(({ profileId, via }) => ({
        kind: 'merge' as const,
        at: logAt,
        messageId: message.messageId,
        rule: `shared identifier ${via.type}`,
        otherProfileId: profileId,
        identifiers: [via],
      })),
      ...plan.conflicts.map((conflict) => ({
        kind: 'conflict' as const,
        at: logAt,
        messageId: message.messageId,
        rule: conflict.rule,
        ...(conflict.heldBy && { otherProfileId: conflict.heldBy }),
        identifiers: [conflict.identifier],
      })),
      ...(released.length > 0
        ? [{ kind: 'release' as const, at: logAt, messageId: message.messageId, rule: 'identifier limit: least recently seen released', identifiers: released.map(({ type, value }): Identifier => ({ type, value })) }]
        : []),
    ];

    try {
      await store.commit(
        {
          message,
          profile,
          ...(existing && { expectedVersion: existing.version }),
          absorbed: absorbed.map((p) => ({ profile: p })),
          linkWrites: touched.map((link) => {
            const stored = snapshot.storedHolders.get(identifierKey(link));
            return { link, ...(stored && { previousProfileId: stored.profileId }) };
          }),
          linkReleases: released.map((link) => ({ link })),
          mergeLog,
          quarantine: rejected,
          identifiers,
        },
        now,
      );
      return {
        status: 'applied',
        profileId: profile.profileId,
        absorbedProfileIds: absorbed.map((p) => p.profileId),
        conflicts: plan.conflicts.length,
        attempts: attempt,
      };
    } catch (error) {
      if (error instanceof DuplicateMessageError) return { status: 'duplicate' };
      if (error instanceof SuppressedIdentityError) return { status: 'suppressed' };
      if (!(error instanceof ConcurrentUpdateError) || attempt >= maxAttempts) throw error;
      await deps.backoff(attempt);
    }
  }
}
