import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoLookalikeStore, bucketOf, lookalikeKeys } from '../../functions/adapters/dynamodb-lookalike-store';
import { DynamoRebuildStore } from '../../functions/adapters/dynamodb-rebuild-store';
import { DynamoSegmentStore } from '../../functions/adapters/dynamodb-segment-store';
import type { LookalikeFields } from '../../functions/domain/lookalikes/lookalike';
import type { LookalikeModel } from '../../functions/domain/lookalikes/train';
import { LookalikeConflictError, type ScoreLayout } from '../../functions/ports/lookalike-store';
import type { DynamoDbLocal } from '../../local/dynamodb-local';
import { startProfilesTable } from '../helpers/profiles-table';

/** Lookalikes, their runs, models and bucketed scores, bulk memberships and batched outboxes on the real DynamoDB engine. */
let dynamo: DynamoDbLocal;
let tableName: string;
let store: DynamoLookalikeStore;
let segments: DynamoSegmentStore;
let rebuild: DynamoRebuildStore;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  ({ dynamo, tableName } = await startProfilesTable());
  store = new DynamoLookalikeStore(dynamo.client, tableName);
  segments = new DynamoSegmentStore(dynamo.client, { tableName });
  rebuild = new DynamoRebuildStore(dynamo.client, tableName);
  doc = DynamoDBDocumentClient.from(dynamo.client);
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;
const NOW = new Date('2026-12-03T10:00:00.000Z');

function fields(id: string): LookalikeFields {
  return { id, name: 'Like our buyers', seed: 'buyers', size: { share: 0.1 }, schedule: 'rate(1 day)', destinations: [] };
}

describe('DynamoLookalikeStore', () => {
  test('creates once, updates at the version read, keeps the run pointers a run set meanwhile', async () => {
    const id = unique('lal');
    const created = await store.putLookalike(fields(id), NOW);
    expect(created).toMatchObject({ id, version: 1, createdAt: NOW.toISOString() });
    await expect(store.putLookalike(fields(id), NOW)).rejects.toThrow(LookalikeConflictError);
    await store.setRunPointers(id, { lastRunId: 'run-1', scoresRunId: 'run-0' });
    const updated = await store.putLookalike({ ...fields(id), name: 'Renamed' }, new Date('2026-12-03T11:00:00.000Z'), 1);
    expect(updated).toMatchObject({ name: 'Renamed', version: 2, createdAt: NOW.toISOString(), lastRunId: 'run-1', scoresRunId: 'run-0' });
    await expect(store.putLookalike(fields(id), NOW, 1)).rejects.toThrow(LookalikeConflictError);
    expect((await store.listLookalikes()).map((lookalike) => lookalike.id)).toContain(id);
  });

  test('a model larger than an item is kept in gzipped parts and read back whole', async () => {
    const id = unique('lal');
    const values = Array.from({ length: 200_000 }, (_, i) => Math.sin(i) * 1e6);
    const model = {
      modelVersion: 'lal-x',
      createdAt: NOW.toISOString(),
      features: [],
      model: { baseLogit: 0.1, trees: [] },
      calibration: values,
    } as LookalikeModel;
    await store.saveModel(id, 'run-1', model);
    const parts = await doc.send(
      new QueryCommand({ TableName: tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `LAL#${id}` } }),
    );
    expect(parts.Items?.length).toBeGreaterThan(1);
    expect(await store.loadModel(id, 'run-1')).toEqual(model);
    expect(await store.loadModel(id, 'run-2')).toBeUndefined();
  });

  test("scores are written per slice in bucket items and read from the profile's bucket", async () => {
    const id = unique('lal');
    const layout: ScoreLayout = { runId: 'run-1', buckets: 3, modelVersion: 'lal-1' };
    const scores = Array.from({ length: 300 }, (_, i) => [`p${i}`, i / 300] as const);
    await store.writeScores(id, layout, 0, 0, scores.slice(0, 200));
    await store.writeScores(id, layout, 1, 0, scores.slice(200));
    const items = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': lookalikeKeys.scoreBucket(id, 'run-1', bucketOf('p250', 3)) },
      }),
    );
    expect(items.Items?.map((item) => item.SK).sort()).toEqual(['S#0#0#0', 'S#1#0#0']);
    expect(await store.scoreOf(id, layout, 'p250')).toEqual({ score: 250 / 300, band: 'medium', modelVersion: 'lal-1' });
    expect(await store.scoreOf(id, layout, 'p299')).toEqual({ score: 299 / 300, band: 'high', modelVersion: 'lal-1' });
    expect(await store.scoreOf(id, layout, 'nobody')).toBeUndefined();
    await store.deleteScores(id, layout);
    expect(await store.scoreOf(id, layout, 'p250')).toBeUndefined();
  });

  test('deleting a lookalike removes its runs, model and the scores of its runs', async () => {
    const id = unique('lal');
    await store.putLookalike(fields(id), NOW);
    const layout: ScoreLayout = { runId: 'run-1', buckets: 2, modelVersion: 'lal-1' };
    await store.putRun({ lookalikeId: id, runId: 'run-1', status: 'completed', trigger: 'api', startedAt: NOW.toISOString(), warnings: [], layout });
    await store.saveModel(id, 'run-1', {
      modelVersion: 'lal-1',
      createdAt: NOW.toISOString(),
      features: [],
      model: { baseLogit: 0, trees: [] },
      calibration: [0, 1],
    });
    await store.writeScores(id, layout, 0, 0, [['p1', 0.5]]);
    expect(await store.getRun(id, 'run-1')).toMatchObject({ status: 'completed', layout });
    expect(await store.deleteLookalike(id)).toBe(true);
    expect(await store.getLookalike(id)).toBeUndefined();
    expect(await store.getRun(id, 'run-1')).toBeUndefined();
    expect(await store.scoreOf(id, layout, 'p1')).toBeUndefined();
    expect(await store.deleteLookalike(id)).toBe(false);
  });
});

describe('bulk memberships of a run that alone writes them', () => {
  test('applies changes in batches, returns the same transitions on a retry, and the run sets the size', async () => {
    const segmentId = unique('audience');
    const segment = await segments.putSegment(
      { id: segmentId, name: 'Audience', definition: { score: 'lookalike:x', op: 'gte', value: 0.9 }, schedule: null, destinations: [] },
      NOW,
    );
    const at = new Date('2026-12-03T10:05:00.000Z');
    const enter = Array.from({ length: 60 }, (_, i) => ({ profileId: `p${i}`, shouldBeMember: true }));
    const first = await segments.applyMembershipsInBulk(segment, enter, at, 'run-1');
    expect(first).toHaveLength(60);
    expect(first[0]).toMatchObject({ event: 'Audience Entered', segmentId, profileId: 'p0', runId: 'run-1' });
    const retried = await segments.applyMembershipsInBulk(segment, enter, at, 'run-1');
    expect(retried.map((transition) => transition.transitionId)).toEqual(first.map((transition) => transition.transitionId));
    expect(await segments.applyMembershipsInBulk(segment, enter, new Date('2026-12-04T10:05:00.000Z'), 'run-2')).toEqual([]);
    const exit = await segments.applyMembershipsInBulk(segment, [{ profileId: 'p0', shouldBeMember: false }], new Date('2026-12-04T10:05:00.000Z'), 'run-2');
    expect(exit.map((transition) => transition.event)).toEqual(['Audience Exited']);
    expect(await segments.getMembership(segmentId, 'p0')).toMatchObject({ member: false, version: 2 });
    expect(await segments.countMembers(segmentId)).toBe(59);
    await segments.setSize(segmentId, 59);
    expect((await segments.getSegment(segmentId))?.size).toBe(59);
    await segments.deleteSegment(segmentId);
    expect(await segments.applyMembershipsInBulk(segment, [{ profileId: 'p1', shouldBeMember: false }], at, 'run-3')).toEqual([]);
  });
});

describe('rebuild outbox', () => {
  test('a batch of intents is one item, pending until cleared', async () => {
    const outbox = rebuild.outbox(unique('run'), '0', () => new Date());
    const intents = Array.from({ length: 2_500 }, (_, i) => ({ segmentId: 's', profileId: `p${i}`, shouldBeMember: i % 2 === 0 }));
    await outbox.record(intents);
    await outbox.record(intents.slice(0, 10));
    expect(await outbox.pending()).toHaveLength(2_510);
    await outbox.clear(intents.slice(0, 10));
    expect(await outbox.pending()).toHaveLength(2_500);
    await outbox.clear(await outbox.pending());
    expect(await outbox.pending()).toEqual([]);
  });
});
