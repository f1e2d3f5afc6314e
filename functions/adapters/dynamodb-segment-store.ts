import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { batchGetAll, batchWriteAll, queryAllItems } from './dynamodb-toolkit';
import { AUDIENCE_COUNTERS, segmentCounterUpdates } from './dynamodb-report-counters';
import { dayOf } from '../domain/shared/utc-days';
import type { AudienceTransition } from '../domain/pipeline/messages';
import { audienceTransition } from '../domain/segments/membership';
import {
  InvalidCursorError,
  SegmentConflictError,
  type Membership,
  type MembersPage,
  type RunCounts,
  type SegmentFields,
  type SegmentRecord,
  type SegmentRun,
  type SegmentStore,
  type SizePoint,
} from '../ports/segment-store';

export interface DynamoSegmentStoreOptions {
  readonly tableName: string;
  /** How long the transitions log and run records are kept (DynamoDB TTL). Default 90 days. */
  readonly historyTtlDays?: number;
}

const DEFAULT_HISTORY_TTL_DAYS = 90;

const GSI = 'GSI1';
const CATALOG = 'SEGMENTS';
const DAY_SECONDS = 86_400;
const MAX_TRANSACTION_ATTEMPTS = 5;
/** Queries per members page: bounds the work when many kept (exited) memberships are skipped. */
const MAX_QUERIES_PER_PAGE = 20;

/**
 * Item keys of segments in the single Profiles table (PARTITIONS in lib/definitions/functions.ts), next to `keys` of the profile
 * store. GSI1 indexes the segment catalog (`SEGMENTS`) and everything of a profile
 * (`MEMBER#<profileId>`: memberships `S#…` and transitions `T#…`) for lookups and erasure.
 */
export const segmentKeys = {
  definition: (segmentId: string) => ({ PK: `SEG#${segmentId}`, SK: 'DEF' }),
  /** The catalog's version (segment ids are lower case: no segment is `CATALOG`). */
  catalogVersion: { PK: 'SEG#CATALOG', SK: 'VERSION' },
  catalog: (createdAt: string, segmentId: string) => ({ GSI1PK: CATALOG, GSI1SK: `SEG#${createdAt}#${segmentId}` }),
  sizePoint: (segmentId: string, at: string) => ({ PK: `SEG#${segmentId}`, SK: `SIZE#${at}` }),
  run: (segmentId: string, runId: string) => ({ PK: `SEG#${segmentId}`, SK: `RUN#${runId}` }),
  membership: (segmentId: string, profileId: string) => ({ PK: `S#${segmentId}`, SK: `P#${profileId}` }),
  membershipIndex: (segmentId: string, profileId: string) => ({ GSI1PK: `MEMBER#${profileId}`, GSI1SK: `S#${segmentId}` }),
  transition: (segmentId: string, at: string, profileId: string) => ({ PK: `S#${segmentId}`, SK: `T#${at}#${profileId}` }),
  transitionIndex: (segmentId: string, at: string, profileId: string) => ({ GSI1PK: `MEMBER#${profileId}`, GSI1SK: `T#${segmentId}#${at}` }),
};

type Item = Record<string, unknown>;

const BOOKKEEPING = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'expiresAt'];
function strip(item: Item): Item {
  return Object.fromEntries(Object.entries(item).filter(([name]) => !BOOKKEEPING.includes(name)));
}

function toSegment(item: Item): SegmentRecord {
  const { definitionJson, ...rest } = strip(item);
  return { ...rest, definition: JSON.parse(definitionJson as string) as unknown } as unknown as SegmentRecord;
}

function encodeCursor(segmentId: string, profileId: string): string {
  return Buffer.from(JSON.stringify({ s: segmentId, p: profileId }), 'utf8').toString('base64url');
}

function decodeCursor(segmentId: string, cursor: string): string {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s?: unknown; p?: unknown };
    if (decoded.s === segmentId && typeof decoded.p === 'string' && decoded.p !== '') return decoded.p;
  } catch {
    // Falls through: not a cursor of ours.
  }
  throw new InvalidCursorError();
}

const isConditionFailure = (error: unknown): boolean => (error as { name?: string }).name === 'ConditionalCheckFailedException';

/** The SegmentStore port on the Profiles table. */
export class DynamoSegmentStore implements SegmentStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(
    client: DynamoDBClient,
    private readonly options: DynamoSegmentStoreOptions,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.table = options.tableName;
  }

  private expiresAt(from: Date): number {
    return Math.floor(from.getTime() / 1000) + (this.options.historyTtlDays ?? DEFAULT_HISTORY_TTL_DAYS) * DAY_SECONDS;
  }

  /** Every item of a query, following pagination. */
  private queryAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<Item[]> {
    return queryAllItems(this.doc, { TableName: this.table, ...input });
  }

  private deleteItems(items: readonly Item[]): Promise<void> {
    return batchWriteAll(
      this.doc,
      this.table,
      items.map((item) => ({ DeleteRequest: { Key: { PK: item.PK, SK: item.SK } } })),
    );
  }

  async listSegments(): Promise<SegmentRecord[]> {
    const items = await this.queryAll({ IndexName: GSI, KeyConditionExpression: 'GSI1PK = :catalog', ExpressionAttributeValues: { ':catalog': CATALOG } });
    return items.map(toSegment);
  }

  async catalogVersion(): Promise<number> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: segmentKeys.catalogVersion, ConsistentRead: true }));
    return Number(Item?.version ?? 0);
  }

  /** After a segment's create, update or delete: readers of a cached list reload it (catalogVersion). */
  private async bumpCatalogVersion(): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: segmentKeys.catalogVersion,
        UpdateExpression: 'ADD version :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  async getSegment(segmentId: string): Promise<SegmentRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: segmentKeys.definition(segmentId), ConsistentRead: true }));
    return Item ? toSegment(Item) : undefined;
  }

  async putSegment(fields: SegmentFields, now: Date, expectedVersion?: number): Promise<SegmentRecord> {
    const at = now.toISOString();
    const { definition, ...rest } = fields;
    const definitionJson = JSON.stringify(definition);
    if (expectedVersion === undefined) {
      const segment: SegmentRecord = { ...fields, createdAt: at, updatedAt: at, size: 0, version: 1 };
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              ...segmentKeys.definition(fields.id),
              ...segmentKeys.catalog(at, fields.id),
              ...rest,
              definitionJson,
              createdAt: at,
              updatedAt: at,
              size: 0,
              version: 1,
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) throw new SegmentConflictError(`segment ${fields.id} already exists`);
        throw error;
      }
      await this.bumpCatalogVersion();
      return segment;
    }
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: segmentKeys.definition(fields.id),
          UpdateExpression: `SET #name = :name, definitionJson = :definition, schedule = :schedule, destinations = :destinations, updatedAt = :at, version = version + :one${
            fields.description === undefined ? ' REMOVE description' : ', description = :description'
          }`,
          ConditionExpression: 'version = :expected',
          ExpressionAttributeNames: { '#name': 'name' },
          ExpressionAttributeValues: {
            ':name': fields.name,
            ':definition': definitionJson,
            ':schedule': fields.schedule,
            ':destinations': fields.destinations,
            ':at': at,
            ':one': 1,
            ':expected': expectedVersion,
            ...(fields.description !== undefined && { ':description': fields.description }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      await this.bumpCatalogVersion();
      return toSegment(Attributes as Item);
    } catch (error) {
      if (isConditionFailure(error)) throw new SegmentConflictError(`segment ${fields.id} is not at version ${expectedVersion}`);
      throw error;
    }
  }

  async deleteSegment(segmentId: string): Promise<boolean> {
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.table, Key: segmentKeys.definition(segmentId), ConditionExpression: 'attribute_exists(PK)' }));
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    await this.bumpCatalogVersion();
    // The definition goes first: from then on applyMembership writes nothing for this segment,
    // so the partitions read below cannot grow again.
    for (const partition of [`S#${segmentId}`, `SEG#${segmentId}`]) {
      const items = await this.queryAll({
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': partition },
        ProjectionExpression: 'PK, SK',
      });
      await this.deleteItems(items);
    }
    return true;
  }

  async segmentIdsOf(profileId: string): Promise<string[]> {
    const items = await this.queryAll({
      IndexName: GSI,
      KeyConditionExpression: 'GSI1PK = :member AND begins_with(GSI1SK, :memberships)',
      FilterExpression: 'isMember = :true',
      ExpressionAttributeValues: { ':member': `MEMBER#${profileId}`, ':memberships': 'S#', ':true': true },
    });
    return items.map((item) => item.segmentId as string);
  }

  async getMembership(segmentId: string, profileId: string): Promise<Membership | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: segmentKeys.membership(segmentId, profileId), ConsistentRead: true }));
    return Item ? toMembership(Item) : undefined;
  }

  async applyMembership(
    segment: Pick<SegmentRecord, 'id' | 'name'>,
    profileId: string,
    shouldBeMember: boolean,
    at: Date,
    runId?: string,
  ): Promise<AudienceTransition | undefined> {
    const changedAt = at.toISOString();
    for (let attempt = 1; attempt <= MAX_TRANSACTION_ATTEMPTS; attempt += 1) {
      const current = await this.getMembership(segment.id, profileId);
      if ((current?.member ?? false) === shouldBeMember) {
        // The same change already written (a retry): the same transition again, consumers dedupe it.
        if (current && current.changedAt === changedAt)
          return audienceTransition(segment, profileId, current.member, current.version, changedAt, current.runId);
        return undefined;
      }
      const version = (current?.version ?? 0) + 1;
      const enteredAt = shouldBeMember ? changedAt : current?.enteredAt;
      const transition = audienceTransition(segment, profileId, shouldBeMember, version, changedAt, runId);
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table,
                  Item: {
                    ...segmentKeys.membership(segment.id, profileId),
                    ...segmentKeys.membershipIndex(segment.id, profileId),
                    segmentId: segment.id,
                    profileId,
                    isMember: shouldBeMember,
                    version,
                    changedAt,
                    enteredAt,
                    runId,
                  },
                  ...(current
                    ? { ConditionExpression: 'version = :read', ExpressionAttributeValues: { ':read': current.version } }
                    : { ConditionExpression: 'attribute_not_exists(PK)' }),
                },
              },
              {
                Update: {
                  TableName: this.table,
                  Key: segmentKeys.definition(segment.id),
                  UpdateExpression: 'ADD size :delta',
                  ConditionExpression: 'attribute_exists(PK)',
                  ExpressionAttributeValues: { ':delta': shouldBeMember ? 1 : -1 },
                },
              },
              {
                Put: {
                  TableName: this.table,
                  Item: {
                    ...segmentKeys.transition(segment.id, changedAt, profileId),
                    ...segmentKeys.transitionIndex(segment.id, changedAt, profileId),
                    ...transition,
                    membershipVersion: version,
                    expiresAt: this.expiresAt(at),
                  },
                },
              },
              // The segment report's audience figures, counted with the change itself; a rebuild's
              // (runId) are counted all at once when the run finishes (finishRun), sparing each of
              // its many changes two writes.
              ...(runId === undefined
                ? segmentCounterUpdates(this.table, [
                    {
                      segmentId: segment.id,
                      channel: AUDIENCE_COUNTERS,
                      day: dayOf(at),
                      increments: { [shouldBeMember ? 'audience:entered' : 'audience:exited']: 1 },
                    },
                  ])
                : []),
            ],
          }),
        );
        return transition;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [membershipReason, segmentReason] = error.CancellationReasons ?? [];
        if (segmentReason?.Code === 'ConditionalCheckFailed') return undefined;
        const raced =
          membershipReason?.Code === 'ConditionalCheckFailed' || (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict');
        if (!raced) throw error;
        // Another writer changed this membership (or the day's counter) since we read it: read again and decide again.
      }
    }
    throw new Error(`membership of ${profileId} in ${segment.id} kept changing during ${MAX_TRANSACTION_ATTEMPTS} attempts`);
  }

  async applyMembershipsInBulk(
    segment: Pick<SegmentRecord, 'id' | 'name'>,
    changes: ReadonlyArray<{ readonly profileId: string; readonly shouldBeMember: boolean }>,
    at: Date,
    runId: string,
  ): Promise<AudienceTransition[]> {
    // A segment deleted during the run: its memberships are gone with it.
    if (changes.length === 0 || !(await this.getSegment(segment.id))) return [];
    const changedAt = at.toISOString();
    const current = new Map(
      (
        await batchGetAll(
          this.doc,
          this.table,
          changes.map((change) => segmentKeys.membership(segment.id, change.profileId)),
          { projection: 'profileId, isMember, version, changedAt, enteredAt, runId', consistentRead: true },
        )
      ).map((item) => [item.profileId as string, item]),
    );
    const transitions: AudienceTransition[] = [];
    const writes: Item[] = [];
    for (const { profileId, shouldBeMember } of changes) {
      const stored = current.get(profileId);
      const version = (stored?.version as number | undefined) ?? 0;
      if (((stored?.isMember as boolean | undefined) ?? false) === shouldBeMember) {
        // Written by an attempt that did not get to emit: the same transition again.
        if (stored?.changedAt === changedAt) transitions.push(audienceTransition(segment, profileId, shouldBeMember, version, changedAt, runId));
        continue;
      }
      const transition = audienceTransition(segment, profileId, shouldBeMember, version + 1, changedAt, runId);
      transitions.push(transition);
      const membership = {
        ...segmentKeys.membership(segment.id, profileId),
        ...segmentKeys.membershipIndex(segment.id, profileId),
        segmentId: segment.id,
        profileId,
        isMember: shouldBeMember,
        version: version + 1,
        changedAt,
        enteredAt: shouldBeMember ? changedAt : stored?.enteredAt,
        runId,
      };
      const logged = {
        ...segmentKeys.transition(segment.id, changedAt, profileId),
        ...segmentKeys.transitionIndex(segment.id, changedAt, profileId),
        ...transition,
        membershipVersion: version + 1,
        expiresAt: this.expiresAt(at),
      };
      writes.push({ PutRequest: { Item: membership } }, { PutRequest: { Item: logged } });
    }
    await batchWriteAll(this.doc, this.table, writes, { parallel: true });
    return transitions;
  }

  async setSize(segmentId: string, size: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: segmentKeys.definition(segmentId),
          UpdateExpression: 'SET size = :size',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':size': size },
        }),
      );
    } catch (error) {
      // Deleted meanwhile: no size to keep.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async listMembers(segmentId: string, options: { readonly limit: number; readonly cursor?: string }): Promise<MembersPage> {
    const members: Array<{ profileId: string; enteredAt: string }> = [];
    let startKey: Record<string, unknown> | undefined = options.cursor ? segmentKeys.membership(segmentId, decodeCursor(segmentId, options.cursor)) : undefined;
    for (let query = 0; query < MAX_QUERIES_PER_PAGE && members.length < options.limit; query += 1) {
      // Limit counts items read before the filter: asking for what is still missing never reads past the page.
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :members)',
          FilterExpression: 'isMember = :true',
          ExpressionAttributeValues: { ':pk': `S#${segmentId}`, ':members': 'P#', ':true': true },
          Limit: options.limit - members.length,
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of (page.Items ?? []) as Item[]) members.push({ profileId: item.profileId as string, enteredAt: item.enteredAt as string });
      startKey = page.LastEvaluatedKey;
      if (!startKey) break;
    }
    const lastProfileId = startKey ? (startKey.SK as string).slice(2) : undefined;
    return { members, ...(lastProfileId !== undefined && { next: encodeCursor(segmentId, lastProfileId) }) };
  }

  async countMembers(segmentId: string): Promise<number> {
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :members)',
          FilterExpression: 'isMember = :true',
          ExpressionAttributeValues: { ':pk': `S#${segmentId}`, ':members': 'P#', ':true': true },
          Select: 'COUNT',
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  async listTransitions(segmentId: string, limit: number): Promise<AudienceTransition[]> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :transitions)',
        ExpressionAttributeValues: { ':pk': `S#${segmentId}`, ':transitions': 'T#' },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return ((Items ?? []) as Item[]).map((item) => {
      const { membershipVersion: _version, ...transition } = strip(item);
      return transition as unknown as AudienceTransition;
    });
  }

  async recordSize(segmentId: string, point: SizePoint): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...segmentKeys.sizePoint(segmentId, point.at), ...point } }));
  }

  /** The newest `limit` items of a kind (`SIZE#`, `RUN#`) in the segment's partition, without keys. */
  private async newestOfSegment(segmentId: string, prefix: string, limit: number): Promise<Item[]> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': `SEG#${segmentId}`, ':prefix': prefix },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return ((Items ?? []) as Item[]).map(strip);
  }

  async listSizes(segmentId: string, limit: number): Promise<SizePoint[]> {
    return (await this.newestOfSegment(segmentId, 'SIZE#', limit)) as unknown as SizePoint[];
  }

  async putRun(run: SegmentRun): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...segmentKeys.run(run.segmentId, run.runId), ...run, expiresAt: this.expiresAt(new Date(run.startedAt)) },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async getRun(segmentId: string, runId: string): Promise<SegmentRun | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: segmentKeys.run(segmentId, runId), ConsistentRead: true }));
    return Item ? (strip(Item) as unknown as SegmentRun) : undefined;
  }

  async listRuns(segmentId: string, limit: number): Promise<SegmentRun[]> {
    return (await this.newestOfSegment(segmentId, 'RUN#', limit)) as unknown as SegmentRun[];
  }

  async addRunCounts(segmentId: string, runId: string, counts: RunCounts): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: segmentKeys.run(segmentId, runId),
        UpdateExpression: 'ADD evaluated :evaluated, entered :entered, exited :exited',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':evaluated': counts.evaluated, ':entered': counts.entered, ':exited': counts.exited },
      }),
    );
  }

  async finishRun(
    segmentId: string,
    runId: string,
    outcome: {
      readonly status: 'succeeded' | 'failed';
      readonly finishedAt: string;
      readonly size?: number;
      readonly error?: string;
      readonly audience?: { readonly entered: number; readonly exited: number };
    },
  ): Promise<void> {
    const { audience, ...recorded } = outcome;
    const fields = Object.entries(recorded).filter(([, value]) => value !== undefined);
    const update = {
      TableName: this.table,
      Key: segmentKeys.run(segmentId, runId),
      UpdateExpression: `SET ${fields.map(([name]) => `#${name} = :${name}`).join(', ')}`,
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeNames: Object.fromEntries(fields.map(([name]) => [`#${name}`, name])),
      ExpressionAttributeValues: Object.fromEntries(fields.map(([name, value]) => [`:${name}`, value])),
    };
    const increments = { 'audience:entered': audience?.entered ?? 0, 'audience:exited': audience?.exited ?? 0 };
    if (increments['audience:entered'] === 0 && increments['audience:exited'] === 0) {
      await this.doc.send(new UpdateCommand(update));
      return;
    }
    // A rebuild's entries and exits reach the segment report once, with the run's end.
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                ...update,
                ConditionExpression: 'attribute_exists(PK) AND #runStatus = :running',
                ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#runStatus': 'status' },
                ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':running': 'running' },
              },
            },
            ...segmentCounterUpdates(this.table, [{ segmentId, channel: AUDIENCE_COUNTERS, day: dayOf(outcome.finishedAt), increments }]),
          ],
        }),
      );
    } catch (error) {
      // Already finished (a repeated finish): its counts are in.
      if (!(error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed')) throw error;
    }
  }

  async removeProfile(profileId: string): Promise<{ memberships: number }> {
    const items = await this.queryAll({
      IndexName: GSI,
      KeyConditionExpression: 'GSI1PK = :member',
      ExpressionAttributeValues: { ':member': `MEMBER#${profileId}` },
    });
    let memberships = 0;
    for (const item of items.filter((entry) => entry.isMember === true)) {
      const segmentId = item.segmentId as string;
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Delete: {
                  TableName: this.table,
                  Key: segmentKeys.membership(segmentId, profileId),
                  ConditionExpression: 'isMember = :true',
                  ExpressionAttributeValues: { ':true': true },
                },
              },
              {
                Update: {
                  TableName: this.table,
                  Key: segmentKeys.definition(segmentId),
                  UpdateExpression: 'ADD size :minusOne',
                  ConditionExpression: 'attribute_exists(PK)',
                  ExpressionAttributeValues: { ':minusOne': -1 },
                },
              },
            ],
          }),
        );
        memberships += 1;
      } catch (error) {
        // Already exited or removed, or the segment is gone: the plain delete below finishes the job.
        if (!(error instanceof TransactionCanceledException)) throw error;
      }
    }
    await this.deleteItems(items);
    return { memberships };
  }
}

function toMembership(item: Item): Membership {
  return {
    segmentId: item.segmentId as string,
    profileId: item.profileId as string,
    member: item.isMember === true,
    version: item.version as number,
    changedAt: item.changedAt as string,
    ...(typeof item.enteredAt === 'string' && { enteredAt: item.enteredAt }),
    ...(typeof item.runId === 'string' && { runId: item.runId }),
  };
}
