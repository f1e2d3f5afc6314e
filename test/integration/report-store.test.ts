import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoReportStore } from '../../functions/adapters/dynamodb-report-store';
import { buildJourneyReport } from '../../functions/domain/reports/journey-report';
import { PROFILES_TABLE } from '../../lib/definitions/tables';
import { ensureTables, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';

/** The daily journey counters read back from the real DynamoDB engine (table and GSI1). */
let dynamo: DynamoDbLocal;
let doc: DynamoDBDocumentClient;
let tableName: string;

/**
 * Adds to the counters of one journey and day as the schema has the write side do it: the keys,
 * the index keys and the TTL set with the first count, the counters only ever ADDed.
 */
async function count(journeyKey: string, day: string, counters: Record<string, number>): Promise<void> {
  const names = Object.keys(counters);
  await doc.send(
    new UpdateCommand({
      TableName: tableName,
      Key: { PK: `RPT#${journeyKey}`, SK: `D#${day}` },
      UpdateExpression: `SET GSI1PK = :gsiPk, GSI1SK = :gsiSk, journeyKey = :journeyKey, #day = :day, expiresAt = if_not_exists(expiresAt, :expiresAt) ADD ${names.map((_, index) => `#c${index} :c${index}`).join(', ')}`,
      ExpressionAttributeNames: { '#day': 'day', ...Object.fromEntries(names.map((name, index) => [`#c${index}`, name])) },
      ExpressionAttributeValues: {
        ':gsiPk': 'RPT',
        ':gsiSk': `D#${day}#${journeyKey}`,
        ':journeyKey': journeyKey,
        ':day': day,
        ':expiresAt': Math.floor(Date.parse(`${day}T00:00:00.000Z`) / 1_000) + 400 * 86_400,
        ...Object.fromEntries(names.map((name, index) => [`:c${index}`, counters[name]])),
      },
    }),
  );
}

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000, logger: new Logger({ logLevel: 'ERROR' }) });
  tableName = `profiles-${randomUUID()}`;
  await ensureTables(dynamo.client, [PROFILES_TABLE], () => tableName);
  doc = DynamoDBDocumentClient.from(dynamo.client);

  await count('cart-abandonment', '2026-02-28', { 'entrants:treatment': 100 });
  await count('cart-abandonment', '2026-03-01', { 'entrants:treatment': 2, 'entrants:holdout': 1, 'sent:email1': 2, 'skipped:holdout:email1': 1 });
  await count('cart-abandonment', '2026-03-01', { 'delivered:email1': 2, 'opened:email1': 1, 'conversions:treatment': 1, 'revenue:treatment': 19.99 });
  await count('cart-abandonment', '2026-03-03', { 'sent:email2': 1, 'ended:ordered:email2': 1 });
  await count('audience-email:gold', '2026-03-02', { 'entrants:treatment': 1, 'sent:audience': 1 });
  await count('product-view', '2026-03-03', { 'entrants:holdout': 1, 'skipped:holdout:promotion': 1 });
  await count('product-view', '2026-03-04', { 'entrants:treatment': 50 });
  // Other items of the index (a segment in the catalog) are not counters.
  await doc.send(
    new PutCommand({ TableName: tableName, Item: { PK: 'SEG#gold', SK: 'DEF', GSI1PK: 'SEGMENTS', GSI1SK: 'SEG#2026-03-02#gold', name: 'Gold' } }),
  );
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const byKeyAndDay = (a: { journeyKey: string; day: string }, b: { journeyKey: string; day: string }): number =>
  `${a.journeyKey} ${a.day}` < `${b.journeyKey} ${b.day}` ? -1 : 1;

test('reads every journey of the days in range, both ends included, with the counters and nothing else', async () => {
  const items = await new DynamoReportStore(dynamo.client, tableName).listCounters({ from: '2026-03-01', to: '2026-03-03' });
  expect([...items].sort(byKeyAndDay)).toEqual([
    { journeyKey: 'audience-email:gold', day: '2026-03-02', counters: { 'entrants:treatment': 1, 'sent:audience': 1 } },
    {
      journeyKey: 'cart-abandonment',
      day: '2026-03-01',
      counters: {
        'entrants:treatment': 2,
        'entrants:holdout': 1,
        'sent:email1': 2,
        'skipped:holdout:email1': 1,
        'delivered:email1': 2,
        'opened:email1': 1,
        'conversions:treatment': 1,
        'revenue:treatment': 19.99,
      },
    },
    { journeyKey: 'cart-abandonment', day: '2026-03-03', counters: { 'sent:email2': 1, 'ended:ordered:email2': 1 } },
    { journeyKey: 'product-view', day: '2026-03-03', counters: { 'entrants:holdout': 1, 'skipped:holdout:promotion': 1 } },
  ]);
});

test('reads one journey from its own partition, in range only', async () => {
  const items = await new DynamoReportStore(dynamo.client, tableName).listCounters({ from: '2026-03-01', to: '2026-03-04', journeyKey: 'product-view' });
  expect(items.map(({ journeyKey, day }) => [journeyKey, day])).toEqual([
    ['product-view', '2026-03-03'],
    ['product-view', '2026-03-04'],
  ]);
  expect(
    await new DynamoReportStore(dynamo.client, tableName).listCounters({ from: '2026-03-01', to: '2026-03-04', journeyKey: 'audience-email:silver' }),
  ).toEqual([]);
});

test('follows the pages of both queries to the end', async () => {
  const paged = new DynamoReportStore(dynamo.client, tableName, 1);
  expect(await paged.listCounters({ from: '2026-02-01', to: '2026-03-31' })).toHaveLength(6);
  expect(await paged.listCounters({ from: '2026-02-01', to: '2026-03-31', journeyKey: 'cart-abandonment' })).toHaveLength(3);
});

test('the report over the stored counters sums the days of each journey', async () => {
  const items = await new DynamoReportStore(dynamo.client, tableName).listCounters({ from: '2026-03-01', to: '2026-03-31' });
  const report = buildJourneyReport(items, { from: '2026-03-01', to: '2026-03-31' });
  expect(report.journeys.find((journey) => journey.journey === 'cart-abandonment')).toMatchObject({
    entrants: { treatment: 2, holdout: 1 },
    steps: { email1: { sent: 2, skipped: { holdout: 1 }, delivered: 2, opened: 1, openRate: 0.5 }, email2: { sent: 1, ended: { ordered: 1 } } },
    conversions: { treatment: 1, holdout: 0 },
    revenue: { treatment: 19.99, holdout: 0 },
    conversionRate: { treatment: 0.5, holdout: 0 },
  });
  expect(report.journeys.find((journey) => journey.segmentId === 'gold')).toMatchObject({ journey: 'audience-email', entrants: { treatment: 1, holdout: 0 } });
  expect(report.journeys.find((journey) => journey.journey === 'product-view')).toMatchObject({ entrants: { treatment: 50, holdout: 1 } });
});
