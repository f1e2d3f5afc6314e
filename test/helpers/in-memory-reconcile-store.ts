import { deflateRawSync } from 'node:zlib';
import { identifierKey, type Identifier } from '../../functions/domain/identity/identifiers';
import { DEFAULT_IDENTITY_CONFIG } from '../../functions/domain/identity/identity-config';
import type { StoredLink } from '../../functions/domain/identity/resolution';
import { PROFILE_LIMITS, dynamoItemSize } from '../../functions/domain/profile/limits';
import type { ProfileRecord } from '../../functions/domain/profile/profile';
import { PoisonMessageError } from '../../functions/domain/shared/poison-message';
import {
  CommitTooLargeError,
  ConcurrentUpdateError,
  DuplicateMessageError,
  SuppressedIdentityError,
  type IdentitySnapshot,
  type MergeLogEntry,
  type ReconcileCommit,
  type ReconcileStore,
  type StoredEvent,
} from '../../functions/ports/profile-store';

export interface InMemoryReconcileStoreOptions {
  readonly lenientTypes?: readonly string[];
  readonly lenientIdentifierLifetimeDays?: number;
  /** Items one commit may write or check (DynamoDB transactions: 100). */
  readonly maxTransactionItems?: number;
  /** Bytes a group's commit may write (the adapter stays under 3 MB of a transaction's 4 MB). */
  readonly maxGroupCommitBytes?: number;
}

/** A merged-away profile as the adapter writes it: a pointer to its survivor, nothing else of the person. */
type Tombstone = Pick<ProfileRecord, 'profileId' | 'version' | 'createdAt' | 'updatedAt' | 'identities' | 'mergedFrom' | 'mergedFromCount'> & {
  readonly mergedInto: string;
};
type StoredProfile = ProfileRecord | Tombstone;
type Failure = 'dedupe' | 'suppression' | 'other';

const DAY_MS = 86_400_000;
/** The adapter reads 8 levels of profile items: a chain of at most 7 tombstones resolves. */
const MAX_TOMBSTONES_FOLLOWED = 7;
const MAX_EVENT_PAGE_BYTES = 300_000;
const isLive = (profile: StoredProfile | undefined): profile is ProfileRecord => profile !== undefined && profile.mergedInto === undefined;
const copy = <T>(value: T): T => structuredClone(value);

/**
 * ReconcileStore in memory, with the semantics of DynamoProfileStore (functions/adapters/dynamodb-profile-store.ts):
 * the same snapshot for the same state, and a commit that writes all of a group or nothing, each item
 * guarded by the state its first write in the group was decided on.
 */
export class InMemoryReconcileStore implements ReconcileStore {
  private readonly profiles = new Map<string, StoredProfile>();
  /** identifierKey → the identity item (holder as written, maybe a tombstone; expired lenient ones stay). */
  private readonly identities = new Map<string, { readonly profileId: string; readonly lastSeen: string }>();
  /** `MSG#` items: message id → profile it went to. */
  private readonly marks = new Map<string, string | undefined>();
  private readonly suppressions = new Set<string>();
  private readonly partitions = new Map<string, { events: StoredEvent[]; log: Array<{ sortKey: string; entry: MergeLogEntry }> }>();
  private readonly pendingHooks: Array<() => void | Promise<void>> = [];
  private readonly lenientTypes: readonly string[];
  private readonly lifetimeDays: number;
  private readonly maxItems: number;
  private readonly maxBytes: number;
  /** Snapshots read so far. */
  snapshots = 0;
  /** Every commit tried: how many messages, items and bytes, and the error it threw if any. */
  readonly commitLog: Array<{ readonly changes: number; readonly items: number; readonly bytes: number; readonly error?: string }> = [];

  constructor(options: InMemoryReconcileStoreOptions = {}) {
    this.lenientTypes = options.lenientTypes ?? ['anonymous_id', 'device_id'];
    this.lifetimeDays = options.lenientIdentifierLifetimeDays ?? DEFAULT_IDENTITY_CONFIG.anonymousIdLifetimeDays;
    this.maxItems = options.maxTransactionItems ?? 100;
    this.maxBytes = options.maxGroupCommitBytes ?? 3_000_000;
  }

  async loadSnapshot(messageIds: readonly string[], identifiers: readonly Identifier[], now: Date): Promise<IdentitySnapshot> {
    this.snapshots += 1;
    const seenSince = new Date(now.getTime() - this.lifetimeDays * DAY_MS).toISOString();
    const storedHolders = new Map<string, { profileId: string; lastSeen: string }>();
    const links = new Map<string, StoredLink>();
    const profiles = new Map<string, ProfileRecord>();
    for (const identifier of identifiers) {
      const key = identifierKey(identifier);
      const stored = this.identities.get(key);
      if (!stored) continue;
      storedHolders.set(key, { ...stored });
      // Profiles of expired links are read too (the adapter resolves every stored holder).
      const live = this.resolve(stored.profileId);
      if (!live) continue;
      profiles.set(live.profileId, copy(live));
      if (!(this.lenientTypes.includes(identifier.type) && stored.lastSeen < seenSince))
        links.set(key, { profileId: live.profileId, lastSeen: stored.lastSeen });
    }
    const marked = new Map<string, string | undefined>(messageIds.filter((id) => this.marks.has(id)).map((id) => [id, this.marks.get(id)]));
    return {
      marked,
      suppressed: identifiers.filter((identifier) => this.suppressions.has(identifierKey(identifier))),
      links,
      storedHolders,
      profiles,
      lenientLinks: { types: this.lenientTypes, seenSince },
    };
  }

  async commit(changes: readonly ReconcileCommit[], now: Date): Promise<void> {
    await this.pendingHooks.shift()?.();
    const at = now.toISOString();
    // Items collapsed by key: the guard of the first write, the size of the last.
    const guards = new Map<string, boolean>();
    const sizes = new Map<string, number>();
    const checks = new Set<string>();
    const failures = new Set<Failure>();
    let duplicateId: string | undefined;
    const write = (key: string, size: number, guard = true, kind: Failure = 'other', messageId?: string): void => {
      if (!guards.has(key)) {
        guards.set(key, guard);
        if (!guard) failures.add(kind);
        if (!guard && kind === 'dedupe') duplicateId ??= messageId;
      }
      sizes.set(key, size);
    };
    const pages = new Map<string, StoredEvent[]>();
    for (const change of changes) {
      const { message, profile } = change;
      if (change.markedByItem) write(`MSG#${message.messageId}`, 0, !this.marks.has(message.messageId), 'dedupe', message.messageId);
      // Identifiers new to the graph are checked against an erasure; linked ones are covered by the profile version.
      for (const { link } of change.linkWrites.filter((linkWrite) => linkWrite.previousProfileId === undefined)) {
        checks.add(identifierKey(link));
        if (this.suppressions.has(identifierKey(link))) failures.add('suppression');
      }
      const current = this.profiles.get(profile.profileId);
      const unchanged = (version: number): boolean => current?.version === version && current.mergedInto === undefined;
      write(
        `P#${profile.profileId}`,
        dynamoItemSize({ ...profile }),
        change.expectedVersion === undefined ? current === undefined : unchanged(change.expectedVersion),
      );
      for (const { profile: absorbed } of change.absorbed) {
        const stored = this.profiles.get(absorbed.profileId);
        write(`P#${absorbed.profileId}`, dynamoItemSize(tombstoneOf(absorbed, profile.profileId, at)), isLive(stored) && stored.version === absorbed.version);
        write(`MF#${profile.profileId}#${absorbed.profileId}`, 0);
      }
      for (const { link, previousProfileId } of change.linkWrites) {
        const stored = this.identities.get(identifierKey(link));
        write(`ID#${identifierKey(link)}`, 0, previousProfileId === undefined ? stored === undefined : stored?.profileId === previousProfileId);
      }
      for (const [index, entry] of change.mergeLog.entries()) write(`M#${profile.profileId}#${entry.at}#${entry.messageId}#${index}`, 0);
      const quarantined = Math.min(change.quarantine.length, PROFILE_LIMITS.maxQuarantinePerMessage);
      for (let index = 0; index < quarantined; index += 1) write(`Q#${at}#${message.messageId}#${index}`, 0);
      pages.set(profile.profileId, [...(pages.get(profile.profileId) ?? []), { profileId: profile.profileId, message, reconciledAt: at }]);
    }
    for (const [profileId, events] of pages) {
      const bytes = deflateRawSync(JSON.stringify(events.map(({ message, reconciledAt }) => ({ message, reconciledAt })))).byteLength;
      const count = Math.max(1, Math.ceil(bytes / MAX_EVENT_PAGE_BYTES));
      for (let page = 0; page < count; page += 1) write(`E#${profileId}#${page}`, bytes / count);
    }

    const items = guards.size + checks.size;
    const bytes = [...sizes.values()].reduce((total, size) => total + size, 0);
    const fail = (error: Error): never => {
      this.commitLog.push({ changes: changes.length, items, bytes, error: error.name });
      throw error;
    };
    if (items > this.maxItems || (changes.length > 1 && bytes > this.maxBytes)) {
      if (changes.length === 1) fail(new PoisonMessageError(`the message would change ${items} items in one transaction (limit ${this.maxItems})`));
      fail(new CommitTooLargeError(`${changes.length} message(s) would change ${items} items in one transaction (limit ${this.maxItems})`));
    }
    if (failures.has('dedupe')) fail(new DuplicateMessageError(duplicateId ?? 'unknown'));
    if (failures.has('suppression')) fail(new SuppressedIdentityError());
    if (failures.has('other')) fail(new ConcurrentUpdateError('ConditionalCheckFailed'));

    /** identifierKey → the group of the profile releasing it, when the group's last word on it is a release. */
    const released = new Map<string, readonly string[] | undefined>();
    for (const change of changes) {
      const { message, profile } = change;
      if (change.markedByItem) this.marks.set(message.messageId, profile.profileId);
      this.profiles.set(profile.profileId, copy(profile));
      for (const { profile: absorbed } of change.absorbed) this.profiles.set(absorbed.profileId, tombstoneOf(absorbed, profile.profileId, at));
      for (const { link } of change.linkWrites) {
        this.identities.set(identifierKey(link), { profileId: profile.profileId, lastSeen: link.lastSeen });
        released.set(identifierKey(link), undefined);
      }
      for (const { link } of change.linkReleases) released.set(identifierKey(link), [profile.profileId, ...profile.mergedFrom]);
      const partition = this.partition(profile.profileId);
      partition.events.push({ profileId: profile.profileId, message: copy(message), reconciledAt: at });
      for (const [index, entry] of change.mergeLog.entries()) partition.log.push({ sortKey: `${entry.at}#${entry.messageId}#${index}`, entry: copy(entry) });
    }
    // After the transaction, as the adapter does: only where the item still points into the releasing group.
    for (const [key, group] of released) if (group?.includes(this.identities.get(key)?.profileId ?? '')) this.identities.delete(key);
    this.commitLog.push({ changes: changes.length, items, bytes });
  }

  /** Runs `change` at the start of the next commit, after its snapshot was read: a concurrent writer. */
  beforeNextCommit(change: () => void | Promise<void>): void {
    this.pendingHooks.push(change);
  }

  /** The live profile of an id, a merged-away id resolving to its survivor (undefined when erased). */
  profile(profileId: string): ProfileRecord | undefined {
    const live = this.resolve(profileId);
    return live && copy(live);
  }

  /** The live profile an identifier's identity item points to, expired or not (as DynamoProfileStore.findProfile). */
  profileOf(identifier: Identifier): ProfileRecord | undefined {
    const stored = this.identities.get(identifierKey(identifier));
    return stored && this.profile(stored.profileId);
  }

  /** Events of the profile and every profile merged into it, newest first. */
  events(profileId: string): StoredEvent[] {
    const eventKey = ({ message }: StoredEvent): string => `${message.timestamp}#${message.messageId}`;
    return this.group(profileId)
      .flatMap((id) => this.partitions.get(id)?.events ?? [])
      .sort((a, b) => (eventKey(a) < eventKey(b) ? 1 : -1))
      .map(copy);
  }

  /** Merge-log entries of the profile and every profile merged into it, newest first. */
  mergeLog(profileId: string): MergeLogEntry[] {
    return this.group(profileId)
      .flatMap((id) => this.partitions.get(id)?.log ?? [])
      .sort((a, b) => (a.sortKey < b.sortKey ? 1 : -1))
      .map(({ entry }) => copy(entry));
  }

  /** Writes erasure records for the identifiers (as an erasure's first step). */
  suppress(identifiers: readonly Identifier[]): void {
    for (const identifier of identifiers) this.suppressions.add(identifierKey(identifier));
  }

  /** A `MSG#` item, as earlier versions wrote for every message. */
  mark(messageId: string, profileId?: string): void {
    this.marks.set(messageId, profileId);
  }

  /** Another writer's change to a live profile (its version bumped), e.g. to seed state the use case cannot reach. */
  update(profileId: string, change: (profile: ProfileRecord) => ProfileRecord = (profile) => profile): void {
    const live = this.resolve(profileId);
    if (!live) throw new Error(`no live profile ${profileId}`);
    this.profiles.set(live.profileId, { ...change(copy(live)), profileId: live.profileId, version: live.version + 1 });
  }

  /** As an erasure job does to DynamoProfileStore (beginErasure, eraseProfileData): identifiers suppressed, their items, the profile, its tombstones, events and log removed. */
  erase(profileId: string): void {
    const live = this.resolve(profileId);
    if (!live) return;
    this.suppress(live.identities);
    for (const identifier of live.identities) this.identities.delete(identifierKey(identifier));
    for (const id of this.group(live.profileId)) {
      this.profiles.delete(id);
      this.partitions.delete(id);
    }
  }

  private resolve(profileId: string): ProfileRecord | undefined {
    let current = this.profiles.get(profileId);
    for (let hops = 0; current && !isLive(current) && hops < MAX_TOMBSTONES_FOLLOWED; hops += 1) current = this.profiles.get(current.mergedInto);
    return isLive(current) ? current : undefined;
  }

  /** The ids of the live profile's group: itself and every tombstone resolving to it. */
  private group(profileId: string): string[] {
    const live = this.resolve(profileId);
    return live ? [...this.profiles.keys()].filter((id) => this.resolve(id)?.profileId === live.profileId) : [];
  }

  private partition(profileId: string): { events: StoredEvent[]; log: Array<{ sortKey: string; entry: MergeLogEntry }> } {
    const partition = this.partitions.get(profileId) ?? { events: [], log: [] };
    this.partitions.set(profileId, partition);
    return partition;
  }
}

function tombstoneOf(absorbed: ProfileRecord, survivorId: string, at: string): Tombstone {
  return {
    profileId: absorbed.profileId,
    version: absorbed.version + 1,
    createdAt: absorbed.createdAt,
    updatedAt: at,
    mergedInto: survivorId,
    identities: copy(absorbed.identities),
    mergedFrom: [...absorbed.mergedFrom],
    ...(absorbed.mergedFromCount !== undefined && { mergedFromCount: absorbed.mergedFromCount }),
  };
}
