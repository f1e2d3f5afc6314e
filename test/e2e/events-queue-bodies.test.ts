import { randomUUID } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { IN_MEMORY, startPlatform, type RunningPlatform } from '../../local/platform';
import { adminFetch, pollUntil } from '../helpers/platform';

/**
 * The Events queue as reconcile reads it, on the local platform with every real handler: a body of
 * several messages (what the ingest function queues per request) with one the message contract
 * refuses, and a single-message body as earlier versions queued (and their dead letters hold).
 */
let platform: RunningPlatform;
let sqs: SQSClient;

beforeAll(async () => {
  platform = await startPlatform({ port: 0, dataDir: IN_MEMORY, logLevel: 'CRITICAL' });
  sqs = new SQSClient({ endpoint: platform.endpoints.sqs, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}, 90_000);

afterAll(async () => {
  await platform?.stop();
});

const now = new Date().toISOString();
const message = (userId: string, messageId: string, extra: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'Product Viewed',
  messageId,
  userId,
  properties: { product_id: 'p-1' },
  traits: {},
  context: {},
  timestamp: now,
  receivedAt: now,
  ...extra,
});
const send = (body: unknown) => sqs.send(new SendMessageCommand({ QueueUrl: platform.queues.Events!.url, MessageBody: JSON.stringify(body) }));
const eventsOf = async (userId: string): Promise<string[]> => {
  const response = await adminFetch(platform, `/v1/profiles/user_id:${userId}/events`);
  return response.status === 200 ? ((await response.json()) as { events: Array<{ messageId: string }> }).events.map((event) => event.messageId) : [];
};

it('applies the good messages of a body, quarantines the bad one alone, and reads a single-message body', async () => {
  const [ana, ben, old] = [`ana-${randomUUID()}`, `ben-${randomUUID()}`, `old-${randomUUID()}`];
  const bad = `bad-${randomUUID()}`;
  await send({ kind: 'accepted-messages', messages: [message(ana, `${ana}-1`), message(ben, bad, { timestamp: 'yesterday' }), message(ben, `${ben}-1`)] });
  await send(message(old, `${old}-1`));

  await pollUntil(async () => (await eventsOf(ana)).length === 1 && (await eventsOf(ben)).length === 1 && (await eventsOf(old)).length === 1, {
    timeoutMs: 30_000,
    description: 'the good messages on their profiles',
  });
  expect(await eventsOf(ben)).toEqual([`${ben}-1`]);
  const { items } = (await (await adminFetch(platform, '/v1/quarantine?limit=100')).json()) as { items: Array<Record<string, unknown>> };
  expect(items.filter((entry) => entry.messageId === bad)).toEqual([
    expect.objectContaining({ kind: 'message', consumer: 'reconcile', reason: 'timestamp is not an ISO 8601 time', messageId: bad }),
  ]);
  expect(await platform.drain(Date.now() + 10_000)).toBe(true);
  const queues = (await platform.health()).components.queues as Record<string, { dlq: number }>;
  expect(queues.Events?.dlq).toBe(0);
}, 60_000);
