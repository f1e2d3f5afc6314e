import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoAttributionStore } from '../../functions/adapters/dynamodb-attribution-store';
import { attributeOrder, DEFAULT_ATTRIBUTION, type Touch } from '../../functions/domain/reports/attribution';
import { bucketOf, drawControlGroup } from '../../functions/domain/reports/control-group';
import { buildSegmentReport } from '../../functions/domain/reports/segment-report';
import { PROFILES_TABLE } from '../../lib/definitions/tables';
import { ensureTables, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';

/** Touches, orders and their counters on the real DynamoDB engine: each fact counted once. */
let dynamo: DynamoDbLocal;
let store: DynamoAttributionStore;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000, logger: new Logger({ logLevel: 'ERROR' }) });
  const tableName = `profiles-${randomUUID()}`;
  await ensureTables(dynamo.client, [PROFILES_TABLE], () => tableName);
  store = new DynamoAttributionStore(dynamo.client, tableName);
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const touch = (profileId: string, fields: Partial<Touch> = {}): Touch => ({
  profileId,
  segmentId: 'gold',
  channel: 'webhook',
  group: 'treatment',
  at: '2026-03-02T10:00:00.000Z',
  touchKey: `entry-${profileId}`,
  ...fields,
});

const report = async (segmentId: string) =>
  buildSegmentReport(
    await store.listSegmentCounters({ from: '2026-03-01', to: '2026-03-31', segmentId }),
    [],
    [],
    { from: '2026-03-01', to: '2026-03-31' },
    DEFAULT_ATTRIBUTION,
  ).rows;

it('counts one reach per touch key however often it is recorded, and keeps the newest touch per person, segment and channel', async () => {
  const people = Array.from({ length: 120 }, (_, index) => touch(`reach-${index}`, { group: index % 4 === 0 ? 'holdout' : 'treatment' }));
  expect(await store.recordTouches(people)).toBe(120);
  // A redelivery, and two concurrent recorders of the same touches: nothing more counted.
  const again = await Promise.all([store.recordTouches(people.slice(0, 50)), store.recordTouches(people.slice(0, 50))]);
  expect(again).toEqual([0, 0]);
  // A new entry of the same person counts again and replaces the stored touch.
  expect(await store.recordTouches([touch('reach-1', { touchKey: 'entry-2', at: '2026-03-05T00:00:00.000Z' })])).toBe(1);
  const [row] = await report('gold');
  expect(row).toMatchObject({ channel: 'webhook', reached: 91, heldOut: 30 });
  expect(await store.touchesOf(['reach-1'])).toEqual([expect.objectContaining({ touchKey: 'entry-2', at: '2026-03-05T00:00:00.000Z' })]);
}, 60_000);

it('counts an order once by order_id, converts a touch once, and credits revenue of every order', async () => {
  const segment = { segmentId: 'silver', channel: 'email' as const };
  await store.recordTouches([touch('buyer', segment), touch('held', { ...segment, group: 'holdout' })]);
  const order = (orderKey: string, profileId: string, revenue: number) =>
    attributeOrder(
      { orderKey, at: '2026-03-03T10:00:00.000Z', revenue },
      { profileId, mergedFrom: [] },
      {
        config: DEFAULT_ATTRIBUTION,
        touchesOf: (ids) => store.touchesOf(ids),
        recordOrder: (counted, buyer, credited) => store.recordOrder(counted, buyer, credited),
      },
    );
  await order('o-1', 'buyer', 30);
  await order('o-1', 'buyer', 30);
  await Promise.all([order('o-2', 'buyer', 20), order('o-2', 'buyer', 20)]);
  await order('o-3', 'held', 5);
  const [row] = await report('silver');
  expect(row).toMatchObject({
    reached: 1,
    heldOut: 1,
    conversions: { treatment: 1, holdout: 1 },
    orders: { treatment: 2, holdout: 1 },
    revenue: { treatment: 50, holdout: 5 },
  });
  const buyers = await store.listBuyerDays({ from: '2026-03-03', to: '2026-03-03' });
  expect(buyers.filter((day) => day.profileId === 'buyer')).toEqual([
    { profileId: 'buyer', bucket: bucketOf('buyer'), day: '2026-03-03', orders: 2, revenue: 50 },
  ]);
}, 60_000);

it('keeps one draw in force: a stale draw never replaces a newer one', async () => {
  expect(await store.currentDraw()).toBeUndefined();
  const first = drawControlGroup(0.05, new Date('2026-03-01T00:00:00.000Z'), undefined, () => 0.5);
  expect(await store.saveDraw(first)).toEqual(first);
  const second = drawControlGroup(0.1, new Date('2026-03-02T00:00:00.000Z'), first, () => 0.25);
  expect(await store.saveDraw(second)).toEqual(second);
  // A concurrent first draw that lost the race answers the draw in force.
  expect(await store.saveDraw(first)).toEqual(second);
  expect(await store.currentDraw()).toEqual({ share: 0.1, offset: 250, drawnAt: '2026-03-02T00:00:00.000Z', version: 2 });
}, 30_000);
