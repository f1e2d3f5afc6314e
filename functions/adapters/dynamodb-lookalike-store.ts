import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { bandOfScore, type LookalikeScore } from '../domain/lookalikes/audience';
import type { Lookalike, LookalikeFields } from '../domain/lookalikes/lookalike';
import type { LookalikeModel } from '../domain/lookalikes/train';
import { mapConcurrently } from '../domain/shared/concurrency';
import { fnv1a } from '../domain/shared/string-hash';
import { LookalikeConflictError, type LookalikeStore, type ScoreLayout, type StoredLookalikeRun } from '../ports/lookalike-store';
import { batchWriteAll, fromGzippedParts, gzippedPartItems, queryAllItems } from './dynamodb-toolkit';

type Item = Record<string, unknown>;

const GSI = 'GSI1';
const CATALOG = 'LOOKALIKES';
/** Scores per item at most (about 45 bytes each): items stay far under 400 KB. */
const SCORES_PER_ITEM = 5_000;
/** Buckets read or deleted at once. */
const BUCKET_CONCURRENCY = 8;

/**
 * Item keys in the Profiles table (PARTITIONS in lib/definitions/functions.ts): a lookalike's
 * definition, runs and model parts in `LAL#<id>`; each run's scores in one partition per bucket
 * of profiles, `LALS#<id>#<runId>#<bucket>`, an item per slice and first page holding
 * `{profileId: score}`.
 */
export const lookalikeKeys = {
  definition: (id: string) => ({ PK: `LAL#${id}`, SK: 'DEF' }),
  catalog: (createdAt: string, id: string) => ({ GSI1PK: CATALOG, GSI1SK: `LAL#${createdAt}#${id}` }),
  run: (id: string, runId: string) => ({ PK: `LAL#${id}`, SK: `RUN#${runId}` }),
  modelPart: (id: string, runId: string, part: number) => ({ PK: `LAL#${id}`, SK: `MODEL#${runId}#${String(part).padStart(4, '0')}` }),
  scoreBucket: (id: string, runId: string, bucket: number) => `LALS#${id}#${runId}#${bucket}`,
  scores: (id: string, runId: string, bucket: number, slice: number, startPage: number, part: number) => ({
    PK: lookalikeKeys.scoreBucket(id, runId, bucket),
    SK: `S#${slice}#${startPage}#${part}`,
  }),
};

/** A profile id's bucket, the same in every writer and reader. */
export const bucketOf = (profileId: string, buckets: number): number => fnv1a(profileId) % buckets;

const isConditionFailure = (error: unknown): boolean => (error as { name?: string }).name === 'ConditionalCheckFailedException';
const primaryKey = (item: Item) => ({ PK: item.PK, SK: item.SK });

export class DynamoLookalikeStore implements LookalikeStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async listLookalikes(): Promise<Lookalike[]> {
    const items = await queryAllItems(this.doc, {
      TableName: this.table,
      IndexName: GSI,
      KeyConditionExpression: 'GSI1PK = :catalog',
      ExpressionAttributeValues: { ':catalog': CATALOG },
    });
    return items.map(toLookalike);
  }

  async getLookalike(id: string): Promise<Lookalike | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: lookalikeKeys.definition(id), ConsistentRead: true }));
    return Item ? toLookalike(Item) : undefined;
  }

  async putLookalike(fields: LookalikeFields, now: Date, expectedVersion?: number): Promise<Lookalike> {
    const at = now.toISOString();
    const current = expectedVersion === undefined ? undefined : await this.getLookalike(fields.id);
    const definition = { ...fields, createdAt: current?.createdAt ?? at, updatedAt: at, version: (expectedVersion ?? 0) + 1 };
    try {
      if (expectedVersion === undefined) {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...lookalikeKeys.definition(fields.id), ...lookalikeKeys.catalog(at, fields.id), version: 1, definitionJson: JSON.stringify(definition) },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
        return definition;
      }
      // An update, not a put: the run pointers a run sets meanwhile are kept.
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: lookalikeKeys.definition(fields.id),
          UpdateExpression: 'SET version = :version, definitionJson = :definition',
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':version': definition.version, ':definition': JSON.stringify(definition), ':expected': expectedVersion },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toLookalike(Attributes ?? {});
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      throw new LookalikeConflictError(
        expectedVersion === undefined ? `lookalike ${fields.id} already exists` : `lookalike ${fields.id} is not at version ${expectedVersion}`,
      );
    }
  }

  async deleteLookalike(id: string): Promise<boolean> {
    const items = await queryAllItems(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': `LAL#${id}` },
      ProjectionExpression: 'PK, SK, layoutJson',
    });
    if (!items.some((item) => item.SK === 'DEF')) return false;
    for (const item of items) {
      if (typeof item.layoutJson === 'string') await this.deleteScores(id, JSON.parse(item.layoutJson) as ScoreLayout);
    }
    // The definition last: a delete cut short is finished by deleting again.
    await batchWriteAll(
      this.doc,
      this.table,
      items.filter((item) => item.SK !== 'DEF').map((item) => ({ DeleteRequest: { Key: primaryKey(item) } })),
    );
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: lookalikeKeys.definition(id) }));
    return true;
  }

  async setRunPointers(id: string, pointers: { readonly lastRunId?: string; readonly scoresRunId?: string }): Promise<void> {
    const entries = Object.entries(pointers).filter(([, value]) => value !== undefined);
    if (entries.length === 0) return;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: lookalikeKeys.definition(id),
          UpdateExpression: `SET ${entries.map(([name]) => `${name} = :${name}`).join(', ')}`,
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: Object.fromEntries(entries.map(([name, value]) => [`:${name}`, value])),
        }),
      );
    } catch (error) {
      // Deleted meanwhile: nothing to point.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async putRun(run: StoredLookalikeRun): Promise<void> {
    const { layout, ...rest } = run;
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...lookalikeKeys.run(run.lookalikeId, run.runId), runJson: JSON.stringify(rest), ...(layout && { layoutJson: JSON.stringify(layout) }) },
      }),
    );
  }

  async getRun(id: string, runId: string): Promise<StoredLookalikeRun | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: lookalikeKeys.run(id, runId), ConsistentRead: true }));
    if (!Item) return undefined;
    const run = JSON.parse(Item.runJson as string) as Omit<StoredLookalikeRun, 'layout'>;
    return typeof Item.layoutJson === 'string' ? { ...run, layout: JSON.parse(Item.layoutJson) as ScoreLayout } : run;
  }

  async saveModel(id: string, runId: string, model: LookalikeModel): Promise<void> {
    const parts = gzippedPartItems(model, (part) => lookalikeKeys.modelPart(id, runId, part));
    await batchWriteAll(
      this.doc,
      this.table,
      parts.map((Item) => ({ PutRequest: { Item } })),
    );
  }

  async loadModel(id: string, runId: string): Promise<LookalikeModel | undefined> {
    const items = await queryAllItems(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :model)',
      ExpressionAttributeValues: { ':pk': `LAL#${id}`, ':model': `MODEL#${runId}#` },
      ConsistentRead: true,
    });
    return fromGzippedParts<LookalikeModel>(items);
  }

  async writeScores(id: string, layout: ScoreLayout, slice: number, startPage: number, scores: ReadonlyArray<readonly [string, number]>): Promise<void> {
    const byBucket = new Map<number, Array<readonly [string, number]>>();
    for (const entry of scores) {
      const bucket = bucketOf(entry[0], layout.buckets);
      const list = byBucket.get(bucket) ?? [];
      list.push(entry);
      byBucket.set(bucket, list);
    }
    const requests: Item[] = [];
    for (const [bucket, entries] of byBucket) {
      for (let part = 0; part * SCORES_PER_ITEM < entries.length; part++) {
        const slicePart = entries.slice(part * SCORES_PER_ITEM, (part + 1) * SCORES_PER_ITEM);
        requests.push({
          PutRequest: { Item: { ...lookalikeKeys.scores(id, layout.runId, bucket, slice, startPage, part), scores: Object.fromEntries(slicePart) } },
        });
      }
    }
    await batchWriteAll(this.doc, this.table, requests, { parallel: true });
  }

  async scoreOf(id: string, layout: ScoreLayout, profileId: string): Promise<LookalikeScore | undefined> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'PK = :pk',
        FilterExpression: 'attribute_exists(#scores.#profile)',
        ProjectionExpression: '#scores.#profile',
        ExpressionAttributeNames: { '#scores': 'scores', '#profile': profileId },
        ExpressionAttributeValues: { ':pk': lookalikeKeys.scoreBucket(id, layout.runId, bucketOf(profileId, layout.buckets)) },
      }),
    );
    const score = (Items?.[0]?.scores as Record<string, number> | undefined)?.[profileId];
    return score === undefined ? undefined : { score, band: bandOfScore(score), modelVersion: layout.modelVersion };
  }

  async deleteScores(id: string, layout: ScoreLayout): Promise<void> {
    await mapConcurrently(
      Array.from({ length: layout.buckets }, (_, bucket) => bucket),
      BUCKET_CONCURRENCY,
      async (bucket) => {
        const keys = await queryAllItems(this.doc, {
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': lookalikeKeys.scoreBucket(id, layout.runId, bucket) },
          ProjectionExpression: 'PK, SK',
        });
        await batchWriteAll(
          this.doc,
          this.table,
          keys.map((item) => ({ DeleteRequest: { Key: primaryKey(item) } })),
        );
      },
    );
  }
}

function toLookalike(item: Item): Lookalike {
  const definition = JSON.parse(item.definitionJson as string) as Omit<Lookalike, 'scoresRunId' | 'lastRunId'>;
  return {
    ...definition,
    ...(typeof item.scoresRunId === 'string' && { scoresRunId: item.scoresRunId }),
    ...(typeof item.lastRunId === 'string' && { lastRunId: item.lastRunId }),
  };
}
