import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { identifierKey, type Identifier } from '../domain/identity/identifiers';
import { pseudonymOf } from '../domain/identity/pseudonym';
import type { StoredLink } from '../domain/identity/resolution';
import type { IdentityLink, ProfileRecord } from '../domain/profile/profile';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';
import {
  ConcurrentUpdateError,
  DuplicateMessageError,
  SuppressedIdentityError,
  type IdentitySnapshot,
  type MergeLogEntry,
  type ProfileStore,
  type QuarantinedValue,
  type ReconcileCommit,
  type StoredEvent,
  type UnmergeCommit,
} from '../ports/profile-store';

export interface DynamoProfileStoreOptions {
  readonly tableName: string;
  /** Hot event history lifetime (DynamoDB TTL). */
  readonly eventTtlDays: number;
  /** Anonymous/device id links stop resolving (and expire) after this long unseen. */
  readonly lenientIdentifierLifetimeDays: number;
  readonly lenientTypes: readonly string[];
  /** Window in which a messageId counts once. */
  readonly dedupeWindowHours: number;
}

const DAY_MS = 86_400_000;
const MAX_TOMBSTONE_HOPS = 8;
const QUARANTINE_TTL_DAYS = 90;

/** Item keys of the single table (DESIGN.md). Identifier values appear only as pseudonyms. */
export const keys = {
  profile: (profileId: string) => ({ PK: `P#${profileId}`, SK: 'PROFILE' }),
  identity: (identifier: Identifier) => ({ PK: `ID#${identifier.type}#${pseudonymOf(identifier)}`, SK: 'ID' }),
  suppression: (identifier: Identifier) => ({ PK: `SUP#${pseudonymOf(identifier)}`, SK: 'SUP' }),
  dedupe: (messageId: string) => ({ PK: `MSG#${messageId}`, SK: 'MSG' }),
  event: (profileId: string, message: AcceptedMessage) => ({ PK: `P#${profileId}`, SK: `E#${message.timestamp}#${message.messageId}` }),
  mergeLog: (profileId: string, at: string, messageId: string, index: number) => ({ PK: `P#${profileId}`, SK: `M#${at}#${messageId}#${index}` }),
  quarantine: (at: string, messageId: string, trait: string) => ({ PK: 'QUARANTINE', SK: `${at}#${messageId}#${trait}` }),
};

const epochSeconds = (time: number): number => Math.floor(time / 1000);

export type Item = Record<string, unknown>;

export function toProfile(item: Item): ProfileRecord {
  const { PK: _pk, SK: _sk, ...profile } = item;
  return profile as unknown as ProfileRecord;
}

/** One page of a parallel scan over live (not merged-away) PROFILE items. */
export interface ProfilePage {
  readonly profiles: ProfileRecord[];
  /** Items DynamoDB read for this page, profiles or not (the cost of the scan). */
  readonly scanned: number;
  /** Whether this scan segment has no more pages. */
  readonly last: boolean;
}

/**
 * Pages of live profiles in one segment of a parallel Scan (`segment` of `totalSegments`). Readers
 * that only need part of the table stop iterating when they have enough.
 */
export interface LiveProfileScanRequest {
  readonly segment: number;
  readonly totalSegments: number;
  readonly pageSize?: number;
  /** Where the previous page stopped (its `next`). */
  readonly from?: Readonly<Record<string, unknown>>;
  /** Attributes to read (DynamoDB ProjectionExpression); the whole item when absent. */
  readonly projection?: string;
}

/**
 * One page of a parallel scan over live (not merged-away) PROFILE items: the one place that
 * says what a live profile item is, for the segment preview and rebuild, the feature export and
 * the score recompute. Merged-away tombstones are reached through their survivor.
 */
export async function scanLiveProfilePage(
  doc: DynamoDBDocumentClient,
  tableName: string,
  request: LiveProfileScanRequest,
): Promise<{ readonly items: Item[]; readonly scanned: number; readonly next?: Record<string, unknown> }> {
  const page = await doc.send(
    new ScanCommand({
      TableName: tableName,
      Segment: request.segment,
      TotalSegments: request.totalSegments,
      ...(request.pageSize && { Limit: request.pageSize }),
      FilterExpression: 'SK = :profile AND attribute_not_exists(mergedInto)',
      ExpressionAttributeValues: { ':profile': 'PROFILE' },
      ...(request.projection && { ProjectionExpression: request.projection }),
      ...(request.from && { ExclusiveStartKey: { ...request.from } }),
    }),
  );
  return { items: (page.Items ?? []) as Item[], scanned: page.ScannedCount ?? 0, ...(page.LastEvaluatedKey && { next: page.LastEvaluatedKey }) };
}

/** Live profiles of one scan segment, page after page to its end. */
export async function* scanProfilePages(
  doc: DynamoDBDocumentClient,
  tableName: string,
  slice: { readonly segment: number; readonly totalSegments: number; readonly pageSize?: number },
): AsyncGenerator<ProfilePage> {
  let from: Record<string, unknown> | undefined;
  do {
    const page = await scanLiveProfilePage(doc, tableName, { ...slice, ...(from && { from }) });
    from = page.next;
    yield { profiles: page.items.map(toProfile), scanned: page.scanned, last: from === undefined };
  } while (from);
}

/** The Profiles table as the ProfileStore port: transactions guard every multi-item change. */
export class DynamoProfileStore implements ProfileStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(client: DynamoDBClient, private readonly options: DynamoProfileStoreOptions) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async loadSnapshot(messageId: string, identifiers: readonly Identifier[], now: Date): Promise<IdentitySnapshot> {
    const requested = [keys.dedupe(messageId), ...identifiers.map(keys.identity), ...identifiers.map(keys.suppression)];
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
    const dedupe = find(keys.dedupe(messageId));
    return {
      alreadyProcessed: dedupe !== undefined,
      ...(typeof dedupe?.profileId === 'string' && { processedBy: dedupe.profileId }),
      suppressed: identifiers.filter((identifier) => find(keys.suppression(identifier)) !== undefined),
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

  private async batchGet(requested: ReadonlyArray<{ PK: string; SK: string }>): Promise<Item[]> {
    const unique = [...new Map(requested.map((k) => [`${k.PK}|${k.SK}`, k])).values()];
    const found: Item[] = [];
    for (let start = 0; start < unique.length; start += 100) {
      let keysToGet: Array<Record<string, unknown>> = unique.slice(start, start + 100);
      for (let attempt = 0; keysToGet.length > 0; attempt += 1) {
        const result = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.options.tableName]: { Keys: keysToGet, ConsistentRead: true } } }),
        );
        found.push(...((result.Responses?.[this.options.tableName] ?? []) as Item[]));
        keysToGet = (result.UnprocessedKeys?.[this.options.tableName]?.Keys ?? []) as Array<Record<string, unknown>>;
        if (keysToGet.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
      }
    }
    return found;
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

  async commit(change: ReconcileCommit, now: Date): Promise<void> {
    const table = this.options.tableName;
    const { message, profile } = change;
    const nowMs = now.getTime();
    type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
    const items: Array<{ kind: 'dedupe' | 'suppression' | 'other'; item: TransactItem }> = [];

    items.push({
      kind: 'dedupe',
      item: {
        Put: {
          TableName: table,
          Item: { ...keys.dedupe(message.messageId), profileId: profile.profileId, expiresAt: epochSeconds(nowMs + this.options.dedupeWindowHours * 3_600_000) },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
    });
    // Identifiers new to the graph are checked against erasure here; those already linked are
    // covered by the profile version, which an erasure bumps before deleting anything.
    for (const { link } of change.linkWrites.filter((write) => write.previousProfileId === undefined)) {
      items.push({ kind: 'suppression', item: { ConditionCheck: { TableName: table, Key: keys.suppression(link), ConditionExpression: 'attribute_not_exists(PK)' } } });
    }
    items.push({
      kind: 'other',
      item: {
        Put: {
          TableName: table,
          Item: { ...keys.profile(profile.profileId), ...profile },
          ...(change.expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(PK)' }
            : { ConditionExpression: 'version = :expected AND attribute_not_exists(mergedInto)', ExpressionAttributeValues: { ':expected': change.expectedVersion } }),
        },
      },
    });
    for (const { profile: absorbed } of change.absorbed) {
      items.push({
        kind: 'other',
        item: {
          Put: {
            TableName: table,
            Item: {
              ...keys.profile(absorbed.profileId),
              profileId: absorbed.profileId,
              version: absorbed.version + 1,
              createdAt: absorbed.createdAt,
              updatedAt: now.toISOString(),
              mergedInto: profile.profileId,
              identities: absorbed.identities,
            },
            ConditionExpression: 'version = :expected AND attribute_not_exists(mergedInto)',
            ExpressionAttributeValues: { ':expected': absorbed.version },
          },
        },
      });
    }
    for (const { link, previousProfileId } of change.linkWrites) {
      items.push({
        kind: 'other',
        item: {
          Put: {
            TableName: table,
            Item: this.identityItem(link, profile.profileId),
            ...(previousProfileId === undefined
              ? { ConditionExpression: 'attribute_not_exists(PK)' }
              : { ConditionExpression: 'profileId = :previous', ExpressionAttributeValues: { ':previous': previousProfileId } }),
          },
        },
      });
    }
    items.push({
      kind: 'other',
      item: {
        Put: {
          TableName: table,
          Item: {
            ...keys.event(profile.profileId, message),
            message,
            reconciledAt: now.toISOString(),
            expiresAt: epochSeconds(Date.parse(message.timestamp) + this.options.eventTtlDays * DAY_MS),
          },
        },
      },
    });
    change.mergeLog.forEach((entry, index) => {
      items.push({ kind: 'other', item: { Put: { TableName: table, Item: { ...keys.mergeLog(profile.profileId, entry.at, entry.messageId, index), ...entry } } } });
    });
    for (const rejected of change.quarantine) {
      const entry: QuarantinedValue = { ...rejected, at: now.toISOString(), messageId: message.messageId, profileId: profile.profileId, source: message.type };
      items.push({
        kind: 'other',
        item: { Put: { TableName: table, Item: { ...keys.quarantine(entry.at, entry.messageId, entry.trait), ...entry, expiresAt: epochSeconds(nowMs + QUARANTINE_TTL_DAYS * DAY_MS) } } },
      });
    }
    if (items.length > 100) throw new Error(`a single message would change ${items.length} items (limit 100)`);

    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items.map((entry) => entry.item) }));
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const failed = (kind: string): boolean => reasons.some((reason, index) => reason.Code === 'ConditionalCheckFailed' && items[index]?.kind === kind);
      if (failed('dedupe')) throw new DuplicateMessageError(message.messageId);
      if (failed('suppression')) throw new SuppressedIdentityError();
      throw new ConcurrentUpdateError(reasons.map((r) => r.Code ?? 'None').join(','));
    }
    await this.releaseLinks(change);
  }

  /**
   * Released identifiers left the profile in the transaction; their identity items go now, only
   * where they still point into the profile's group. A crash before this leaves an item that
   * merely re-links the identifier if it is ever seen again.
   */
  private async releaseLinks(change: ReconcileCommit): Promise<void> {
    const group = [change.profile.profileId, ...change.profile.mergedFrom];
    const values = Object.fromEntries(group.slice(0, 100).map((id, index) => [`:p${index}`, id]));
    for (const { link } of change.linkReleases) {
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
    const items = await this.queryProfileItems(profile, 'E#', limit);
    return items.map((item) => ({
      profileId: (item.PK as string).slice(2),
      message: item.message as AcceptedMessage,
      ...(typeof item.reconciledAt === 'string' && { reconciledAt: item.reconciledAt }),
    }));
  }

  async listMergeLog(profile: ProfileRecord, limit: number): Promise<MergeLogEntry[]> {
    const items = await this.queryProfileItems(profile, 'M#', limit);
    return items.map(({ PK: _pk, SK: _sk, ...entry }) => entry as unknown as MergeLogEntry);
  }

  async listQuarantine(limit: number): Promise<QuarantinedValue[]> {
    const items = await this.queryPartition('QUARANTINE', '', limit);
    return items.map(({ PK: _pk, SK: _sk, expiresAt: _ttl, ...entry }) => entry as unknown as QuarantinedValue);
  }

  private async batchWrite(requests: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    const table = this.options.tableName;
    for (let start = 0; start < requests.length; start += 25) {
      let pending = requests.slice(start, start + 25);
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        const result = await this.doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
        pending = (result.UnprocessedItems?.[table] ?? []) as typeof pending;
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
      }
    }
  }

  async applyUnmerge(change: UnmergeCommit, now: Date): Promise<void> {
    const table = this.options.tableName;
    const { split, kept, original } = change;
    const ttl = (message: AcceptedMessage): number => epochSeconds(Date.parse(message.timestamp) + this.options.eventTtlDays * DAY_MS);
    await this.doc.send(new PutCommand({ TableName: table, Item: { ...keys.profile(split.profileId), ...split } }));
    await this.batchWrite(
      change.movedEvents.map(({ message }) => ({ PutRequest: { Item: { ...keys.event(split.profileId, message), message, expiresAt: ttl(message) } } })),
    );
    await this.batchWrite(split.identities.map((link) => ({ PutRequest: { Item: this.identityItem(link, split.profileId) } })));
    const at = now.toISOString();
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: table,
                Item: { ...keys.profile(kept.profileId), ...kept },
                ConditionExpression: 'version = :expected',
                ExpressionAttributeValues: { ':expected': original.version },
              },
            },
            { Put: { TableName: table, Item: { ...keys.mergeLog(kept.profileId, at, change.log.messageId, 0), ...change.log, otherProfileId: split.profileId } } },
            { Put: { TableName: table, Item: { ...keys.mergeLog(split.profileId, at, change.log.messageId, 0), ...change.log, otherProfileId: kept.profileId } } },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) throw new ConcurrentUpdateError('profile changed during un-merge');
      throw error;
    }
    await this.batchWrite(
      change.movedEvents.map(({ profileId, message }) => ({ DeleteRequest: { Key: keys.event(profileId, message) } })),
    );
  }

  async eraseProfile(profile: ProfileRecord, now: Date): Promise<{ eventsDeleted: number }> {
    const table = this.options.tableName;
    const suppress = async (links: ProfileRecord['identities']): Promise<void> => {
      for (const identifier of links) {
        await this.doc.send(new PutCommand({ TableName: table, Item: { ...keys.suppression(identifier), idType: identifier.type, suppressedAt: now.toISOString() } }));
      }
    };
    // 1. Suppress: no message can link these identifiers to a new profile from now on.
    await suppress(profile.identities);
    // 2. Bump the version: a message applied concurrently to the old version now fails its
    //    commit, retries, and finds its identifiers suppressed. Identifiers linked just before
    //    the bump are read back and suppressed too.
    const marked = await this.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: keys.profile(profile.profileId),
        UpdateExpression: 'SET erasedAt = :now, version = version + :one',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':now': now.toISOString(), ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const latest = marked.Attributes ? toProfile(marked.Attributes) : profile;
    const known = new Set(profile.identities.map(identifierKey));
    await suppress(latest.identities.filter((link) => !known.has(identifierKey(link))));
    const identifiers = latest.identities.map(({ type, value }) => ({ type, value }));
    const group = [profile.profileId, ...latest.mergedFrom];
    for (const identifier of identifiers) {
      await this.doc
        .send(
          new DeleteCommand({
            TableName: table,
            Key: keys.identity(identifier),
            ConditionExpression: 'attribute_exists(PK)',
          }),
        )
        .catch((error: unknown) => {
          if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
        });
    }
    let eventsDeleted = 0;
    for (const profileId of group) {
      const items = await this.queryPartition(`P#${profileId}`, '', Number.MAX_SAFE_INTEGER);
      eventsDeleted += items.filter((item) => (item.SK as string).startsWith('E#')).length;
      await this.batchWrite(items.map((item) => ({ DeleteRequest: { Key: { PK: item.PK, SK: item.SK } } })));
    }
    return { eventsDeleted };
  }
}
