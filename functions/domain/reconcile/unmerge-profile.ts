import { identifierKey, normalizeIdentifier, type Identifier } from '../identity/identifiers';
import type { IdentityConfig } from '../identity/identity-config';
import { planUnmerge } from '../identity/unmerge';
import type { ProfileRecord } from '../profile/profile';
import { MAX_UNMERGE_IDENTITIES, type ProfileStore } from '../../ports/profile-store';

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
 *
 * The store commits it at one point (see ProfileStore.applyUnmerge). A call that failed after
 * that point is finished by the next call on the same profile; repeating the same request then
 * answers the finished split again instead of rejecting identities that are no longer here.
 * Throws ConcurrentUpdateError, with nothing written, when the profile changed since it was read.
 */
export async function unmergeProfile(
  profile: ProfileRecord,
  requested: ReadonlyArray<{ type: string; value: string }>,
  deps: UnmergeDependencies,
): Promise<UnmergeOutcome> {
  const finished = await deps.store.finishUnmerges(profile.profileId);
  const splitOff: Identifier[] = [];
  for (const { type, value } of requested) {
    const identifier = normalizeIdentifier(deps.config, type, value);
    if (!identifier || !profile.identities.some((link) => identifierKey(link) === identifierKey(identifier))) {
      const repeated = identifier && (await repeatedRequest(profile, requested, finished, deps));
      return repeated ?? { status: 'rejected', reason: `${type} is not an identity of this profile` };
    }
    splitOff.push(identifier);
  }
  const splitKeys = new Set(splitOff.map(identifierKey));
  if (profile.identities.every((link) => splitKeys.has(identifierKey(link)))) {
    return { status: 'rejected', reason: 'cannot split off every identity of a profile' };
  }
  const now = deps.now();
  const stored = await deps.store.listEvents(profile, MAX_EVENTS);
  const plan = planUnmerge(
    profile,
    stored.map((event) => event.message),
    splitOff,
    deps.newProfileId(),
    deps.config,
    now,
  );
  if (plan.split.identities.length > MAX_UNMERGE_IDENTITIES) {
    return {
      status: 'rejected',
      reason: `the split-off profile would hold ${plan.split.identities.length} identities (at most ${MAX_UNMERGE_IDENTITIES} per un-merge)`,
    };
  }
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

/** The outcome of an interrupted un-merge this call just finished, when it split off exactly these identities. */
async function repeatedRequest(
  profile: ProfileRecord,
  requested: ReadonlyArray<{ type: string; value: string }>,
  finished: Awaited<ReturnType<ProfileStore['finishUnmerges']>>,
  deps: UnmergeDependencies,
): Promise<UnmergeOutcome | undefined> {
  for (const { splitProfileId, eventsMoved } of finished) {
    const split = await deps.store.getProfile(splitProfileId);
    const held = new Set(split?.identities.map(identifierKey) ?? []);
    const all = requested.every(({ type, value }) => {
      const identifier = normalizeIdentifier(deps.config, type, value);
      return identifier !== undefined && held.has(identifierKey(identifier));
    });
    if (split && all) return { status: 'split', keptProfileId: profile.profileId, splitProfileId: split.profileId, eventsMoved };
  }
  return undefined;
}

/**
 * Finishes the interrupted un-merges this profile took part in, as the original or as the split-off
 * profile (its merge log names the other one). Run before an erasure: otherwise the old copies of
 * an erased person's moved events could stay behind in the other profile's partitions.
 */
export async function finishInterruptedUnmerges(store: Pick<ProfileStore, 'listMergeLog' | 'finishUnmerges'>, profile: ProfileRecord): Promise<void> {
  const log = await store.listMergeLog(profile, 1_000);
  const originals = new Set([profile.profileId, ...log.flatMap((entry) => (entry.kind === 'unmerge' && entry.otherProfileId ? [entry.otherProfileId] : []))]);
  for (const profileId of originals) await store.finishUnmerges(profileId);
}
