import { identifierKey, normalizeIdentifier, type Identifier } from '../identity/identifiers';
import type { IdentityConfig } from '../identity/identity-config';
import { planUnmerge } from '../identity/unmerge';
import type { ProfileRecord } from '../profile/profile';
import type { ProfileStore } from '../../ports/profile-store';

export type UnmergeOutcome =
  | { readonly status: 'split'; readonly keptProfileId: string; readonly splitProfileId: string; readonly eventsMoved: number }
  | { readonly status: 'rejected'; readonly reason: string };

export interface UnmergeDependencies {
  readonly store: ProfileStore;
  readonly config: IdentityConfig;
  readonly now: () => Date;
  readonly newProfileId: () => string;
}

/** Upper bound of history an un-merge rebuilds in one call (hot events of one person). */
const MAX_EVENTS = 100_000;

/**
 * Splits identities off a wrongly merged profile: both people get their own profile back,
 * rebuilt from their own events, and the merge log of each records the un-merge.
 */
export async function unmergeProfile(
  profile: ProfileRecord,
  requested: ReadonlyArray<{ type: string; value: string }>,
  deps: UnmergeDependencies,
): Promise<UnmergeOutcome> {
  const splitOff: Identifier[] = [];
  for (const { type, value } of requested) {
    const identifier = normalizeIdentifier(deps.config, type, value);
    if (!identifier || !profile.identities.some((link) => identifierKey(link) === identifierKey(identifier))) {
      return { status: 'rejected', reason: `${type} is not an identity of this profile` };
    }
    splitOff.push(identifier);
  }
  const splitKeys = new Set(splitOff.map(identifierKey));
  if (profile.identities.every((link) => splitKeys.has(identifierKey(link)))) {
    return { status: 'rejected', reason: 'cannot split off every identity of a profile' };
  }
  const now = deps.now();
  const stored = await deps.store.listEvents(profile, MAX_EVENTS);
  const plan = planUnmerge(profile, stored.map((event) => event.message), splitOff, deps.newProfileId(), deps.config, now);
  const splitIds = new Set(plan.splitMessages.map((message) => message.messageId));
  const movedEvents = stored.filter((event) => splitIds.has(event.message.messageId));
  await deps.store.applyUnmerge(
    {
      original: profile,
      kept: plan.kept,
      split: plan.split,
      movedEvents,
      log: { kind: 'unmerge', at: now.toISOString(), messageId: `unmerge-${plan.split.profileId}`, rule: 'manual un-merge', identifiers: splitOff },
    },
    now,
  );
  return { status: 'split', keptProfileId: plan.kept.profileId, splitProfileId: plan.split.profileId, eventsMoved: movedEvents.length };
}
