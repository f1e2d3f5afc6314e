/**
 * `npm run bench:dynamodb-local`: the raw write capacity of DynamoDB Local on this machine
 * (single puts, batch reads and transactions of growing size at several concurrencies), the
 * ceiling under every local pipeline benchmark.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { BatchGetCommand, DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { PROFILES_TABLE } from '../lib/definitions/tables';
import { ensureTables, startDynamoDbLocal } from '../local/dynamodb-local';

const OPERATIONS = 300;
const TABLE = 'bench-dynamodb-local';

type Operation = (doc: DynamoDBDocumentClient, key: string) => Promise<unknown>;

const transaction =
  (items: number): Operation =>
  (doc, key) =>
    doc.send(
      new TransactWriteCommand({
        TransactItems: Array.from({ length: items }, (_, i) => ({
          Put: { TableName: TABLE, Item: { PK: `${key}-${i}`, SK: 'x', v: 1 }, ConditionExpression: 'attribute_not_exists(PK)' },
        })),
      }),
    );

const OPERATIONS_BY_NAME: Record<string, Operation> = {
  put: (doc, key) => doc.send(new PutCommand({ TableName: TABLE, Item: { PK: key, SK: 'x', v: 1 } })),
  'batch-get-5': (doc, key) =>
    doc.send(
      new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: Array.from({ length: 5 }, (_, i) => ({ PK: `${key}-${i}`, SK: 'x' })), ConsistentRead: true } } }),
    ),
  'transaction-3': transaction(3),
  'transaction-6': transaction(6),
  'transaction-30': transaction(30),
};

async function main(): Promise<void> {
  const dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000, logger: new Logger({ logLevel: 'ERROR' }) });
  try {
    await ensureTables(dynamo.client, [PROFILES_TABLE], () => TABLE);
    const doc = DynamoDBDocumentClient.from(dynamo.client);
    for (const concurrency of [1, 8, 32]) {
      for (const [name, operation] of Object.entries(OPERATIONS_BY_NAME)) {
        let next = 0;
        const started = Date.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            for (let index = next++; index < OPERATIONS; index = next++) await operation(doc, `${name}-${concurrency}-${index}`);
          }),
        );
        const perSecond = Math.round(OPERATIONS / ((Date.now() - started) / 1000));
        console.log(JSON.stringify({ operation: name, concurrency, perSecond }));
      }
    }
  } finally {
    await dynamo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
