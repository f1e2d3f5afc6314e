import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { startPlatform, type RunningPlatform } from '../../local/platform';
import { SQS_JOURNAL_FILE } from '../../local/sqs-local';
import { fakeHandlers, pollUntil } from '../helpers/platform';

/** DMP_DATA_DIR keeps tables and everything still queued (or dead-lettered) across restarts. */

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let dataDir: string;
let running: RunningPlatform | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'dmp-local-'));
});

afterAll(async () => {
  await running?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function start(onBatch: (event: SQSEvent) => unknown): Promise<RunningPlatform> {
  return startPlatform({ port: 0, dataDir, logLevel: 'CRITICAL', handlers: fakeHandlers({ reconcile: async (event: SQSEvent) => onBatch(event) }) });
}

it('restores table items, unprocessed messages and dead letters after a restart', async () => {
  // First run: the consumer fails everything, so the messages stay invisible in the queue.
  const seenByFailingConsumer = new Set<string>();
  const first = await start((event) => {
    for (const record of event.Records) seenByFailingConsumer.add(record.body);
    return { batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })) };
  });
  running = first;
  const queue = first.queues.Events;
  if (!queue) throw new Error('the Events queue is missing');
  const table = first.tableNames.Profiles ?? '';
  const firstSqs = new SQSClient({ endpoint: first.endpoints.sqs, region: 'us-east-1', credentials });
  const firstDynamo = new DynamoDBClient({ endpoint: first.endpoints.dynamodb, region: 'us-east-1', credentials });
  await firstDynamo.send(new PutItemCommand({ TableName: table, Item: { PK: { S: 'P#kept' }, SK: { S: 'PROFILE' } } }));
  await firstSqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queue.url,
      Entries: ['a', 'b', 'c'].map((body, index) => ({
        Id: String(index),
        MessageBody: body,
        MessageAttributes: { origin: { DataType: 'String', StringValue: 'test' } },
      })),
    }),
  );
  await firstSqs.send(new SendMessageCommand({ QueueUrl: queue.deadLetterUrl, MessageBody: 'dead' }));
  await pollUntil(() => seenByFailingConsumer.size === 3, { description: 'the failing consumer saw every message' });
  firstSqs.destroy();
  firstDynamo.destroy();
  await first.stop();
  running = undefined;

  expect((await stat(path.join(dataDir, SQS_JOURNAL_FILE))).size).toBeGreaterThan(0);

  // Second run: a working consumer gets the messages again; the dead letter is still there.
  const delivered: SQSEvent['Records'] = [];
  const second = await start((event) => {
    delivered.push(...event.Records);
  });
  running = second;
  await pollUntil(() => delivered.length === 3, { description: 'restored messages delivered' });
  expect(delivered.map((record) => record.body).sort()).toEqual(['a', 'b', 'c']);
  expect(delivered[0]?.messageAttributes.origin).toMatchObject({ dataType: 'String', stringValue: 'test' });
  // Received once by the failing consumer: the count survives the restart, so redrive still happens.
  for (const record of delivered) expect(Number(record.attributes.ApproximateReceiveCount)).toBeGreaterThanOrEqual(2);

  const secondSqs = new SQSClient({ endpoint: second.endpoints.sqs, region: 'us-east-1', credentials });
  const secondDynamo = new DynamoDBClient({ endpoint: second.endpoints.dynamodb, region: 'us-east-1', credentials });
  const deadLetters = await secondSqs.send(
    new ReceiveMessageCommand({ QueueUrl: second.queues.Events?.deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  expect(deadLetters.Messages?.map((message) => message.Body)).toEqual(['dead']);
  const item = await secondDynamo.send(new GetItemCommand({ TableName: table, Key: { PK: { S: 'P#kept' }, SK: { S: 'PROFILE' } } }));
  expect(item.Item?.PK?.S).toBe('P#kept');
  secondSqs.destroy();
  secondDynamo.destroy();
});
