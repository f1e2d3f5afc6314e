import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ACTIVITY_PARTITION, DynamoActivityCounters } from '../../functions/adapters/dynamodb-activity-counters';
import { activityDays, activityIncrements } from '../../functions/domain/operations/activity';
import { counterExpiresAt } from '../../functions/domain/reports/journey-counters';
import type { DynamoDbLocal } from '../../local/dynamodb-local';
import { deniedRequests, recordRequests, type RecordedRequest } from '../helpers/iam-access';
import { startProfilesTable } from '../helpers/profiles-table';

/** The activity counters on the real DynamoDB engine: one UpdateItem a day, ADDed across batches, read back by range. */
let dynamo: DynamoDbLocal;
let counters: DynamoActivityCounters;
let doc: DynamoDBDocumentClient;
let tableName: string;
let requests: RecordedRequest[] = [];

beforeAll(async () => {
  ({ dynamo, tableName } = await startProfilesTable());
  requests = recordRequests(dynamo.client);
  counters = new DynamoActivityCounters(dynamo.client, tableName);
  doc = DynamoDBDocumentClient.from(dynamo.client);
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

test('batches add up per hour, one UpdateItem per day of a batch, and the range reads back with zeros filled', async () => {
  const now = new Date('2026-03-15T10:00:00.000Z');
  requests.length = 0;
  await counters.add(
    activityIncrements(
      [
        { receivedAt: '2026-03-14T23:59:00.000Z', merged: 1 },
        { receivedAt: '2026-03-15T10:01:00.000Z', merged: 0 },
        { receivedAt: '2026-03-15T10:02:00.000Z', merged: 2 },
      ],
      now,
    ),
  );
  expect(requests.map((request) => request.command)).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
  await counters.add(activityIncrements([{ receivedAt: '2026-03-15T10:30:00.000Z', merged: 0 }], now));
  // Outside the range read below.
  await counters.add(activityIncrements([{ receivedAt: '2026-03-17T08:00:00.000Z', merged: 0 }], now));

  // As their roles allow on AWS (DynamoDB Local enforces no IAM): reconcile writes, the Operations API reads.
  expect(deniedRequests('reconcile', requests)).toEqual([]);
  requests.length = 0;
  const stored = await counters.list({ from: '2026-03-13', to: '2026-03-16' });
  expect(deniedRequests('operationsApi', requests)).toEqual([]);
  expect(deniedRequests('reportApi', requests)).not.toEqual([]);
  expect(stored).toEqual([
    { day: '2026-03-14', counters: { 'events:23': 1, 'merges:23': 1 } },
    { day: '2026-03-15', counters: { 'events:10': 3, 'merges:10': 2 } },
  ]);
  const days = activityDays(stored, '2026-03-13', '2026-03-16');
  expect(days.map(({ date, events, merges }) => ({ date, events, merges }))).toEqual([
    { date: '2026-03-13', events: 0, merges: 0 },
    { date: '2026-03-14', events: 1, merges: 1 },
    { date: '2026-03-15', events: 3, merges: 2 },
    { date: '2026-03-16', events: 0, merges: 0 },
  ]);

  const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: { PK: ACTIVITY_PARTITION, SK: 'D#2026-03-15' } }));
  // The report counters' TTL, and no index keys: the counters stay out of GSI1.
  expect(Item).toMatchObject({ day: '2026-03-15', expiresAt: counterExpiresAt('2026-03-15') });
  expect(Item).not.toHaveProperty('GSI1PK');
});
