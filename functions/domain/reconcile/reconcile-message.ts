import { extractIdentifiersWithinLimits, identifierKey, withoutIdentifiers, type Identifier } from '../identity/identifiers';
import type { IdentityConfig } from '../identity/identity-config';
import { identitiesOverLimit, planResolution, type StoredLink } from '../identity/resolution';
import { PROFILE_LIMITS, dynamoItemSize, quarantinePreview, type RejectedValue } from '../profile/limits';
import {
  applyMessageWithinLimits,
  linkTimeOf,
  mergeIdentityLinks,
  mergeProfilesWithinLimits,
  newProfile,
  type IdentityLink,
  type ProfileRecord,
} from '../profile/profile';
import { normalizeTraits } from '../profile/traits';
import type { AcceptedMessage } from '../tracking/accepted-message';
import { provenanceOf } from '../identity/provenance';
import { asObject } from '../tracking/json';
import { boundedEventTime } from '../tracking/timestamps';
import { recordInWindow, windowHolds } from '../profile/dedupe-window';
import { openCartLines } from '../profile/activity';
import { canReceiveMarketingEmail } from '../email/recipient';
import { DEFAULT_PURPOSE_CONFIG, grantedPurposesOf, type PurposeConfig } from '../privacy/purposes';
import {
  CommitTooLargeError,
  ConcurrentUpdateError,
  DuplicateMessageError,
  SuppressedIdentityError,
  type IdentitySnapshot,
  type MergeLogEntry,
  type ReconcileCommit,
  type ReconcileStore,
} from '../../ports/profile-store';

export type ReconcileOutcome =
  | {
      readonly status: 'applied';
      readonly profileId: string;
      readonly absorbedProfileIds: readonly string[];
      readonly conflicts: number;
      readonly attempts: number;
      /** Values refused (validation, profile caps) and recorded in the quarantine. */
      readonly quarantined: number;
      /** Erased identifiers the message carried, left out of the profile and the stored event. */
      readonly identifiersSuppressed: number;
      /** Whether the profile, once the message's group is stored, may receive marketing email (journeys start only then). */
      readonly emailable: boolean;
      /**
       * Set on the last message of a group that made its profile emailable while the profile has an
       * open cart: the time of the cart's newest change (its abandonment journey can start now).
       */
      readonly reachableCartSince?: string;
      /**
       * Set on the last message of a group that took away purposes the profile had granted (a
       * withdrawal, an unsubscribe): destinations serving them are told the person left.
       */
      readonly withdrawnPurposes?: readonly string[];
    }
  /** Already applied; `profileId` tells where, so downstream notifications can be re-sent safely. */
  | { readonly status: 'duplicate'; readonly profileId?: string }
  | { readonly status: 'suppressed' }
  | { readonly status: 'unattributable'; readonly reason: string };

export interface ReconcileDependencies {
  readonly store: ReconcileStore;
  readonly config: IdentityConfig;
  readonly now: () => Date;
  readonly newProfileId: () => string;
  /** Pause before retrying after a concurrent update (jittered by the caller). */
  readonly backoff: (attempt: number) => Promise<void>;
  readonly maxAttempts?: number;
  /** Hours a message id counts once (DEDUPE_WINDOW_HOURS by default). */
  readonly dedupeWindowHours?: number;
  /** The processing purposes (withdrawals are reported per purpose); DEFAULT_PURPOSE_CONFIG when absent. */
  readonly purposeConfig?: PurposeConfig;
}

/** Updates of an identifier's last-seen time are batched: at most one write a day per identifier. */
const LAST_SEEN_RESOLUTION_MS = 86_400_000;

/** Identifiers listed in one `release` entry of the merge log; more are counted in `omitted`. */
const MAX_RELEASE_LOG_IDENTIFIERS = 20;

/** Traits a message sets: identify/group traits, and `context.traits` on any message. */
function incomingTraits(message: AcceptedMessage): Record<string, unknown> {
  return { ...asObject(message.context.traits), ...(message.type === 'identify' ? message.traits : {}) };
}

/**
 * The message with its event time bounded (functions/domain/tracking/timestamps.ts: client clock
 * corrected with `sentAt`, at most 5 minutes after receipt, at most 13 months before it). The
 * time the client claimed stays in `originalTimestamp` when it was changed.
 */
export function withBoundedEventTime(message: AcceptedMessage): AcceptedMessage {
  const timestamp = boundedEventTime(message);
  if (timestamp === message.timestamp) return message;
  return { ...message, timestamp, originalTimestamp: message.originalTimestamp ?? message.timestamp };
}

/** The PROFILE item as it would be written, for its size. */
const profileItemSize = (profile: ProfileRecord): number => dynamoItemSize({ PK: `P#${profile.profileId}`, SK: 'PROFILE', ...profile });

/**
 * What the store holds, as the next message of a group sees it: the snapshot read for the whole
 * group, with the changes of the group's earlier messages applied as if they were already stored
 * (the store then writes them all in one commit, see ProfileStore.commit).
 */
interface WorkingState {
  readonly snapshot: IdentitySnapshot;
  readonly links: Map<string, StoredLink>;
  readonly storedHolders: Map<string, { readonly profileId: string; readonly lastSeen: string }>;
  readonly profiles: Map<string, ProfileRecord>;
  /** Messages of the group applied so far, and the profile each went to. */
  readonly taken: Map<string, string>;
}

function workingStateOf(snapshot: IdentitySnapshot): WorkingState {
  return { snapshot, links: new Map(snapshot.links), storedHolders: new Map(snapshot.storedHolders), profiles: new Map(snapshot.profiles), taken: new Map() };
}

/** Whether a link as written would still resolve (lenient identifiers unseen for their lifetime do not). */
const linkResolves = (snapshot: IdentitySnapshot, link: IdentityLink): boolean =>
  !(snapshot.lenientLinks.types.includes(link.type) && link.lastSeen < snapshot.lenientLinks.seenSince);

/** The state after a change, as the store will hold it once the group commits. */
function applyToState(state: WorkingState, change: ReconcileCommit): void {
  const survivorId = change.profile.profileId;
  const absorbedIds = new Set(change.absorbed.map(({ profile }) => profile.profileId));
  for (const id of absorbedIds) state.profiles.delete(id);
  state.profiles.set(survivorId, change.profile);
  // Tombstones are followed: links to an absorbed profile now resolve to the survivor.
  for (const [key, link] of state.links) if (absorbedIds.has(link.profileId)) state.links.set(key, { ...link, profileId: survivorId });
  for (const { link } of change.linkWrites) {
    const key = identifierKey(link);
    state.storedHolders.set(key, { profileId: survivorId, lastSeen: link.lastSeen });
    if (linkResolves(state.snapshot, link)) state.links.set(key, { profileId: survivorId, lastSeen: link.lastSeen });
    else state.links.delete(key);
  }
  for (const { link } of change.linkReleases) {
    state.storedHolders.delete(identifierKey(link));
    state.links.delete(identifierKey(link));
  }
  state.taken.set(change.message.messageId, survivorId);
}

/** A message made ready for its group: event time bounded, identifiers extracted. */
interface PreparedMessage {
  readonly message: AcceptedMessage;
  readonly identifiers: readonly Identifier[];
  readonly rejected: readonly RejectedValue[];
}

function prepare(config: IdentityConfig, received: AcceptedMessage): PreparedMessage {
  const message = withBoundedEventTime(received);
  const extracted = extractIdentifiersWithinLimits(config, message);
  return { message, identifiers: extracted.identifiers, rejected: extracted.rejected };
}

type Decision = { readonly outcome: ReconcileOutcome; readonly change?: ReconcileCommit };

/**
 * Decides one message against the working state: duplicate, suppressed, or the change it makes
 * (which is then applied to the state, for the group's next message).
 *
 * Hostile input: the event time is bounded first (`withBoundedEventTime`); identifiers, traits,
 * consent and activity are kept within PROFILE_LIMITS, what exceeds them is quarantined with its
 * reason; erased identifiers are left out of the message (see below), and a message whose most
 * trusted identifier was erased is the erased person's own and is dropped.
 */
function decide(prepared: PreparedMessage, state: WorkingState, deps: ReconcileDependencies, now: Date, attempt: number): Decision {
  const { config } = deps;
  const { snapshot } = state;
  const bounded = prepared.message;
  const messageId = bounded.messageId;

  // Exactly once: taken earlier in this group, marked by its own item, or in the dedupe window of
  // a profile its identifiers resolve to (the profile that took it, or the survivor it merged into).
  const takenBy = state.taken.get(messageId);
  if (takenBy) return { outcome: { status: 'duplicate', profileId: takenBy } };
  if (snapshot.marked.has(messageId)) {
    const markedBy = snapshot.marked.get(messageId);
    return { outcome: { status: 'duplicate', ...(markedBy && { profileId: markedBy }) } };
  }
  for (const identifier of prepared.identifiers) {
    const holder = state.links.get(identifierKey(identifier))?.profileId;
    if (holder && windowHolds(state.profiles.get(holder)?.recentMessages, messageId)) return { outcome: { status: 'duplicate', profileId: holder } };
  }

  // Erasure suppresses identifiers, not messages: a shared browser cookie of an erased person
  // does not stop the next person on that browser from being tracked. Only a message whose most
  // trusted identifier (the one that decides whose message it is) was erased is dropped.
  let message = bounded;
  let identifiers = prepared.identifiers;
  if (snapshot.suppressed.length > 0) {
    const suppressedKeys = new Set(snapshot.suppressed.map(identifierKey));
    if (suppressedKeys.has(identifierKey(identifiers[0] as Identifier))) return { outcome: { status: 'suppressed' } };
    message = withoutIdentifiers(config, bounded, snapshot.suppressed);
    identifiers = identifiers.filter((identifier) => !suppressedKeys.has(identifierKey(identifier)));
  }
  const { accepted: traits, rejected: invalidTraits } = normalizeTraits(incomingTraits(message), { defaultPhoneRegion: config.defaultPhoneRegion });
  const rejected: RejectedValue[] = [...prepared.rejected, ...invalidTraits];

  const plan = planResolution(config, identifiers, state.links, state.profiles);
  const existing = plan.survivorId ? state.profiles.get(plan.survivorId) : undefined;
  let profile = existing ?? newProfile(deps.newProfileId(), now);
  const absorbed = plan.absorbed.map(({ profileId }) => state.profiles.get(profileId)).filter((p) => p !== undefined);
  for (const other of absorbed) {
    const merged = mergeProfilesWithinLimits(profile, other, now);
    profile = merged.profile;
    rejected.push(...merged.rejected.map((entry) => ({ ...entry, reason: `on merge: ${entry.reason}` })));
  }

  // Links are ordered by the event time never later than the receipt: a forged future time
  // cannot make an address the newest one (where journeys send).
  const at = linkTimeOf(message);
  const linkedKeys = new Set(plan.newLinks.map(identifierKey));
  const touched: IdentityLink[] = [];
  for (const identifier of identifiers) {
    const key = identifierKey(identifier);
    const live = state.links.get(key);
    const onGroup = linkedKeys.has(key) || (live && (live.profileId === profile.profileId || absorbed.some((p) => p.profileId === live.profileId)));
    if (!onGroup) continue;
    const stored = state.storedHolders.get(key);
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
  // The message id joins the profile's dedupe window; a full window marks it with its own item.
  const window = recordInWindow(profile.recentMessages, messageId, now, deps.dedupeWindowHours);
  if (window) profile = { ...profile, recentMessages: window };
  const provenance = provenanceOf(bounded);
  let applied = applyMessageWithinLimits(profile, message, traits, provenance, now);
  if (profileItemSize(applied.profile) > PROFILE_LIMITS.itemBudgetBytes) {
    // Last guard (only reachable with raised identity limits): the event still counts.
    applied = applyMessageWithinLimits(profile, message, traits, provenance, now, { countersOnly: true });
    rejected.push(
      ...Object.entries(traits).map(([trait, value]) => ({
        trait,
        reason: `profile at its size budget (${PROFILE_LIMITS.itemBudgetBytes / 1024} KiB): only counters applied`,
        value: quarantinePreview(value),
      })),
    );
  }
  rejected.push(...applied.rejected);
  profile = { ...applied.profile, version: (existing?.version ?? 0) + 1 };

  const logAt = now.toISOString();
  const mergeLog: MergeLogEntry[] = [
    ...plan.absorbed.map(({ profileId, via }) => ({
      kind: 'merge' as const,
      at: logAt,
      messageId,
      rule: `shared identifier ${via.type}`,
      otherProfileId: profileId,
      identifiers: [via],
    })),
    ...plan.conflicts.map((conflict) => ({
      kind: 'conflict' as const,
      at: logAt,
      messageId,
      rule: conflict.rule,
      ...(conflict.heldBy && { otherProfileId: conflict.heldBy }),
      identifiers: [conflict.identifier],
    })),
    ...(released.length > 0
      ? [
          {
            kind: 'release' as const,
            at: logAt,
            messageId,
            rule: 'identifier limit: least recently seen released',
            identifiers: released.slice(0, MAX_RELEASE_LOG_IDENTIFIERS).map(({ type, value }): Identifier => ({ type, value })),
            ...(released.length > MAX_RELEASE_LOG_IDENTIFIERS && { omitted: released.length - MAX_RELEASE_LOG_IDENTIFIERS }),
          },
        ]
      : []),
  ];

  const change: ReconcileCommit = {
    message,
    profile,
    ...(existing && { expectedVersion: existing.version }),
    absorbed: absorbed.map((p) => ({ profile: p })),
    linkWrites: touched.map((link) => {
      const stored = state.storedHolders.get(identifierKey(link));
      return { link, ...(stored && { previousProfileId: stored.profileId }) };
    }),
    linkReleases: released.map((link) => ({ link })),
    mergeLog,
    quarantine: rejected,
    identifiers,
    markedByItem: window === undefined,
  };
  applyToState(state, change);
  return {
    change,
    outcome: {
      status: 'applied',
      profileId: profile.profileId,
      absorbedProfileIds: absorbed.map((p) => p.profileId),
      conflicts: plan.conflicts.length,
      attempts: attempt,
      quarantined: rejected.length,
      identifiersSuppressed: prepared.identifiers.length - identifiers.length,
      // Completed by withJourneyReach once the whole group is decided.
      emailable: false,
    },
  };
}

/**
 * The applied outcomes told what journeys need, from the state the group leaves: whether each
 * message's profile (followed through the group's merges) can be emailed, and, for a profile that
 * could not before the group and can now with items in its cart, the cart's newest change.
 */
function withJourneyReach(decisions: readonly Decision[], state: WorkingState, config: PurposeConfig = DEFAULT_PURPOSE_CONFIG): ReconcileOutcome[] {
  const grantedPurposes = (profile: ProfileRecord): string[] => grantedPurposesOf(profile.consent, profile.traits.country?.value, config);
  const absorbedInto = new Map<string, string>();
  for (const { change } of decisions) {
    if (change) for (const { profile } of change.absorbed) absorbedInto.set(profile.profileId, change.profile.profileId);
  }
  const finalIdOf = (profileId: string): string => {
    let id = profileId;
    for (let hops = 0; absorbedInto.has(id) && hops <= absorbedInto.size; hops += 1) id = absorbedInto.get(id) as string;
    return id;
  };
  const emailableBefore = new Set<string>();
  const grantedBefore = new Map<string, Set<string>>();
  for (const [id, profile] of state.snapshot.profiles) {
    const finalId = finalIdOf(id);
    if (canReceiveMarketingEmail(profile)) emailableBefore.add(finalId);
    const granted = grantedBefore.get(finalId) ?? new Set<string>();
    for (const purpose of grantedPurposes(profile)) granted.add(purpose);
    grantedBefore.set(finalId, granted);
  }
  const lastApplied = new Map<string, number>();
  decisions.forEach(({ outcome }, position) => {
    if (outcome.status === 'applied') lastApplied.set(finalIdOf(outcome.profileId), position);
  });
  return decisions.map(({ outcome }, position) => {
    if (outcome.status !== 'applied') return outcome;
    const finalId = finalIdOf(outcome.profileId);
    const profile = state.profiles.get(finalId);
    const emailable = profile !== undefined && canReceiveMarketingEmail(profile);
    const last = lastApplied.get(finalId) === position;
    const cart = emailable && !emailableBefore.has(finalId) && last ? openCartLines((profile as ProfileRecord).activity) : [];
    const newestChange = cart
      .map((line) => line.addedAt)
      .sort()
      .at(-1);
    // Purposes are compared once per profile of the group, on its last message.
    const grantedNow = last && profile ? new Set(grantedPurposes(profile)) : new Set<string>();
    const withdrawn = last ? [...(grantedBefore.get(finalId) ?? [])].filter((purpose) => !grantedNow.has(purpose)) : [];
    return { ...outcome, emailable, ...(newestChange && { reachableCartSince: newestChange }), ...(withdrawn.length > 0 && { withdrawnPurposes: withdrawn }) };
  });
}

/**
 * Applies one accepted message to the identity graph and the profile it belongs to, atomically
 * and idempotently (a second delivery of the same messageId changes nothing). See reconcileMessages.
 */
export async function reconcileMessage(received: AcceptedMessage, deps: ReconcileDependencies): Promise<ReconcileOutcome> {
  const [outcome] = await reconcileMessages([received], deps);
  return outcome as ReconcileOutcome;
}

/**
 * Applies the messages of one person (messages sharing identifiers, see groupByPerson), in order,
 * in one read of the identity graph and one atomic commit: exactly what applying them one by one
 * would write, collapsed (each item written once, guarded by the state it was read in). A
 * concurrent update of the same profiles makes the commit fail; the whole decision is then taken
 * again from fresh state, so no update is lost. A group too large for one commit is split in two.
 * Outcomes are in the order of `received`.
 */
export async function reconcileMessages(received: readonly AcceptedMessage[], deps: ReconcileDependencies): Promise<ReconcileOutcome[]> {
  const { store, config } = deps;
  const prepared = received.map((message) => prepare(config, message));
  const outcomes: Array<ReconcileOutcome | undefined> = prepared.map((entry) =>
    entry.identifiers.length === 0 ? { status: 'unattributable', reason: 'no linkable identifier (all blocked or invalid)' } : undefined,
  );
  const attributable = prepared.flatMap((entry, index) => (outcomes[index] === undefined ? [{ entry, index }] : []));
  if (attributable.length === 0) return outcomes as ReconcileOutcome[];
  const maxAttempts = deps.maxAttempts ?? 8;

  for (let attempt = 1; ; attempt += 1) {
    const now = deps.now();
    const identifiers = [
      ...new Map(attributable.flatMap(({ entry }) => entry.identifiers).map((identifier) => [identifierKey(identifier), identifier])).values(),
    ];
    const snapshot = await store.loadSnapshot(
      attributable.map(({ entry }) => entry.message.messageId),
      identifiers,
      now,
    );
    const state = workingStateOf(snapshot);
    const decisions = attributable.map(({ entry }) => decide(entry, state, deps, now, attempt));
    const changes = decisions.flatMap((decision) => (decision.change ? [decision.change] : []));
    try {
      if (changes.length > 0) await store.commit(changes, now);
      withJourneyReach(decisions, state, deps.purposeConfig).forEach((outcome, position) => {
        outcomes[(attributable[position] as { index: number }).index] = outcome;
      });
      return outcomes as ReconcileOutcome[];
    } catch (error) {
      if (error instanceof CommitTooLargeError && attributable.length > 1) {
        const half = Math.ceil(attributable.length / 2);
        for (const part of [attributable.slice(0, half), attributable.slice(half)]) {
          const partOutcomes = await reconcileMessages(
            part.map(({ entry }) => entry.message),
            deps,
          );
          part.forEach(({ index }, position) => {
            outcomes[index] = partOutcomes[position];
          });
        }
        return outcomes as ReconcileOutcome[];
      }
      if (error instanceof DuplicateMessageError && attributable.length === 1) {
        outcomes[(attributable[0] as { index: number }).index] = { status: 'duplicate' };
        return outcomes as ReconcileOutcome[];
      }
      // A duplicate marked meanwhile, or an identifier erased between the read and the commit:
      // decide again from fresh state (the message may still apply without it, or be the erased person's own).
      const retryable = error instanceof ConcurrentUpdateError || error instanceof SuppressedIdentityError || error instanceof DuplicateMessageError;
      if (!retryable || attempt >= maxAttempts) throw error;
      await deps.backoff(attempt);
    }
  }
}
