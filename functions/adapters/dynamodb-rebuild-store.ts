import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ProfileRecord } from '../domain/profile/profile';
import type { IntentOutbox, MembershipIntent, ScanCursor, SliceProgress } from '../domain/segments/rebuild/evaluate-slice';
import type { RebuildStore } from '../ports/rebuild-store';
import { toProfile } from './dynamodb-profile-store';
import { DynamoLiveProfiles, scanLiveProfilePage } from './dynamodb-live-profiles';
import { scoreKeys } from './dynamodb-score-store';
import { batchGetAll, batchWriteAll, queryAllItems } from './dynamodb-toolkit';
import { segmentKeys } from './dynamodb-segment-store';

/** Progress and outbox items outlive any run (a Standard execution lasts at most a year; ours 6 h). */
const PROGRESS_TTL_DAYS = 7;

/**
 * Rebuild bookkeeping in the Profiles table, one partition per run: a progress item per scan
 * slice and the outbox of membership intents (`<slice>` is the scan segment number, or `sweep`).
 */
export const rebuildKeys = {
  progress: (runId: string, slice: string) => ({ PK: `REBUILD#${runId}`, SK: `SLICE#${slice}` }),
  /** A recorded batch of intents, named by its content. */
  intents: (runId: string, slice: string, batch: readonly unknown[]) => ({
    PK: `REBUILD#${runId}`,
    SK: `OUT#${slice}#${createHash('sha256').update(JSON.stringify(batch)).digest('hex').slice(0, 24)}`,
  }),
};

type Item = Record<string, unknown>;

/** Intents per outbox item (about 100 bytes each): items stay far under DynamoDB's 400 KB. */
const INTENTS_PER_ITEM = 2_000;

const intentKey = (intent: MembershipIntent): string => `${intent.segmentId}\u0000${intent.profileId}\u0000${intent.shouldBeMember}`;

/** Segments up to this many members are read once per run and container, in one pass over their partition. */
const MAX_CACHED_MEMBERS = 250_000;

/**
 * Member sets of the run being evaluated, shared by the slices a container evaluates (locally:
 * all of them). Only one run's sets are kept; undefined marks a segment too large to cache.
 */
const memberSets = new Map<string, Promise<ReadonlySet<string> | undefined>>();
let memberSetsRunId: string | undefined;

export class ProgressConflictError extends Error {
  constructor(slice: string) {
    super(`slice ${slice} progressed meanwhile (two invocations of one slice)`);
    this.name = 'ProgressConflictError';
  }
}

function toProgress(item: Item): SliceProgress {
  return {
    pages: item.pages as number,
    done: item.done as boolean,
    counts: item.counts as SliceProgress['counts'],
    ...(item.cursor !== undefined && { cursor: item.cursor as ScanCursor }),
    ...(item.tallies !== undefined && { tallies: item.tallies as SliceProgress['tallies'] }),
  };
}

/** What the rebuild reads and writes besides the segment store: scans, batched lookups, progress, outbox. */
export class DynamoRebuildStore implements RebuildStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly live: DynamoLiveProfiles;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.live = new DynamoLiveProfiles(client, tableName);
  }

  /** DynamoDB's item count (refreshed about every 6 hours on AWS): sizes the parallel scan. */
  async approximateItemCount(): Promise<number> {
    return this.live.approximateItemCount();
  }

  /** One page of a parallel scan: live PROFILE items only (tombstones of merged profiles skipped). */
  async scanProfiles(
    segment: number,
    totalSegments: number,
    cursor: ScanCursor | undefined,
    pageSize: number,
  ): Promise<{ profiles: ProfileRecord[]; next?: ScanCursor }> {
    const page = await scanLiveProfilePage(this.doc, this.tableName, { segment, totalSegments, pageSize, ...(cursor && { from: cursor }) });
    return { profiles: page.items.map(toProfile), ...(page.next && { next: page.next }) };
  }

  private batchGet(keys: ReadonlyArray<Record<string, string>>, projection: string, names: Record<string, string> = {}): Promise<Item[]> {
    return batchGetAll(this.doc, this.tableName, keys, { projection, names });
  }

  /** Every member of a segment, or undefined past MAX_CACHED_MEMBERS items read. */
  private async readMemberSet(segmentId: string): Promise<ReadonlySet<string> | undefined> {
    const members = new Set<string>();
    let read = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :members)',
          FilterExpression: 'isMember = :true',
          ProjectionExpression: 'profileId',
          ExpressionAttributeValues: { ':pk': `S#${segmentId}`, ':members': 'P#', ':true': true },
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      read += page.ScannedCount ?? 0;
      if (read > MAX_CACHED_MEMBERS) return undefined;
      for (const item of (page.Items ?? []) as Item[]) members.add(item.profileId as string);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return members;
  }

  private memberSetOf(runId: string, segmentId: string): Promise<ReadonlySet<string> | undefined> {
    if (memberSetsRunId !== runId) {
      memberSets.clear();
      memberSetsRunId = runId;
    }
    const key = segmentId;
    let set = memberSets.get(key);
    if (!set) {
      set = this.readMemberSet(segmentId);
      memberSets.set(key, set);
      set.catch(() => memberSets.delete(key));
    }
    return set;
  }

  /**
   * profileId → the segments (among `segmentIds`) it is a member of, as of the start of the run
   * for segments small enough to read whole (once per container), else looked up per page.
   */
  async memberships(runId: string, segmentIds: readonly string[], profileIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const byProfile = new Map<string, Set<string>>();
    const add = (profileId: string, segmentId: string): void => {
      const set = byProfile.get(profileId) ?? new Set<string>();
      set.add(segmentId);
      byProfile.set(profileId, set);
    };
    const large: string[] = [];
    const known = await Promise.all(segmentIds.map((segmentId) => this.memberSetOf(runId, segmentId)));
    for (const [index, segmentId] of segmentIds.entries()) {
      const members = known[index];
      if (!members) {
        large.push(segmentId);
        continue;
      }
      for (const profileId of profileIds) if (members.has(profileId)) add(profileId, segmentId);
    }
    if (large.length > 0) {
      const keys = profileIds.flatMap((profileId) => large.map((segmentId) => segmentKeys.membership(segmentId, profileId)));
      for (const item of await this.batchGet(keys, 'segmentId, profileId, isMember')) {
        if (item.isMember === true) add(item.profileId as string, item.segmentId as string);
      }
    }
    return byProfile;
  }

  async scores(profileIds: readonly string[]): Promise<Map<string, Readonly<Record<string, unknown>>>> {
    const items = await this.batchGet(profileIds.map(scoreKeys.scores), 'PK, scores');
    return new Map(
      items.filter((item) => item.scores !== undefined).map((item) => [(item.PK as string).slice(2), item.scores as Readonly<Record<string, unknown>>]),
    );
  }

  /** The ids among `profileIds` whose profile still exists on its own (not erased, not merged away). */
  async liveProfileIds(profileIds: readonly string[]): Promise<Set<string>> {
    const items = await this.batchGet(
      profileIds.map((profileId) => ({ PK: `P#${profileId}`, SK: 'PROFILE' })),
      'profileId, mergedInto',
    );
    return new Set(items.filter((item) => item.mergedInto === undefined).map((item) => item.profileId as string));
  }

  async loadProgress(runId: string, slice: string): Promise<SliceProgress | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: rebuildKeys.progress(runId, slice), ConsistentRead: true }));
    return Item && toProgress(Item);
  }

  async saveProgress(runId: string, slice: string, previousPages: number, progress: SliceProgress, now: Date): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...rebuildKeys.progress(runId, slice), ...progress, expiresAt: Math.floor(now.getTime() / 1000) + PROGRESS_TTL_DAYS * 86_400 },
          ConditionExpression: previousPages === 0 ? 'attribute_not_exists(PK) OR pages = :previous' : 'pages = :previous',
          ExpressionAttributeValues: { ':previous': previousPages },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') throw new ProgressConflictError(slice);
      throw error;
    }
  }

  /** Every slice's progress of a run (the finish step adds up their counts). */
  async listProgress(runId: string): Promise<SliceProgress[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :slices)',
          ExpressionAttributeValues: { ':pk': `REBUILD#${runId}`, ':slices': 'SLICE#' },
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      items.push(...((page.Items ?? []) as Item[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items.map(toProgress);
  }

  /**
   * One item per recorded batch of intents (a page's), not one per intent: a page of changes costs
   * one write to record and one to clear. Keys derive from the batch's content, so a retried
   * record writes the same item again.
   */
  outbox(runId: string, slice: string, now: () => Date): IntentOutbox {
    const stored = async (): Promise<Array<{ key: Record<string, string>; intents: MembershipIntent[] }>> => {
      const items = await queryAllItems(this.doc, {
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :outbox)',
        ExpressionAttributeValues: { ':pk': `REBUILD#${runId}`, ':outbox': `OUT#${slice}#` },
        ConsistentRead: true,
      });
      return items.map((item) => ({
        key: { PK: item.PK as string, SK: item.SK as string },
        intents: (item.intents as Array<[string, string, boolean]>).map(([segmentId, profileId, shouldBeMember]) => ({ segmentId, profileId, shouldBeMember })),
      }));
    };
    return {
      pending: async () => (await stored()).flatMap((batch) => batch.intents),
      record: async (intents) => {
        const expiresAt = Math.floor(now().getTime() / 1000) + PROGRESS_TTL_DAYS * 86_400;
        const batches = Array.from({ length: Math.ceil(intents.length / INTENTS_PER_ITEM) }, (_, index) =>
          intents.slice(index * INTENTS_PER_ITEM, (index + 1) * INTENTS_PER_ITEM).map((intent) => [intent.segmentId, intent.profileId, intent.shouldBeMember]),
        );
        await batchWriteAll(
          this.doc,
          this.tableName,
          batches.map((batch) => ({ PutRequest: { Item: { ...rebuildKeys.intents(runId, slice, batch), intents: batch, expiresAt } } })),
          { parallel: true },
        );
      },
      clear: async (intents) => {
        if (intents.length === 0) return;
        const cleared = new Set(intents.map(intentKey));
        const done = (await stored()).filter((batch) => batch.intents.every((intent) => cleared.has(intentKey(intent))));
        await batchWriteAll(
          this.doc,
          this.tableName,
          done.map((batch) => ({ DeleteRequest: { Key: batch.key } })),
          { parallel: true },
        );
      },
    };
  }
}
