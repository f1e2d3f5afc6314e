import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { identifierKey, type Identifier } from '../domain/identity/identifiers';
import { pseudonymOf, type Pseudonyms } from '../domain/identity/pseudonym';
import type { StoredLink } from '../domain/identity/resolution';
import type { IdentityLink, ProfileRecord } from '../domain/profile/profile';
import { PROFILE_LIMITS, dynamoItemSize } from '../domain/profile/limits';
import type { RejectedValue } from '../domain/profile/limits';
import { PoisonMessageError } from '../domain/shared/poison-message';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';
import {
  CommitTooLargeError,
  ConcurrentUpdateError,
  DuplicateMessageError,
  SuppressedIdentityError,
  type EventFilter,
  type EventPage,
  type IdentitySnapshot,
  type MergeLogEntry,
  type ProfileStore,
  type QuarantineEntry,
  type QuarantinedMessage,
  type QuarantinedValue,
  type ReconcileCommit,
  type ErasureProgress,
  type StoredEvent,
  type UnmergeCommit,
} from '../ports/profile-store';
import { InvalidCursorError } from '../ports/segment-store';
import { batchGetAll, batchWriteAll, queryAllItems, queryPages } from './dynamodb-toolkit';
import { identityKey } from './dynamodb-identity-key';
import { retiredScoresItem } from './dynamodb-score-store';
import { populationUpdates } from './dynamodb-attribution-store';
import { countOnce } from './dynamodb-report-counters';

export interface DynamoProfileStoreOptions {
  readonly tableName: string;
  /** Hot event history lifetime (DynamoDB TTL). */
  readonly eventTtlDays: number;
  /** Anonymous/device id links stop resolving (and expire) after this long unseen. */
  readonly lenientIdentifierLifetimeDays: number;
  readonly lenientTypes: readonly string[];
  /** Window in which a messageId counts once. */
  readonly dedupeWindowHours: number;
  /**
   * Keyed pseudonyms for erasure records (`SUP#`); without them (tools, tests) records use the
   * unkeyed SHA-256. Records are looked up under both forms either way (see pseudonym.ts).
   */
  readonly pseudonyms?: () => Promise<Pseudonyms>;
  /** Days quarantine entries are kept (90 by default). */
  readonly quarantineTtlDays?: number;
}

const DAY_MS = 86_400_000;
const MAX_TRANSACTION_ITEMS = 100;
/** A group's commit stays well below a transaction's 4 MB; a larger group is split (CommitTooLargeError). */
const MAX_GROUP_COMMIT_BYTES = 3_000_000;
/** One event page, compressed: far below an item's 400 KB, so a page plus its keys always fits. */
const MAX_EVENT_PAGE_BYTES = 300_000;
const MAX_TOMBSTONE_HOPS = 8;
/** Items a timeline cursor lists by key (about 100 bytes each); beyond, it names a range per partition. */
const MAX_LISTED_OPEN_ITEMS = 50;
const DEFAULT_QUARANTINE_TTL_DAYS = 90;
/**
 * The quarantine is spread over a few partitions (by message id) so that a flood of refused
 * values cannot make one partition hot; `QUARANTINE` (unsharded) holds entries of earlier versions.
 */
const QUARANTINE_SHARDS = 4;
const LEGACY_QUARANTINE_PARTITION = 'QUARANTINE';

function quarantineShard(messageId: string): number {
  let hash = 0;
  for (let index = 0; index < messageId.length; index += 1) hash = (hash * 31 + messageId.charCodeAt(index)) >>> 0;
  return hash % QUARANTINE_SHARDS;
}

/** Item keys of the single table (PARTITIONS in lib/definitions/functions.ts). Identifier values appear only as pseudonyms. */
export const keys = {
  profile: (profileId: string) => ({ PK: `P#${profileId}`, SK: 'PROFILE' }),
  identity: identityKey,
  /** An erasure record under one pseudonym of the identifier (see DynamoProfileStore.suppressionKeys). */
  suppression: (pseudonym: string) => ({ PK: `SUP#${pseudonym}`, SK: 'SUP' }),
  dedupe: (messageId: string) => ({ PK: `MSG#${messageId}`, SK: 'MSG' }),
  event: (profileId: string, message: AcceptedMessage) => ({ PK: `P#${profileId}`, SK: `E#${message.timestamp}#${message.messageId}` }),
  mergeLog: (profileId: string, at: string, messageId: string, index: number) => ({ PK: `P#${profileId}`, SK: `M#${at}#${messageId}#${index}` }),
  /** One entry; `part` tells the entries of one message apart (the index of a value, or `message`). */
  quarantine: (at: string, messageId: string, part: string) => ({ PK: `QUARANTINE#${quarantineShard(messageId)}`, SK: `${at}#${messageId}#${part}` }),
  /** Pointer from a survivor to a profile merged into it (every one, however many: erasure follows them). */
  mergedFrom: (survivorId: string, absorbedId: string) => ({ PK: `P#${survivorId}`, SK: `MF#${absorbedId}` }),
};

/**
 * Entries a message writes to the quarantine: at most PROFILE_LIMITS.maxQuarantinePerMessage, the
 * last one counting those left out (a flood of refused values stays a handful of small items).
 */
export function boundedQuarantine(rejected: readonly RejectedValue[]): RejectedValue[] {
  const max = PROFILE_LIMITS.maxQuarantinePerMessage;
  if (rejected.length <= max) return [...rejected];
  const reasons = [...new Set(rejected.slice(max - 1).map((entry) => entry.reason))];
  return [
    ...rejected.slice(0, max - 1),
    {
      trait: '*',
      reason: `${rejected.length - max + 1} more values refused (${reasons.slice(0, 3).join('; ')}${reasons.length > 3 ? '; ...' : ''})`,
      value: rejected.length - max + 1,
    },
  ];
}

const epochSeconds = (time: number): number => Math.floor(time / 1000);

/** The sort key of an event in its partition (`E#<time>#<messageId>`); a page is keyed by its newest. */
const eventSortKey = (message: AcceptedMessage): string => keys.event('', message).SK;
const compareEventKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The events an `E#` item holds: an event page (`events`, compressed JSON) or, written by earlier
 * versions, one event (`message`).
 */
function eventsOfItem(item: Item): StoredEvent[] {
  const profileId = (item.PK as string).slice(2);
  const page = item.SK as string;
  if (item.events instanceof Uint8Array) {
    const entries = JSON.parse(inflateRawSync(item.events).toString('utf8')) as Array<{ message: AcceptedMessage; reconciledAt?: string }>;
    return entries.map(({ message, reconciledAt }) => ({ profileId, message, ...(reconciledAt && { reconciledAt }), page }));
  }
  return [{ profileId, message: item.message as AcceptedMessage, ...(typeof item.reconciledAt === 'string' && { reconciledAt: item.reconciledAt }), page }];
}

/** An `E#` item read for a timeline: its partition, its key and its events that a page may show. */
interface EventItem {
  readonly profileId: string;
  readonly key: string;
  readonly events: readonly StoredEvent[];
}

const eventItem = (item: Item, matches: (event: StoredEvent) => boolean): EventItem => ({
  profileId: (item.PK as string).slice(2),
  key: item.SK as string,
  events: eventsOfItem(item).filter(matches),
});

/**
 * Where a timeline page stopped (see DynamoProfileStore.pageEvents): events sorting before `k`
 * remain; `o` lists the items (partition, key) keyed after `k` that hold some of them, or, when
 * there are more than MAX_LISTED_OPEN_ITEMS, `h` names per partition the newest such item (the
 * next page reads that partition from there down: more reads, a cursor that stays small); `t`
 * and `e` are the filter it was given for.
 */
const eventCursor = z.object({
  k: z.string().startsWith('E#'),
  o: z.array(z.tuple([z.string().min(1), z.string().startsWith('E#')])).max(MAX_LISTED_OPEN_ITEMS),
  h: z.record(z.string(), z.string().startsWith('E#')).optional(),
  t: z.string().optional(),
  e: z.string().optional(),
});
type EventCursor = z.infer<typeof eventCursor>;

const encodeEventCursor = (cursor: EventCursor): string => Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');

/** The next cursor after the event keyed `k`, given the items read keyed after it that still hold older events. */
function nextEventCursor(k: string, open: readonly EventItem[], filter: EventFilter): string {
  const given = { ...(filter.type && { t: filter.type }), ...(filter.event && { e: filter.event }) };
  if (open.length <= MAX_LISTED_OPEN_ITEMS) return encodeEventCursor({ k, o: open.map((item) => [item.profileId, item.key]), ...given });
  const newest = new Map<string, string>();
  for (const item of open) if (item.key > (newest.get(item.profileId) ?? '')) newest.set(item.profileId, item.key);
  return encodeEventCursor({ k, o: [], h: Object.fromEntries(newest), ...given });
}

/** A cursor this store gave for this filter, naming only partitions of the profile (never another person's events). */
function decodeEventCursor(cursor: string, filter: EventFilter, partitions: readonly string[]): EventCursor {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const parsed = eventCursor.safeParse(decoded);
  if (!parsed.success || parsed.data.t !== filter.type || parsed.data.e !== filter.event) throw new InvalidCursorError();
  const named = [...parsed.data.o.map(([profileId]) => profileId), ...Object.keys(parsed.data.h ?? {})];
  if (named.some((profileId) => !partitions.includes(profileId))) throw new InvalidCursorError();
  return parsed.data;
}

/** The newest key a page after `cursor` reads in a partition: the cursor's, or the top of the range it names there. */
function upperKey(cursor: EventCursor, profileId: string): string {
  const top = cursor.h?.[profileId];
  return top !== undefined && top > cursor.k ? top : cursor.k;
}

export type Item = Record<string, unknown>;

export function toProfile(item: Item): ProfileRecord {
  const { PK: _pk, SK: _sk, ...profile } = item;
  return profile as unknown as ProfileRecord;
}

/**
 * Events keep the numbers they were sent with: one beyond ±2^53 (a 19-digit order id sent as a
 * number) is stored as the double JSON.parse read, and read back as a number, not a BigInt. Without
 * this such an event could never be written (the marshaller throws): a poison message.
 */
const PROFILE_STORE_TRANSLATION = {
  marshallOptions: { removeUndefinedValues: true, allowImpreciseNumbers: true },
  unmarshallOptions: { wrapNumbers: (value: string): number => Number(value) },
};

/**
 * A document client that always uses its own translation options. `DynamoDBDocumentClient.from`
 * stores them on the config it shares with the base client, so another document client made from
 * the same DynamoDBClient (the stores of one function share it) silently replaces them; they are
 * set again, synchronously, before each command resolves its middleware.
 */
function ownDocumentClient(client: DynamoDBClient, translateConfig: typeof PROFILE_STORE_TRANSLATION): DynamoDBDocumentClient {
  const doc = DynamoDBDocumentClient.from(client, translateConfig);
  const prototype = Object.getPrototypeOf(doc) as { send: (...args: unknown[]) => unknown };
  doc.send = ((...args: unknown[]) => {
    doc.config.translateConfig = translateConfig;
    // Looked up on each call, not captured: a test double replacing the class's `send` still sees the calls.
    return prototype.send.apply(doc, args);
  }) as DynamoDBDocumentClient['send'];
  return doc;
}

/** The Profiles table as the ProfileStore port: transactions guard every multi-item change. */
export class DynamoProfileStore implements ProfileStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly options: DynamoProfileStoreOptions,
  ) {
    this.doc = ownDocumentClient(client, PROFILE_STORE_TRANSLATION);
  }

  /** Every key an erasure record of the identifier may have: keyed first, then the legacy unkeyed one. */
  private async suppressionKeys(identifier: Identifier): Promise<Array<{ PK: string; SK: string }>> {
    const pseudonyms = await this.options.pseudonyms?.();
    return (pseudonyms ? pseudonyms.lookups(identifier) : [pseudonymOf(identifier)]).map(keys.suppression);
  }

  async loadSnapshot(messageIds: readonly string[], identifiers: readonly Identifier[], now: Date): Promise<IdentitySnapshot> {
    const suppressionKeys = await Promise.all(identifiers.map((identifier) => this.suppressionKeys(identifier)));
    const requested = [...messageIds.map(keys.dedupe), ...identifiers.map(keys.identity), ...suppressionKeys.flat()];
    const items = await this.batchGet(requested);
    const byKey = new Map(items.map((item) => [`${item.PK as string}|${item.SK as string}`, item]));
    const find = (key: { PK: string; SK: string }): Item | undefined => byKey.get(`${key.PK}|${key.SK}`);

    const storedHolders = new Map<string, { profileId: string; lastSeen: string }>();
    for (const identifier of identifiers) {
      const item = find(keys.identity(identifier));
      if (item) storedHolders.set(identifierKey(identifier), { profileId: item.profileId as string, lastSeen: item.lastSeen as string });
    }
    const profiles = await this.resolveProfiles([...new Set([...storedHolders.values()].map((h) => h.profileId))]);
    const lifetimeStart = new Date(now.getTime() - this.options.lenientIdentifierLifetimeDays * DAY_MS).toISOString();
    const links = new Map<string, StoredLink>();
    for (const identifier of identifiers) {
      const stored = storedHolders.get(identifierKey(identifier));
      if (!stored) continue;
      if (this.options.lenientTypes.includes(identifier.type) && stored.lastSeen < lifetimeStart) continue;
      const live = profiles.resolved.get(stored.profileId);
      if (live) links.set(identifierKey(identifier), { profileId: live, lastSeen: stored.lastSeen });
    }
    const marked = new Map<string, string | undefined>();
    for (const messageId of messageIds) {
      const marker = find(keys.dedupe(messageId));
      if (marker) marked.set(messageId, typeof marker.profileId === 'string' ? marker.profileId : undefined);
    }
    return {
      marked,
      lenientLinks: { types: this.options.lenientTypes, seenSince: lifetimeStart },
      suppressed: identifiers.filter((_identifier, index) => (suppressionKeys[index] ?? []).some((key) => find(key) !== undefined)),
      links,
      storedHolders,
      profiles: profiles.live,
    };
  }

  /** Loads profiles by id, following tombstones (`mergedInto`) to the live survivor. */
  private async resolveProfiles(profileIds: readonly string[]): Promise<{ resolved: Map<string, string>; live: Map<string, ProfileRecord> }> {
    const resolved = new Map<string, string>();
    const live = new Map<string, ProfileRecord>();
    const pointers = new Map<string, string>();
    let pending = [...profileIds];
    for (let hop = 0; hop < MAX_TOMBSTONE_HOPS && pending.length > 0; hop += 1) {
      const items = await this.batchGet(pending.map(keys.profile));
      const next: string[] = [];
      for (const item of items) {
        const profile = toProfile(item);
        if (item.erasedAt !== undefined) continue;
        if (profile.mergedInto) {
          pointers.set(profile.profileId, profile.mergedInto);
          if (!live.has(profile.mergedInto) && !pointers.has(profile.mergedInto)) next.push(profile.mergedInto);
        } else {
          live.set(profile.profileId, profile);
        }
      }
      pending = [...new Set(next)];
    }
    for (const start of profileIds) {
      let current: string | undefined = start;
      for (let hop = 0; current && hop <= MAX_TOMBSTONE_HOPS; hop += 1) {
        if (live.has(current)) {
          resolved.set(start, current);
          break;
        }
        current = pointers.get(current);
      }
    }
    return { resolved, live };
  }

  private batchGet(requested: ReadonlyArray<{ PK: string; SK: string }>): Promise<Item[]> {
    return batchGetAll(this.doc, this.options.tableName, requested, { consistentRead: true, parallel: false });
  }

  /** An identity link item; lenient identifiers (cookies, devices) expire when unseen for their lifetime. */
  private identityItem(link: IdentityLink, profileId: string): Item {
    const lenient = this.options.lenientTypes.includes(link.type);
    return {
      ...keys.identity(link),
      profileId,
      idType: link.type,
      firstSeen: link.firstSeen,
      lastSeen: link.lastSeen,
      ...(lenient && { expiresAt: epochSeconds(Date.parse(link.lastSeen)) + this.options.lenientIdentifierLifetimeDays * 86_400 }),
    };
  }

  async commit(changes: readonly ReconcileCommit[], now: Date): Promise<void> {
    const table = this.options.tableName;
    const nowMs = now.getTime();
    const at = now.toISOString();
    type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
    type Guard = Pick<NonNullable<TransactItem['Put']>, 'ConditionExpression' | 'ExpressionAttributeValues'>;
    type Kind = 'dedupe' | 'suppression' | 'other';
    /**
     * The group's writes collapsed per item: the last state written, under the condition of the
     * first write (the state read before the group). Sequential commits would write the same.
     */
    const writes = new Map<string, { kind: Kind; item: Item; guard: Guard | undefined; messageId?: string }>();
    const write = (kind: Kind, item: Item, guard?: Guard, messageId?: string): void => {
      const key = `${item.PK as string}|${item.SK as string}`;
      const first = writes.get(key);
      writes.set(key, { kind, item, guard: first ? first.guard : guard, ...(messageId && { messageId }) });
    };
    const checks = new Map<string, { PK: string; SK: string }>();
    const eventsByPartition = new Map<string, StoredEvent[]>();
    /** identifierKey → whether the group's last word on the link is a release (deleted after the commit). */
    const released = new Map<string, { link: IdentityLink; group: readonly string[] } | undefined>();

    for (const change of changes) {
      const { message, profile } = change;
      if (change.markedByItem) {
        write(
          'dedupe',
          { ...keys.dedupe(message.messageId), profileId: profile.profileId, expiresAt: epochSeconds(nowMs + this.options.dedupeWindowHours * 3_600_000) },
          { ConditionExpression: 'attribute_not_exists(PK)' },
          message.messageId,
        );
      }
      // Identifiers new to the graph are checked against an erasure since the snapshot here; those
      // already linked are covered by the profile version, which an erasure bumps before deleting
      // anything. Only the keyed record: erasures write no other, and older (unkeyed) records were
      // read with the snapshot. Each check costs two write units.
      for (const { link } of change.linkWrites.filter((linkWrite) => linkWrite.previousProfileId === undefined)) {
        const [key] = await this.suppressionKeys(link);
        if (key) checks.set(`${key.PK}|${key.SK}`, key);
      }
      write(
        'other',
        { ...keys.profile(profile.profileId), ...profile },
        change.expectedVersion === undefined
          ? { ConditionExpression: 'attribute_not_exists(PK)' }
          : {
              ConditionExpression: 'version = :expected AND attribute_not_exists(mergedInto)',
              ExpressionAttributeValues: { ':expected': change.expectedVersion },
            },
      );
      for (const { profile: absorbed } of change.absorbed) {
        write(
          'other',
          {
            ...keys.profile(absorbed.profileId),
            profileId: absorbed.profileId,
            version: absorbed.version + 1,
            createdAt: absorbed.createdAt,
            updatedAt: at,
            mergedInto: profile.profileId,
            identities: absorbed.identities,
            // Erasure follows these (with the MF# pointers) to every partition of the group.
            mergedFrom: absorbed.mergedFrom,
            ...(absorbed.mergedFromCount !== undefined && { mergedFromCount: absorbed.mergedFromCount }),
          },
          { ConditionExpression: 'version = :expected AND attribute_not_exists(mergedInto)', ExpressionAttributeValues: { ':expected': absorbed.version } },
        );
        write('other', { ...keys.mergedFrom(profile.profileId, absorbed.profileId), profileId: absorbed.profileId, mergedAt: at });
      }
      for (const { link, previousProfileId } of change.linkWrites) {
        write(
          'other',
          this.identityItem(link, profile.profileId),
          previousProfileId === undefined
            ? { ConditionExpression: 'attribute_not_exists(PK)' }
            : { ConditionExpression: 'profileId = :previous', ExpressionAttributeValues: { ':previous': previousProfileId } },
        );
        released.set(identifierKey(link), undefined);
      }
      for (const { link } of change.linkReleases) released.set(identifierKey(link), { link, group: [profile.profileId, ...profile.mergedFrom] });
      const events = eventsByPartition.get(profile.profileId) ?? [];
      events.push({ profileId: profile.profileId, message, reconciledAt: at });
      eventsByPartition.set(profile.profileId, events);
      for (const [index, entry] of change.mergeLog.entries())
        write('other', { ...keys.mergeLog(profile.profileId, entry.at, entry.messageId, index), ...entry });
      boundedQuarantine(change.quarantine).forEach((rejected, index) => {
        const entry: QuarantinedValue = { ...rejected, at, messageId: message.messageId, profileId: profile.profileId, source: message.type };
        write('other', {
          ...keys.quarantine(entry.at, entry.messageId, String(index)),
          ...entry,
          expiresAt: epochSeconds(nowMs + (this.options.quarantineTtlDays ?? DEFAULT_QUARANTINE_TTL_DAYS) * DAY_MS),
        });
      });
    }
    for (const [profileId, events] of eventsByPartition) for (const page of this.eventPages(profileId, events)) write('other', page);

    // Live profiles per control-group bucket: one more for each profile created, one fewer for each absorbed.
    const population = new Map<string, number>();
    for (const change of changes) {
      if (change.expectedVersion === undefined) population.set(change.profile.profileId, (population.get(change.profile.profileId) ?? 0) + 1);
      for (const { profile: absorbed } of change.absorbed) population.set(absorbed.profileId, (population.get(absorbed.profileId) ?? 0) - 1);
    }
    const items: Array<{ kind: Kind; item: TransactItem; messageId?: string }> = [
      ...populationUpdates(table, population).map((item) => ({ kind: 'other' as const, item })),
      ...[...writes.values()].map(({ kind, item, guard, messageId }) => ({
        kind,
        item: { Put: { TableName: table, Item: item, ...guard } },
        ...(messageId && { messageId }),
      })),
      ...[...checks.values()].map((Key) => ({
        kind: 'suppression' as const,
        item: { ConditionCheck: { TableName: table, Key, ConditionExpression: 'attribute_not_exists(PK)' } },
      })),
    ];
    const bytes = [...writes.values()].reduce((total, { item }) => total + dynamoItemSize(item), 0);
    // The caps (functions/domain/profile/limits.ts) keep one message far below these; a group is split.
    if (items.length > MAX_TRANSACTION_ITEMS || (changes.length > 1 && bytes > MAX_GROUP_COMMIT_BYTES)) {
      const detail = `${changes.length} message(s) would change ${items.length} items (${Math.round(bytes / 1024)} KiB) in one transaction (limit ${MAX_TRANSACTION_ITEMS})`;
      if (changes.length === 1)
        throw new PoisonMessageError(`the message would change ${items.length} items in one transaction (limit ${MAX_TRANSACTION_ITEMS})`);
      throw new CommitTooLargeError(detail);
    }

    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items.map((entry) => entry.item) }));
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      // An item refused by a DynamoDB limit fails every attempt: not a race (see failure-classification.ts).
      if (reasons.some((reason) => reason.Code === 'ValidationError')) throw error;
      const failedAt = (kind: Kind): number => reasons.findIndex((reason, index) => reason.Code === 'ConditionalCheckFailed' && items[index]?.kind === kind);
      const duplicate = failedAt('dedupe');
      if (duplicate >= 0) throw new DuplicateMessageError(items[duplicate]?.messageId ?? 'unknown');
      if (failedAt('suppression') >= 0) throw new SuppressedIdentityError();
      throw new ConcurrentUpdateError(reasons.map((r) => r.Code ?? 'None').join(','));
    }
    await this.releaseLinks([...released.values()].filter((release) => release !== undefined));
  }

  /**
   * The events one commit adds to a profile's partition, as event pages: the events JSON,
   * compressed, in as few items as fit (one for a session's worth). A page's sort key is that of
   * its newest event, so every event of a page sorts at or before its page.
   */
  private eventPages(profileId: string, events: readonly StoredEvent[]): Item[] {
    const sorted = [...events].sort((a, b) => compareEventKeys(eventSortKey(a.message), eventSortKey(b.message)));
    const pages = (entries: readonly StoredEvent[]): Item[] => {
      const newest = (entries[entries.length - 1] as StoredEvent).message;
      const item = this.eventPageItem(keys.event(profileId, newest), entries);
      if ((item.events as Uint8Array).byteLength <= MAX_EVENT_PAGE_BYTES || entries.length === 1) return [item];
      const half = Math.ceil(entries.length / 2);
      return [...pages(entries.slice(0, half)), ...pages(entries.slice(half))];
    };
    return sorted.length > 0 ? pages(sorted) : [];
  }

  /** An event page under `key` holding `entries` (oldest first). */
  private eventPageItem(key: { PK: string; SK: string }, entries: readonly StoredEvent[]): Item {
    const newest = (entries[entries.length - 1] as StoredEvent).message;
    return {
      ...key,
      events: deflateRawSync(JSON.stringify(entries.map(({ message, reconciledAt }) => ({ message, ...(reconciledAt && { reconciledAt }) })))),
      count: entries.length,
      oldest: (entries[0] as StoredEvent).message.timestamp,
      // The newest event's retention: a page goes as a whole (a late event is kept as long as its page).
      expiresAt: epochSeconds(Date.parse(newest.timestamp) + this.options.eventTtlDays * DAY_MS),
    };
  }

  /**
   * The write that takes `messageIds` out of an event page: the page rewritten with the others
   * (same key), or deleted when none is left; undefined when the page holds none of them.
   */
  private withoutEvents(item: Item, messageIds: ReadonlySet<string>): { Put: Item } | { Delete: { PK: string; SK: string } } | undefined {
    const events = eventsOfItem(item);
    const remaining = events.filter((event) => !messageIds.has(event.message.messageId));
    if (remaining.length === events.length) return undefined;
    const key = { PK: item.PK as string, SK: item.SK as string };
    if (remaining.length === 0) return { Delete: key };
    return {
      Put: this.eventPageItem(
        key,
        remaining.sort((a, b) => compareEventKeys(eventSortKey(a.message), eventSortKey(b.message))),
      ),
    };
  }

  /**
   * Released identifiers left the profile in the transaction; their identity items go now, only
   * where they still point into the profile's group. A crash before this leaves an item that
   * merely re-links the identifier if it is ever seen again.
   */
  private async releaseLinks(releases: ReadonlyArray<{ readonly link: IdentityLink; readonly group: readonly string[] }>): Promise<void> {
    for (const { link, group } of releases) {
      const values = Object.fromEntries(group.slice(0, 100).map((id, index) => [`:p${index}`, id]));
      await this.doc
        .send(
          new DeleteCommand({
            TableName: this.options.tableName,
            Key: keys.identity(link),
            ConditionExpression: `profileId IN (${Object.keys(values).join(', ')})`,
            ExpressionAttributeValues: values,
          }),
        )
        .catch((error: unknown) => {
          if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
        });
    }
  }

  async findProfile(identifier: Identifier): Promise<ProfileRecord | undefined> {
    const link = await this.doc.send(new GetCommand({ TableName: this.options.tableName, Key: keys.identity(identifier), ConsistentRead: true }));
    const profileId = link.Item?.profileId as string | undefined;
    return profileId ? this.getProfile(profileId) : undefined;
  }

  /** The live profile of each id (a merged-away id maps to its survivor), read together; erased ones are absent. */
  async getProfiles(profileIds: readonly string[]): Promise<Map<string, ProfileRecord>> {
    const { resolved, live } = await this.resolveProfiles([...new Set(profileIds)]);
    const found = new Map<string, ProfileRecord>();
    for (const [id, liveId] of resolved) {
      const profile = live.get(liveId);
      if (profile) found.set(id, profile);
    }
    return found;
  }

  async getProfile(profileId: string): Promise<ProfileRecord | undefined> {
    const { resolved, live } = await this.resolveProfiles([profileId]);
    const liveId = resolved.get(profileId);
    return liveId ? live.get(liveId) : undefined;
  }

  private async queryPartition(partition: string, prefix: string, limit: number): Promise<Item[]> {
    const found: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.options.tableName,
          ...(prefix === ''
            ? { KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': partition } }
            : { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)', ExpressionAttributeValues: { ':pk': partition, ':prefix': prefix } }),
          ScanIndexForward: false,
          Limit: Math.min(limit - found.length, 1000),
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      found.push(...((page.Items ?? []) as Item[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey && found.length < limit);
    return found;
  }

  /** Items of a prefix across the profile's own partition and those of profiles merged into it, newest first. */
  private async queryProfileItems(profile: ProfileRecord, prefix: string, limit: number): Promise<Item[]> {
    const partitions = [profile.profileId, ...profile.mergedFrom];
    const pages = await Promise.all(partitions.map((id) => this.queryPartition(`P#${id}`, prefix, limit)));
    return pages
      .flat()
      .sort((a, b) => ((a.SK as string) < (b.SK as string) ? 1 : -1))
      .slice(0, limit);
  }

  async listEvents(profile: ProfileRecord, limit: number): Promise<StoredEvent[]> {
    return [...(await this.pageEvents(profile, { limit })).events];
  }

  /**
   * Exact paging. A page is the newest `limit` matching events sorting before the cursor's key `k`
   * (event keys are unique: time, then message id). An item's key is that of its newest event, so
   * such an event lives either in an item keyed at or before `k`, read newest first by a query
   * bounded by `k`, or in an item keyed after `k` that holds older events too (a late event written
   * with newer ones): the cursor lists those (`o`), found among the items the previous page read,
   * or when they are many, a partition is read from the newest of them down (`h`).
   * Each partition is read until `limit + 1` of its events are known to be its newest (see
   * `eventItemsBefore`); the one beyond the page tells whether a next page exists, and every item
   * left unread is keyed before the page's last event, so the next query finds it.
   */
  async pageEvents(
    profile: ProfileRecord,
    { limit, cursor, filter = {} }: { readonly limit: number; readonly cursor?: string; readonly filter?: EventFilter },
  ): Promise<EventPage> {
    const partitions = [profile.profileId, ...profile.mergedFrom];
    const from = cursor === undefined ? undefined : decodeEventCursor(cursor, filter, partitions);
    const matches = (event: StoredEvent): boolean =>
      (from === undefined || eventSortKey(event.message) < from.k) &&
      (filter.type === undefined || event.message.type === filter.type) &&
      (filter.event === undefined || event.message.event === filter.event);
    const [read, listed] = await Promise.all([
      Promise.all(partitions.map((profileId) => this.eventItemsBefore(profileId, from && upperKey(from, profileId), limit + 1, matches))),
      // Listed items inside a range the query reads anyway are not read twice.
      this.batchGet(
        (from?.o ?? []).filter(([profileId, SK]) => from && SK > upperKey(from, profileId)).map(([profileId, SK]) => ({ PK: `P#${profileId}`, SK })),
      ),
    ]);
    const items = [...read.flat(), ...listed.map((item) => eventItem(item, matches))];
    const events = items.flatMap((item) => item.events).sort((a, b) => compareEventKeys(eventSortKey(b.message), eventSortKey(a.message)));
    const page = events.slice(0, limit);
    const last = page[limit - 1];
    if (events.length <= limit || last === undefined) return { events: page };
    const k = eventSortKey(last.message);
    const open = items.filter((item) => item.key > k && item.events.some((event) => eventSortKey(event.message) < k));
    return { events: page, next: nextEventCursor(k, open, filter) };
  }

  /**
   * Event items of one partition keyed at or before `last` (all when undefined), newest first,
   * with their events that match. Every event of an item sorts at or before its key, so once `need`
   * matching events sort at or after the key of the item just read, no later item holds a newer one.
   */
  private async eventItemsBefore(profileId: string, last: string | undefined, need: number, matches: (event: StoredEvent) => boolean): Promise<EventItem[]> {
    const read: EventItem[] = [];
    const pages = queryPages(this.doc, {
      TableName: this.options.tableName,
      // 'E$' follows every 'E#...' key; BETWEEN is inclusive: the item keyed `last` may hold older events.
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :first AND :last',
      ExpressionAttributeValues: { ':pk': `P#${profileId}`, ':first': 'E#', ':last': last ?? 'E$' },
      ScanIndexForward: false,
      Limit: 25,
    });
    for await (const items of pages) {
      read.push(...items.map((item) => eventItem(item, matches)));
      const lastKey = items[items.length - 1]?.SK as string | undefined;
      if (lastKey !== undefined && read.flatMap((item) => item.events).filter((event) => eventSortKey(event.message) >= lastKey).length >= need) break;
    }
    return read;
  }

  async listMergeLog(profile: ProfileRecord, limit: number): Promise<MergeLogEntry[]> {
    const items = await this.queryProfileItems(profile, 'M#', limit);
    return items.map(({ PK: _pk, SK: _sk, ...entry }) => entry as unknown as MergeLogEntry);
  }

  async listQuarantine(limit: number): Promise<QuarantineEntry[]> {
    const partitions = [LEGACY_QUARANTINE_PARTITION, ...Array.from({ length: QUARANTINE_SHARDS }, (_, shard) => `QUARANTINE#${shard}`)];
    const pages = await Promise.all(partitions.map((partition) => this.queryPartition(partition, '', limit)));
    return pages
      .flat()
      .sort((a, b) => ((a.SK as string) < (b.SK as string) ? 1 : -1))
      .slice(0, limit)
      .map(({ PK: _pk, SK: _sk, expiresAt: _ttl, ...entry }) => entry as unknown as QuarantineEntry);
  }

  async quarantineMessage(entry: QuarantinedMessage): Promise<void> {
    const key = keys.quarantine(entry.at, entry.messageId ?? entry.sqsMessageId, `message#${entry.sqsMessageId}`);
    await this.doc.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: { ...key, ...entry, expiresAt: epochSeconds(Date.parse(entry.at)) + (this.options.quarantineTtlDays ?? DEFAULT_QUARANTINE_TTL_DAYS) * 86_400 },
      }),
    );
  }

  private batchWrite(requests: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    return batchWriteAll(this.doc, this.options.tableName, requests);
  }

  /**
   * Un-merge as one commit point (ProfileStore.applyUnmerge): the moved events are copied first
   * into the new profile's partition, where nothing can see them until the commit creates the
   * profile and points its identities there; the commit is one transaction guarded by the
   * original's version and by the holder of every re-pointed identity link; the moved events'
   * old copies go in that transaction when they fit, else after it under a journal item that
   * `finishUnmerges` completes if this call dies. An event history can be far larger than a
   * transaction's 100 items, so it cannot be one transaction in general.
   */
  async applyUnmerge(change: UnmergeCommit, now: Date): Promise<void> {
    const table = this.options.tableName;
    const { split, kept, original } = change;
    type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
    const at = now.toISOString();

    // The holder of each identity to re-point, as read now: the commit fails if any changes meanwhile.
    const holders = new Map((await this.batchGet(split.identities.map(keys.identity))).map((item) => [item.PK as string, item.profileId as string]));

    // The pages the moved events are in, and which of their events move.
    const sources = new Map<string, { key: { PK: string; SK: string }; events: StoredEvent[] }>();
    for (const event of change.movedEvents) {
      const key = { PK: `P#${event.profileId}`, SK: event.page ?? eventSortKey(event.message) };
      const source = sources.get(`${key.PK}|${key.SK}`) ?? { key, events: [] };
      source.events.push(event);
      sources.set(`${key.PK}|${key.SK}`, source);
    }

    // 1. Stage the copies, a page per source page; each names its source (`movedFrom`, `movedFromPage`) for the clean-up.
    const copies = [...sources.values()].flatMap(({ key, events }) =>
      this.eventPages(split.profileId, events).map((page): Item => ({ ...page, movedFrom: key.PK.slice(2), movedFromPage: key.SK })),
    );
    const discardCopies = (): Promise<void> => this.batchWrite(copies.map(({ PK, SK }) => ({ DeleteRequest: { Key: { PK, SK } } }))).catch(() => undefined);
    try {
      await this.batchWrite(copies.map((Item) => ({ PutRequest: { Item } })));
    } catch (error) {
      await discardCopies();
      throw error;
    }

    // 2. The commit point.
    const items: TransactItem[] = [
      {
        Put: {
          TableName: table,
          Item: { ...keys.profile(kept.profileId), ...kept },
          ConditionExpression: 'version = :expected AND attribute_not_exists(mergedInto)',
          ExpressionAttributeValues: { ':expected': original.version },
        },
      },
      { Put: { TableName: table, Item: { ...keys.profile(split.profileId), ...split }, ConditionExpression: 'attribute_not_exists(PK)' } },
      ...populationUpdates(table, new Map([[split.profileId, 1]])),
      ...split.identities.map((link): TransactItem => {
        const item = this.identityItem(link, split.profileId);
        const holder = holders.get(item.PK as string);
        return {
          Put: {
            TableName: table,
            Item: item,
            ...(holder === undefined
              ? { ConditionExpression: 'attribute_not_exists(PK)' }
              : { ConditionExpression: 'profileId = :holder', ExpressionAttributeValues: { ':holder': holder } }),
          },
        };
      }),
      { Put: { TableName: table, Item: { ...keys.mergeLog(kept.profileId, at, change.log.messageId, 0), ...change.log, otherProfileId: split.profileId } } },
      { Put: { TableName: table, Item: { ...keys.mergeLog(split.profileId, at, change.log.messageId, 0), ...change.log, otherProfileId: kept.profileId } } },
    ];
    // Source pages are only ever rewritten by an un-merge (reconcile adds new pages), which the profile version serializes.
    const inline = items.length + sources.size <= MAX_TRANSACTION_ITEMS;
    if (inline) {
      const stored = await this.batchGet([...sources.values()].map(({ key }) => key));
      for (const item of stored) {
        const moved = new Set((sources.get(`${item.PK as string}|${item.SK as string}`)?.events ?? []).map((event) => event.message.messageId));
        const rewrite = this.withoutEvents(item, moved);
        if (rewrite && 'Put' in rewrite) items.push({ Put: { TableName: table, Item: rewrite.Put } });
        else if (rewrite) items.push({ Delete: { TableName: table, Key: rewrite.Delete } });
      }
    } else {
      items.push({
        Put: {
          TableName: table,
          Item: { ...this.unmergeJournalKey(kept.profileId, split.profileId), splitProfileId: split.profileId, at, eventsMoved: change.movedEvents.length },
        },
      });
    }
    if (items.length > MAX_TRANSACTION_ITEMS) {
      await discardCopies();
      throw new Error(`an un-merge of ${split.identities.length} identities does not fit in one transaction`);
    }
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        await discardCopies();
        const reasons = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None').join(',');
        throw new ConcurrentUpdateError(`profile or identity changed during un-merge (${reasons})`);
      }
      // Whether it committed is unknown: a committed journal is finished later; uncommitted copies
      // stay invisible and expire with the event TTL.
      throw error;
    }

    // 3. Clean up after the commit (resumable through the journal item).
    if (!inline) await this.removeMovedOriginals(kept.profileId, split.profileId);
  }

  /** Journal of a committed un-merge whose old event copies are not all deleted yet. */
  private unmergeJournalKey(keptProfileId: string, splitProfileId: string): { PK: string; SK: string } {
    return { PK: `P#${keptProfileId}`, SK: `UNMERGE#${splitProfileId}` };
  }

  async finishUnmerges(profileId: string): Promise<Array<{ splitProfileId: string; eventsMoved: number }>> {
    const journals = await this.queryPartition(`P#${profileId}`, 'UNMERGE#', 1_000);
    const finished: Array<{ splitProfileId: string; eventsMoved: number }> = [];
    for (const journal of journals) {
      const splitProfileId = journal.splitProfileId as string;
      finished.push({ splitProfileId, eventsMoved: await this.removeMovedOriginals(profileId, splitProfileId) });
    }
    return finished;
  }

  /**
   * Takes the events an un-merge moved into `splitProfileId` out of their source pages (each copy
   * names its source), then deletes the journal item. Idempotent: a repeated run finds them gone.
   */
  private async removeMovedOriginals(keptProfileId: string, splitProfileId: string): Promise<number> {
    const moved = new Map<string, { key: { PK: string; SK: string }; messageIds: Set<string> }>();
    const copies = await queryAllItems(this.doc, {
      TableName: this.options.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :events)',
      FilterExpression: 'attribute_exists(movedFrom)',
      ExpressionAttributeValues: { ':pk': `P#${splitProfileId}`, ':events': 'E#' },
      ConsistentRead: true,
    });
    for (const copy of copies) {
      // Copies staged by earlier versions were single events keyed like their source.
      const key = { PK: `P#${copy.movedFrom as string}`, SK: typeof copy.movedFromPage === 'string' ? copy.movedFromPage : (copy.SK as string) };
      const source = moved.get(`${key.PK}|${key.SK}`) ?? { key, messageIds: new Set<string>() };
      for (const event of eventsOfItem(copy)) source.messageIds.add(event.message.messageId);
      moved.set(`${key.PK}|${key.SK}`, source);
    }
    const sources = new Map(
      (await this.batchGet([...moved.values()].map(({ key }) => key))).map((item) => [`${item.PK as string}|${item.SK as string}`, item]),
    );
    const rewrites = [...moved].flatMap(([id, { messageIds }]) => {
      const stored = sources.get(id);
      const rewrite = stored ? this.withoutEvents(stored, messageIds) : undefined;
      if (!rewrite) return [];
      return ['Put' in rewrite ? { PutRequest: { Item: rewrite.Put } } : { DeleteRequest: { Key: rewrite.Delete } }];
    });
    await this.batchWrite(rewrites);
    await this.doc.send(new DeleteCommand({ TableName: this.options.tableName, Key: this.unmergeJournalKey(keptProfileId, splitProfileId) }));
    return [...moved.values()].reduce((total, { messageIds }) => total + messageIds.size, 0);
  }

  /** The suppression records of identifiers: erased under the keyed pseudonym only (no unkeyed hash of an erased identifier is written). */
  private async suppress(identifiers: ReadonlyArray<Identifier>, jobId: string, now: Date): Promise<void> {
    for (const identifier of identifiers) {
      const [key] = await this.suppressionKeys(identifier);
      await this.doc.send(
        new PutCommand({ TableName: this.options.tableName, Item: { ...key, idType: identifier.type, suppressedAt: now.toISOString(), erasureJobId: jobId } }),
      );
    }
  }

  async beginErasure(profileId: string, jobId: string, now: Date): Promise<{ readonly identitiesSuppressed: number } | undefined> {
    const table = this.options.tableName;
    const { Item } = await this.doc.send(new GetCommand({ TableName: table, Key: keys.profile(profileId), ConsistentRead: true }));
    if (!Item) return undefined;
    const profile = toProfile(Item);
    // 1. Suppress: no message can link these identifiers to a new profile from now on.
    await this.suppress(profile.identities, jobId, now);
    // 2. Mark erased and bump the version: reads stop finding the profile, and a message applied
    //    concurrently to the old version fails its commit, retries, and finds its identifiers
    //    suppressed. Identifiers linked just before the bump are read back and suppressed too.
    const marked = await this.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: keys.profile(profileId),
        UpdateExpression: 'SET erasedAt = if_not_exists(erasedAt, :now), erasureJobId = :job, version = version + :one',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':now': now.toISOString(), ':job': jobId, ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    // The erased profile leaves its control-group bucket's population, once whatever the retries:
    // the marker sits with the job (it must not name the profile), and expires after any retry.
    await countOnce(this.doc, [
      {
        Put: {
          TableName: table,
          Item: { PK: `ERASURE#${jobId}`, SK: 'POPULATION', at: now.toISOString(), expiresAt: epochSeconds(now.getTime() + 400 * DAY_MS) },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      ...populationUpdates(table, new Map([[profileId, -1]])),
    ]);
    const latest = marked.Attributes ? toProfile(marked.Attributes) : profile;
    const known = new Set(profile.identities.map(identifierKey));
    await this.suppress(
      latest.identities.filter((link) => !known.has(identifierKey(link))),
      jobId,
      now,
    );
    return { identitiesSuppressed: latest.identities.length };
  }

  async erasureJobOf(identifier: Identifier): Promise<string | undefined> {
    const items = await this.batchGet(await this.suppressionKeys(identifier));
    const jobId = items.find((item) => typeof item.erasureJobId === 'string')?.erasureJobId;
    return typeof jobId === 'string' ? jobId : undefined;
  }

  /**
   * Every partition of the group: `mergedFrom` keeps only the newest merged profiles, so the walk
   * also follows the MF# pointer items and the tombstones' own lists found in each partition.
   * Breadth first from the survivor: a profile comes after the one it was merged into.
   */
  private async erasureGroup(profileId: string, mergedFrom: readonly string[]): Promise<string[]> {
    const group = [profileId];
    const seen = new Set(group);
    const pending = [profileId, ...mergedFrom.filter((id) => !seen.has(id))];
    for (const id of mergedFrom) {
      if (!seen.has(id)) {
        seen.add(id);
        group.push(id);
      }
    }
    for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
      const [pointers, [profileItem]] = await Promise.all([
        this.queryPartition(`P#${next}`, 'MF#', Number.MAX_SAFE_INTEGER),
        this.batchGet([keys.profile(next)]),
      ]);
      const members = [...pointers.map((item) => item.profileId), ...(profileItem && Array.isArray(profileItem.mergedFrom) ? profileItem.mergedFrom : [])];
      for (const member of members) {
        if (typeof member === 'string' && !seen.has(member)) {
          seen.add(member);
          group.push(member);
          pending.push(member);
        }
      }
    }
    return group;
  }

  async eraseProfileData(profileId: string, now: Date, hasTime: () => boolean): Promise<ErasureProgress> {
    const table = this.options.tableName;
    const { Item } = await this.doc.send(new GetCommand({ TableName: table, Key: keys.profile(profileId), ConsistentRead: true }));
    if (!Item) return { eventsDeleted: 0, profileIds: [profileId], done: true };
    const profile = toProfile(Item);
    for (const { type, value } of profile.identities) {
      await this.doc
        .send(
          new DeleteCommand({
            TableName: table,
            Key: keys.identity({ type, value }),
            ConditionExpression: 'profileId = :profile',
            ExpressionAttributeValues: { ':profile': profileId },
          }),
        )
        .catch((error: unknown) => {
          if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
        });
    }
    const group = await this.erasureGroup(profileId, profile.mergedFrom);
    let eventsDeleted = 0;
    // The deepest merged profiles first and the survivor's own items last: an interrupted walk
    // finds the rest again from the pointers still in place. Each call erases one partition at least.
    for (const [position, next] of [...group].reverse().entries()) {
      if (position > 0 && !hasTime()) return { eventsDeleted, profileIds: group, done: false };
      const items = await this.queryPartition(`P#${next}`, '', Number.MAX_SAFE_INTEGER);
      const deleted = items.filter((item) => {
        const sk = item.SK as string;
        // Kept: the scores tombstone (replaced below), and the survivor's profile item until the very end.
        return sk !== 'SCORES' && !(next === profileId && sk === 'PROFILE');
      });
      eventsDeleted += deleted
        .filter((item) => (item.SK as string).startsWith('E#'))
        .reduce((total, item) => total + (typeof item.count === 'number' ? item.count : 1), 0);
      // The scores item is retired rather than deleted: a score computed before the erasure cannot land after it.
      await this.batchWrite([
        ...deleted.map((item) => ({ DeleteRequest: { Key: { PK: item.PK, SK: item.SK } } })),
        { PutRequest: { Item: retiredScoresItem(next, now) } },
      ]);
    }
    await this.doc.send(new DeleteCommand({ TableName: table, Key: keys.profile(profileId) }));
    return { eventsDeleted, profileIds: group, done: true };
  }

  async deleteQuarantineOf(profileIds: readonly string[]): Promise<number> {
    const wanted = new Set(profileIds);
    const partitions = [LEGACY_QUARANTINE_PARTITION, ...Array.from({ length: QUARANTINE_SHARDS }, (_, shard) => `QUARANTINE#${shard}`)];
    const items = (await Promise.all(partitions.map((partition) => this.queryPartition(partition, '', Number.MAX_SAFE_INTEGER)))).flat();
    const theirs = items.filter((item) => typeof item.profileId === 'string' && wanted.has(item.profileId));
    await this.batchWrite(theirs.map((item) => ({ DeleteRequest: { Key: { PK: item.PK, SK: item.SK } } })));
    return theirs.length;
  }
}
