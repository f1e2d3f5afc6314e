import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { EVENTS_QUEUE } from '../../lib/definitions/queues';
import { EventSourcePoller } from '../../local/event-source-poller';
import { startPlatform, type RunningPlatform } from '../../local/platform';
import { startLocalSqs, type LocalSqs } from '../../local/sqs-local';
import { fakeHandlers, pollUntil } from '../helpers/platform';
import { QUEUES } from '../../lib/definitions/queues';

/**
 * The poller plays Lambda's SQS event source mapping on the real platform (fake consumer):
 * short visibility timeout and 3 receives before the DLQ so retries happen within seconds.
 */
const MAX_RECEIVE_COUNT = 3;

let platform: RunningPlatform;
let sqs: SQSClient;
/** Every record the consumer was invoked with, in order, and the batches they came in. */
const deliveries: SQSRecord[] = [];
const batches: string[][] = [];
let consume: (event: SQSEvent) => Promise<SQSBatchResponse | void> = async () => undefined;

beforeAll(async () => {
  platform = await startPlatform({
    port: 0,
    dataDir: ':memory:',
    logLevel: 'CRITICAL',
    queueOverrides: { Events: { visibilityTimeoutSeconds: 1, maxReceiveCount: MAX_RECEIVE_COUNT, consumer: { maxBatchingWindowSeconds: 0 } } },
    handlers: fakeHandlers({
      reconcile: async (event: SQSEvent) => {
        deliveries.push(...event.Records);
        batches.push(event.Records.map((record) => record.body));
        return consume(event);
      },
    }),
  });
  sqs = new SQSClient({ endpoint: platform.endpoints.sqs, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  sqs?.destroy();
  await platform?.stop();
});

function queueUrl(): string {
  const queue = platform.queues.Events;
  if (!queue) throw new Error('the Events queue is missing');
  return queue.url;
}

async function sendBodies(url: string, bodies: readonly string[]): Promise<void> {
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: url,
      Entries: bodies.map((body, index) => ({
        Id: String(index),
        MessageBody: body,
        MessageAttributes: { kind: { DataType: 'String', StringValue: `kind-${index}` } },
      })),
    }),
  );
}

function deliveriesOf(body: string): SQSRecord[] {
  return deliveries.filter((record) => record.body === body);
}

async function drained(): Promise<void> {
  expect(await platform.drain(Date.now() + 15_000)).toBe(true);
}

it('delivers a batch shaped like Lambda and redelivers only the reported failures', async () => {
  const bodies = ['ok-1', 'ok-2', 'retry-1', 'ok-3', 'retry-2'];
  consume = async (event) => ({
    batchItemFailures: event.Records.filter((record) => record.body.startsWith('retry-') && record.attributes.ApproximateReceiveCount === '1').map(
      (record) => ({ itemIdentifier: record.messageId }),
    ),
  });
  await sendBodies(queueUrl(), bodies);

  await pollUntil(() => deliveriesOf('retry-1').length === 2 && deliveriesOf('retry-2').length === 2, {
    timeoutMs: 15_000,
    description: 'failed messages redelivered',
  });
  await drained();

  expect(batches).toContainEqual(bodies);
  for (const body of ['ok-1', 'ok-2', 'ok-3']) expect(deliveriesOf(body)).toHaveLength(1);
  expect(deliveriesOf('retry-1').map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);

  const record = deliveriesOf('ok-2')[0];
  expect(record).toMatchObject({
    body: 'ok-2',
    md5OfBody: createHash('md5').update('ok-2').digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: platform.queues.Events?.arn,
    awsRegion: 'us-east-1',
    messageAttributes: { kind: { dataType: 'String', stringValue: 'kind-1', stringListValues: [], binaryListValues: [] } },
    attributes: { ApproximateReceiveCount: '1' },
  });
  expect(record?.messageId).toMatch(/^[0-9a-f-]{36}$/);
  expect(record?.receiptHandle).toEqual(expect.any(String));
  expect(Number(record?.attributes.SentTimestamp)).toBeGreaterThan(0);
  expect(Number(record?.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(Number(record?.attributes.SentTimestamp));
  expect(record?.attributes.SenderId).not.toBe('');

  const { components } = await platform.health();
  // One poller per queue of lib/definitions/queues.ts, each up.
  const pollers = components.pollers as Record<string, unknown>;
  expect(Object.keys(pollers).sort()).toEqual(QUEUES.map((queue) => queue.id).sort());
  expect(pollers.Events).toEqual(expect.objectContaining({ state: 'up', inFlight: 0 }));
});

it('moves a poison message to the DLQ after maxReceiveCount receives while the rest of its batch succeeds', async () => {
  consume = async (event) => ({
    batchItemFailures: event.Records.filter((record) => record.body === 'poison').map((record) => ({ itemIdentifier: record.messageId })),
  });
  await sendBodies(queueUrl(), ['good-1', 'poison', 'good-2']);

  const deadLetterUrl = platform.queues.Events?.deadLetterUrl ?? '';
  const deadLetters = await pollUntil(
    async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))).Messages,
    { timeoutMs: 20_000, description: 'poison message in the DLQ' },
  );
  expect(deadLetters.map((message) => message.Body)).toEqual(['poison']);
  expect(deliveriesOf('poison').map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['1', '2', '3']);
  expect(deliveriesOf('good-1')).toHaveLength(1);
  expect(deliveriesOf('good-2')).toHaveLength(1);
  await drained();
  expect(deliveriesOf('poison')).toHaveLength(MAX_RECEIVE_COUNT);
});

it('retries the whole batch when the handler throws', async () => {
  const bodies = ['whole-1', 'whole-2', 'whole-3'];
  let thrown = false;
  consume = async () => {
    if (!thrown) {
      thrown = true;
      throw new Error('downstream unavailable');
    }
  };
  await sendBodies(queueUrl(), bodies);

  await pollUntil(() => bodies.every((body) => deliveriesOf(body).length === 2), { timeoutMs: 15_000, description: 'whole batch redelivered' });
  await drained();
  expect(batches).toContainEqual(bodies);
  for (const body of bodies) {
    expect(deliveriesOf(body).map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
  }
});

describe('concurrency', () => {
  let localSqs: LocalSqs;

  beforeAll(async () => {
    localSqs = await startLocalSqs([{ ...EVENTS_QUEUE, id: 'Concurrency', consumer: { ...EVENTS_QUEUE.consumer, batchSize: 1 } }], {
      logger: new Logger({ serviceName: 'poller-test', logLevel: 'CRITICAL' }),
    });
  });

  afterAll(async () => {
    await localSqs?.stop();
  });

  it('keeps at most four batches in flight locally, whatever maxConcurrency says', async () => {
    const queue = localSqs.queues[0];
    if (!queue) throw new Error('the queue was not created');
    let running = 0;
    let mostRunning = 0;
    let finished = 0;
    const releases: (() => void)[] = [];
    const poller = new EventSourcePoller({
      queue: queue.definition,
      queueArn: queue.arn,
      source: localSqs.polledQueue(queue.name),
      functionId: 'reconcile',
      logger: new Logger({ logLevel: 'CRITICAL' }),
      invoke: async () => {
        running += 1;
        mostRunning = Math.max(mostRunning, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        finished += 1;
      },
    });
    poller.start();
    try {
      await localSqs.client.send(
        new SendMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: Array.from({ length: 8 }, (_, index) => ({ Id: String(index), MessageBody: `m-${index}` })),
        }),
      );
      await pollUntil(() => running === 4, { description: 'four batches running' });
      expect(poller.stats()).toMatchObject({ received: 4, inFlight: 4 });
      while (finished < 8) {
        for (const release of releases.splice(0)) release();
        await pollUntil(() => releases.length > 0 || finished === 8, { description: 'next batches started' });
      }
      expect(mostRunning).toBe(4);
      expect(await poller.drain(Date.now() + 5_000)).toBe(true);
      expect(poller.stats()).toEqual({ received: 8, succeeded: 8, failed: 0, inFlight: 0 });
    } finally {
      for (const release of releases) release();
      await poller.stop(Date.now() + 5_000);
    }
  });
});
