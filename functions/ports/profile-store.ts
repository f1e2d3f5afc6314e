import type { Identifier } from '../domain/identity/identifiers';
import type { StoredLink } from '../domain/identity/resolution';
import type { IdentityLink, ProfileRecord } from '../domain/profile/profile';
import type { RejectedTrait } from '../domain/profile/traits';
import type { AcceptedMessage, MessageType } from '../domain/tracking/accepted-message';

/** What the store knows, right now, about the identifiers and ids of a group of messages. */
export interface IdentitySnapshot {
  /**
   * Messages marked processed by their own `MSG#` item (written by earlier versions, or when the
   * profile's dedupe window was full), with the profile they went to when known. Most messages are
   * remembered in their profile's `recentMessages` window instead.
   */
  readonly marked: ReadonlyMap<string, string | undefined>;
  /**
   * Identifiers erased under GDPR. A message whose most trusted identifier is one of them belongs
   * to the erased person and is dropped; otherwise it is applied without them.
   */
  readonly suppressed: readonly Identifier[];
  /** identifierKey → live profile holding it (tombstones followed; expired links are absent). */
  readonly links: ReadonlyMap<string, StoredLink>;
  /** identifierKey → profile id written on the identity item as stored, expired or not. */
  readonly storedHolders: ReadonlyMap<string, { readonly profileId: string; readonly lastSeen: string }>;
  /** Live profiles involved, by id. */
  readonly profiles: ReadonlyMap<string, ProfileRecord>;
  /** Links of these types last seen before `seenSince` no longer resolve (cookies, device ids). */
  readonly lenientLinks: { readonly types: readonly string[]; readonly seenSince: string };
}

/** One entry of a profile's merge log. */
export interface MergeLogEntry {
  readonly kind: 'merge' | 'conflict' | 'release' | 'unmerge';
  readonly at: string;
  readonly messageId: string;
  readonly rule: string;
  /** For merges: the profile folded in. For conflicts: the profile that keeps the identifier. */
  readonly otherProfileId?: string;
  readonly identifiers: readonly Identifier[];
  /** Identifiers of the entry not listed in `identifiers` (a release of very many is abbreviated). */
  readonly omitted?: number;
}

/** Everything one message changes; the changes of a group are written atomically (all or nothing). */
export interface ReconcileCommit {
  readonly message: AcceptedMessage;
  /** The survivor after the message; `version` is the new version. */
  readonly profile: ProfileRecord;
  /** Version read before the change, or undefined when the profile is new. */
  readonly expectedVersion?: number;
  readonly absorbed: ReadonlyArray<{ readonly profile: ProfileRecord }>;
  /** Identity items to (re)point at the survivor; `previous` guards against a concurrent link. */
  readonly linkWrites: ReadonlyArray<{ readonly link: IdentityLink; readonly previousProfileId?: string }>;
  readonly linkReleases: ReadonlyArray<{ readonly link: IdentityLink }>;
  readonly mergeLog: readonly MergeLogEntry[];
  readonly quarantine: readonly RejectedTrait[];
  /** Identifiers that must still be unsuppressed at commit time. */
  readonly identifiers: readonly Identifier[];
  /** The profile's dedupe window is full: the message is marked by its own `MSG#` item. */
  readonly markedByItem: boolean;
}

/** The changes of a group do not fit in one transaction (100 items, 4 MB): the group is split. */
export class CommitTooLargeError extends Error {
  constructor(detail: string) {
    super(`commit too large: ${detail}`);
    this.name = 'CommitTooLargeError';
  }
}

export class ConcurrentUpdateError extends Error {
  constructor(detail: string) {
    super(`concurrent update: ${detail}`);
    this.name = 'ConcurrentUpdateError';
  }
}

export class DuplicateMessageError extends Error {
  constructor(messageId: string) {
    super(`message ${messageId} already processed`);
    this.name = 'DuplicateMessageError';
  }
}

/** An identifier new to the graph was erased meanwhile: the message is decided again from fresh state. */
export class SuppressedIdentityError extends Error {
  constructor() {
    super('an identifier of the message is suppressed');
    this.name = 'SuppressedIdentityError';
  }
}

export interface StoredEvent {
  /** The partition the event lives in: its profile, or a profile merged into it. */
  readonly profileId: string;
  readonly message: AcceptedMessage;
  /** When reconciliation stored it (ingest-to-profile lag is this minus `message.receivedAt`). */
  readonly reconciledAt?: string;
  /** The history item holding it (an event page), for moving it. */
  readonly page?: string;
}

/** Which events a page of a timeline holds: all of them, or those of a message type and/or a `track` event name. */
export interface EventFilter {
  readonly type?: MessageType;
  readonly event?: string;
}

/** One page of a timeline, newest first. */
export interface EventPage {
  readonly events: readonly StoredEvent[];
  /** Opaque cursor of the next page; undefined on the last one. */
  readonly next?: string;
}

/** A value refused by validation or a profile cap (functions/domain/profile/limits.ts), kept 90 days. */
export interface QuarantinedValue extends RejectedTrait {
  readonly kind?: 'value';
  readonly at: string;
  readonly messageId: string;
  readonly profileId?: string;
  readonly source: string;
}

/**
 * A queue message a consumer can never process (malformed, or refused by DynamoDB's limits): it is
 * recorded here and deleted from its queue instead of being retried into the DLQ. Ids, sizes and
 * the reason only: never the body (personal data).
 */
export interface QuarantinedMessage {
  readonly kind: 'message';
  readonly at: string;
  /** The function that met it (`reconcile`, `score`...). */
  readonly consumer: string;
  readonly reason: string;
  readonly sqsMessageId: string;
  /** The platform message id when the body names one (`messageId`, `transitionId`...). */
  readonly messageId?: string;
  readonly bytes: number;
}

export type QuarantineEntry = QuarantinedValue | QuarantinedMessage;

/** What one call of ProfileStore.eraseProfileData did. */
export interface ErasureProgress {
  readonly eventsDeleted: number;
  /** The profile and every profile merged into it. */
  readonly profileIds: readonly string[];
  readonly done: boolean;
}

/** An un-merge to write: the rebuilt original, the new profile and where each moved event lived. */
export interface UnmergeCommit {
  readonly original: ProfileRecord;
  readonly kept: ProfileRecord;
  readonly split: ProfileRecord;
  readonly movedEvents: readonly StoredEvent[];
  readonly log: MergeLogEntry;
}

/**
 * Most identities the split-off profile may hold: its identity links are re-pointed in the one
 * transaction that commits the un-merge (100 items, minus the two profiles, two log entries and
 * a journal item).
 */
export const MAX_UNMERGE_IDENTITIES = 90;

/** An un-merge whose commit is done and whose moved events were removed from their old partitions just now. */
export interface FinishedUnmerge {
  readonly splitProfileId: string;
  readonly eventsMoved: number;
}

/** What reconciliation reads and writes: the identity graph around a group of messages, and its commit. */
export interface ReconcileStore {
  loadSnapshot(messageIds: readonly string[], identifiers: readonly Identifier[], now: Date): Promise<IdentitySnapshot>;
  /**
   * Writes the changes of a group of messages (in order, each decided on the state the previous
   * ones left) atomically: each item once, in its final state, guarded by the state it was read in;
   * the events of one profile as one event page. Throws ConcurrentUpdateError,
   * DuplicateMessageError, SuppressedIdentityError or CommitTooLargeError.
   */
  commit(changes: readonly ReconcileCommit[], now: Date): Promise<void>;
}

export interface ProfileStore extends ReconcileStore {
  findProfile(identifier: Identifier): Promise<ProfileRecord | undefined>;
  /** By profile id; a merged-away id resolves to its survivor. */
  getProfile(profileId: string): Promise<ProfileRecord | undefined>;
  /** The live profile of each id (a merged-away id maps to its survivor), read together; erased ones are absent. */
  getProfiles(profileIds: readonly string[]): Promise<Map<string, ProfileRecord>>;
  /** Newest first, across the profile and every profile merged into it. */
  listEvents(profile: ProfileRecord, limit: number): Promise<StoredEvent[]>;
  /**
   * One page of the same order, after `cursor` (a `next` this method gave for this filter), only
   * events matching `filter`; throws InvalidCursorError for any other cursor. Events stored after
   * the first page may be left out, never an event repeated or one that was there skipped.
   */
  pageEvents(profile: ProfileRecord, options: { readonly limit: number; readonly cursor?: string; readonly filter?: EventFilter }): Promise<EventPage>;
  listMergeLog(profile: ProfileRecord, limit: number): Promise<MergeLogEntry[]>;
  /** Newest first: refused values and poison messages. */
  listQuarantine(limit: number): Promise<QuarantineEntry[]>;
  /** Records a poison message (see QuarantinedMessage). */
  quarantineMessage(entry: QuarantinedMessage): Promise<void>;
  /**
   * Writes an un-merge as a resumable sequence with one commit point:
   * 1. copies the moved events into the new profile's partition (invisible: no profile item and no
   *    identity points there yet);
   * 2. commits, in one transaction guarded by the original's version and by each re-pointed identity
   *    link, the rebuilt original, the new profile, its identity links, both merge-log entries and,
   *    when they fit, the deletions of the moved events' old copies (else a journal item);
   * 3. deletes the old copies left over, then the journal item.
   * Throws ConcurrentUpdateError (nothing visible written, copies removed) when the profile or a
   * link changed since it was read. A failure after the commit is finished by `finishUnmerges`.
   */
  applyUnmerge(change: UnmergeCommit, now: Date): Promise<void>;
  /**
   * Completes step 3 of the committed un-merges whose original is `profileId` that were interrupted
   * (their journal items); idempotent.
   */
  finishUnmerges(profileId: string): Promise<readonly FinishedUnmerge[]>;
  /**
   * Erasure, step 1 (idempotent): suppresses every identifier of the profile (the records name the
   * job), marks it erased (reads no longer find it), suppresses identifiers linked meanwhile.
   * Undefined when the profile item is gone (its data erased already).
   */
  beginErasure(profileId: string, jobId: string, now: Date): Promise<{ readonly identitiesSuppressed: number } | undefined>;
  /**
   * Erasure, step 2 (resumable): removes the identity links, then every partition of the profile
   * and of the profiles merged into it (events, merge log, journey items, tombstones), the profile
   * item last. Stops early, `done: false`, when `hasTime()` turns false; call again to go on.
   */
  eraseProfileData(profileId: string, now: Date, hasTime: () => boolean): Promise<ErasureProgress>;
  /** Removes the quarantine entries of these profiles (refused values keep what the person sent); how many. */
  deleteQuarantineOf(profileIds: readonly string[]): Promise<number>;
  /** The erasure job that suppressed this identifier, if one did. */
  erasureJobOf(identifier: Identifier): Promise<string | undefined>;
}
