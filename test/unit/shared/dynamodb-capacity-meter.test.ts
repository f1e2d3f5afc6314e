import { BatchGetItemCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { CapacityTally, DynamoCapacityMeter, type ItemKey, type ItemReader } from '../../../functions/adapters/dynamodb-capacity-meter';

/** functions/adapters/dynamodb-capacity-meter.ts: DynamoDB capacity by operation and item kind, for benchmarks. */

interface SentRequest {
  readonly operation: string;
  readonly body: Record<string, unknown>;
}

/** A DynamoDB client whose requests never leave the process: each operation gets its canned answer (an error when it has `__type`). */
function fakeDynamo(answers: Record<string, Record<string, unknown>>): { client: DynamoDBClient; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const handle = async (request: { headers: Record<string, string>; body?: unknown }) => {
    const operation = String(request.headers['x-amz-target']).split('.')[1] ?? '';
    sent.push({ operation, body: JSON.parse(new TextDecoder().decode(request.body as Uint8Array)) as Record<string, unknown> });
    const answer = answers[operation] ?? {};
    return {
      response: {
        statusCode: '__type' in answer ? 400 : 200,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: new TextEncoder().encode(JSON.stringify(answer)),
      },
    };
  };
  const requestHandler = {
    handle,
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  } as unknown as DynamoDBClientConfig['requestHandler'];
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler,
  });
  return { client, sent };
}

let channel = 0;
const opened: { close(): void }[] = [];

/** A meter on a fake client and a tally, on a channel of their own. */
function measured(answers: Record<string, Record<string, unknown>>, readItems: ItemReader = async () => []) {
  const name = `capacity-meter-test-${(channel += 1)}`;
  const meter = new DynamoCapacityMeter(readItems, name);
  const tally = new CapacityTally(name);
  opened.push(meter, tally);
  const { client, sent } = fakeDynamo(answers);
  meter.install(client);
  return { client, doc: DynamoDBDocumentClient.from(client), sent, tally };
}

afterEach(() => {
  for (const closable of opened.splice(0)) closable.close();
});

describe('DynamoCapacityMeter and CapacityTally', () => {
  it('ask DynamoDB for the consumed capacity and add up what it reports, by operation and item kind', async () => {
    const { doc, sent, tally } = measured({ PutItem: { ConsumedCapacity: { TableName: 'Profiles', CapacityUnits: 3 } } });
    await tally.start();
    await doc.send(new PutCommand({ TableName: 'Profiles', Item: { PK: 'P#p1', SK: 'E#2026-12-01#m1', body: 'x' } }));
    const report = await tally.stop();

    expect(sent[0]?.body.ReturnConsumedCapacity).toBe('TOTAL');
    expect(report.requests).toEqual({ PutItem: 1 });
    expect(report.entries).toEqual([{ operation: 'PutItem', itemKind: 'P#…E#', source: 'reported', items: 1, writeUnits: 3, readUnits: 0 }]);
  });

  it('share a batch read out over its items by their sizes, a missing item costing the minimum', async () => {
    const profile = { PK: { S: 'P#p1' }, SK: { S: 'PROFILE' }, traits: { S: 'x'.repeat(5_000) } };
    const { client, tally } = measured({
      BatchGetItem: { Responses: { Profiles: [profile] }, ConsumedCapacity: [{ TableName: 'Profiles', CapacityUnits: 3 }] },
    });
    await tally.start();
    await client.send(
      new BatchGetItemCommand({
        RequestItems: {
          Profiles: {
            Keys: [
              { PK: { S: 'P#p1' }, SK: { S: 'PROFILE' } },
              { PK: { S: 'ID#user_id#u1' }, SK: { S: 'ID' } },
            ],
            ConsistentRead: true,
          },
        },
      }),
    );
    const report = await tally.stop();

    expect(report.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operation: 'BatchGetItem', itemKind: 'P#…PROFILE', readUnits: 2 }),
        expect.objectContaining({ operation: 'BatchGetItem', itemKind: 'ID#…ID', readUnits: 1 }),
      ]),
    );
  });

  it('compute a transaction from its items’ sizes (2 units per KB each, ConditionCheck included), keeping what DynamoDB Local reported apart', async () => {
    const before = { PK: 'P#p1', SK: 'PROFILE', traits: 'y'.repeat(400) };
    const after = { PK: 'P#p1', SK: 'PROFILE', traits: 'y'.repeat(2_500) };
    const reads: ItemKey[][] = [];
    const readItems: ItemReader = async (_table, keys) => {
      reads.push([...keys]);
      return reads.length === 1 ? [before] : [after];
    };
    const { doc, tally } = measured({ TransactWriteItems: { ConsumedCapacity: [{ TableName: 'Profiles', CapacityUnits: 4 }] } }, readItems);
    await tally.start();
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: 'Profiles', Item: { PK: 'P#p1', SK: 'E#2026-12-01#m1', body: 'x'.repeat(1_500) } } },
          { ConditionCheck: { TableName: 'Profiles', Key: { PK: 'SUP#abc', SK: 'SUP' }, ConditionExpression: 'attribute_not_exists(PK)' } },
          {
            Update: {
              TableName: 'Profiles',
              Key: { PK: 'P#p1', SK: 'PROFILE' },
              UpdateExpression: 'SET traits = :t',
              ExpressionAttributeValues: { ':t': after.traits },
            },
          },
        ],
      }),
    );
    const report = await tally.stop();

    // Before: every item; after: the updated one.
    expect(reads.map((keys) => keys.length)).toEqual([3, 1]);
    expect(report.transactWriteUnitsReported).toBe(4);
    const units = Object.fromEntries(report.entries.map((entry) => [entry.itemKind, [entry.source, entry.writeUnits]]));
    // 1.5 KB put: 2 KB × 2; a check of a missing item: the 1 KB minimum × 2; an update growing to 2.5 KB: 3 KB × 2.
    expect(units).toEqual({ 'P#…E#': ['computed', 4], 'SUP#…SUP': ['computed', 2], 'P#…PROFILE': ['computed', 6] });
  });

  it('count failed requests apart, without units', async () => {
    const { doc, tally } = measured({
      TransactWriteItems: { __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException', message: 'Transaction cancelled' },
    });
    await tally.start();
    await expect(
      doc.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: 'Profiles', Item: { PK: 'P#p1', SK: 'PROFILE' } } }] })),
    ).rejects.toThrow('Transaction cancelled');
    const report = await tally.stop();

    expect(report.failed).toEqual({ 'TransactWriteItems TransactionCanceledException': 1 });
    expect(report.entries).toEqual([]);
  });

  it('leave requests alone while no tally measures', async () => {
    const { doc, sent, tally } = measured({ PutItem: {} });
    await doc.send(new PutCommand({ TableName: 'Profiles', Item: { PK: 'P#p1', SK: 'PROFILE' } }));
    await tally.start();
    const report = await tally.stop();

    expect(sent[0]?.body.ReturnConsumedCapacity).toBeUndefined();
    expect(report.requests).toEqual({});
  });
});
