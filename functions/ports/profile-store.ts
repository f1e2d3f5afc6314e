import type { Identifier } from '../domain/identity/identifiers';
import type { StoredLink } from '../domain/identity/resolution';
import type { IdentityLink, ProfileRecord } from '../domain/profile/profile';
import type { RejectedTrait } from '../domain/profile/traits';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';

/** What the store knows, right now, about the identifiers of one message. */
export interface IdentitySnapshot {
  /** The message was already applied (same messageId within the dedupe window). */
  readonly alreadyProcessed: boolean;
  /** The profile it was applied to, when already processed. */
  readonly processedBy?: string;
  /** Identifiers erased under GDPR: a message carrying one is dropped. */
  readonly suppressed: readonly Identifier[];
  /** identifierKey → live profile holding it (tombstones followed; expired links are absent). */
  readonly links: ReadonlyMap<string, StoredLink>;
  /** identifierKey → profile id written on the identity item as stored, expired or not. */
  readonly storedHolders: ReadonlyMap<string, { readonly profileId: string; readonly lastSeen: string }>;
  /** Live profiles involved, by id. */
  readonly profiles: ReadonlyMap<string, ProfileRecord>;
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
}

/** Everything one message changes, written atomically (all or nothing). */
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
}

export interface QuarantinedValue extends RejectedTrait {
  readonly at: string;
  readonly messageId: string;
  readonly profileId?: string;
  readonly source: string;
}

/** An un-merge to write: the rebuilt original, the new profile and where each moved event lived. */
export interface UnmergeCommit {
  readonly original: ProfileRecord;
  readonly kept: ProfileRecord;
  readonly split: ProfileRecord;
  readonly movedEvents: readonly StoredEvent[];
  readonly log: MergeLogEntry;
}

export interface ProfileStore {
  loadSnapshot(messageId: string, identifiers: readonly Identifier[], now: Date): Promise<IdentitySnapshot>;
  /** Throws ConcurrentUpdateError, DuplicateMessageError or SuppressedIdentityError. */
  commit(change: ReconcileCommit, now: Date): Promise<void>;
  findProfile(identifier: Identifier): Promise<ProfileRecord | undefined>;
  /** By profile id; a merged-away id resolves to its survivor. */
  getProfile(profileId: string): Promise<ProfileRecord | undefined>;
  /** Newest first, across the profile and every profile merged into it. */
  listEvents(profile: ProfileRecord, limit: number): Promise<StoredEvent[]>;
  listMergeLog(profile: ProfileRecord, limit: number): Promise<MergeLogEntry[]>;
  listQuarantine(limit: number): Promise<QuarantinedValue[]>;
  /**
   * Writes an un-merge: the new profile and its events first, then its identity links, then the
   * rebuilt original (guarded by its version), then removes the moved events from their old
   * partitions. Each step is idempotent, so a failed call can be repeated.
   */
  applyUnmerge(change: UnmergeCommit, now: Date): Promise<void>;
  /** Suppresses the identifiers first, then removes the profile, its tombstones, links, events and log. */
  eraseProfile(profile: ProfileRecord, now: Date): Promise<{ readonly eventsDeleted: number }>;
}
