import { SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput, type SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { SqsEventQueue } from '../../../functions/adapters/sqs-event-queue';
import { SqsJsonQueue } from '../../../functions/adapters/sqs-message-queue';
import type { AcceptedMessages } from '../../../functions/domain/pipeline/messages';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { EventQueueUnavailableError } from '../../../functions/ports/event-queue';

const QUEUE_URL = 'http://127.0.0.1:9324/000000000000/events';
const sqs = mockClient(SQSClient);

function message(index: number, properties: Record<string, unknown> = {}): AcceptedMessage {
  return {
    type: 'track',
    messageId: `msg-${index}`,
    userId: `user-${index}`,
    event: 'Product Viewed',
    properties,
    traits: {},
    context: {},
    timestamp: '2026-01-01T00:00:00.000Z',
    receivedAt: '2026-01-01T00:00:01.000Z',
  };
}

function messages(count: number): AcceptedMessage[] {
  return Array.from({ length: count }, (_, index) => message(index));
}

/** Answers like SQS: every entry succeeds unless `fails` says otherwise. */
function answer(input: SendMessageBatchCommandInput, fails: (entryBody: AcceptedMessage) => boolean = () => false): SendMessageBatchCommandOutput {
  const entries = input.Entries ?? [];
  const failing = entries.filter((entry) => fails(JSON.parse(entry.MessageBody ?? '{}') as AcceptedMessage));
  return {
    $metadata: {},
    Successful: entries.filter((entry) => !failing.includes(entry)).map((entry) => ({ Id: entry.Id, MessageId: `sqs-${entry.Id}`, MD5OfMessageBody: 'md5' })),
    Failed: failing.map((entry) => ({ Id: entry.Id, Code: 'InternalError', SenderFault: false })),
  };
}

function sentBodies(): AcceptedMessage[][] {
  return sqs.commandCalls(SendMessageBatchCommand).map((call) => (call.args[0].input.Entries ?? []).map((entry) => JSON.parse(entry.MessageBody ?? '{}')));
}

/** A queue of one SQS message per accepted message, as the platform's other queues send theirs. */
function queue(options: { maxConcurrentCalls?: number; maxAttempts?: number } = {}) {
  const waits: number[] = [];
  const jsonQueue = new SqsJsonQueue<AcceptedMessage>({
    client: new SQSClient({ region: 'us-east-1' }),
    queueUrl: QUEUE_URL,
    ...options,
    attributesOf: (accepted) => ({ type: accepted.type, messageId: accepted.messageId }),
    wait: async (milliseconds) => {
      waits.push(milliseconds);
    },
  });
  return { jsonQueue, waits };
}

const eventQueue = (): SqsEventQueue => new SqsEventQueue({ client: new SQSClient({ region: 'us-east-1' }), queueUrl: QUEUE_URL });

beforeEach(() => sqs.reset());

describe('SqsJsonQueue', () => {
  it('sends one SQS message per accepted message, in calls of at most 10 entries', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => answer(input));
    await queue().jsonQueue.send(messages(25));

    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls.map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 5]);
    expect(calls.every((call) => call.args[0].input.QueueUrl === QUEUE_URL)).toBe(true);
    expect(
      sentBodies()
        .flat()
        .map((body) => body.messageId),
    ).toEqual(messages(25).map((m) => m.messageId));
  });

  it('gives each entry an Id unique in its call and routing attributes without PII', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => answer(input));
    await queue().jsonQueue.send(messages(3));

    const entries = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries ?? [];
    expect(new Set(entries.map((entry) => entry.Id)).size).toBe(3);
    expect(entries.every((entry) => /^[A-Za-z0-9_-]{1,80}$/.test(entry.Id ?? ''))).toBe(true);
    expect(entries[1]?.MessageAttributes).toEqual({
      type: { DataType: 'String', StringValue: 'track' },
      messageId: { DataType: 'String', StringValue: 'msg-1' },
    });
    expect(JSON.stringify(entries.map((entry) => entry.MessageAttributes))).not.toContain('user-');
  });

  it('keeps every call under 256 KiB of payload', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => answer(input));
    const large = Array.from({ length: 10 }, (_, index) => message(index, { blob: 'x'.repeat(30 * 1024) }));
    await queue().jsonQueue.send(large);

    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls.map((call) => call.args[0].input.Entries?.length)).toEqual([8, 2]);
    for (const call of calls) {
      const bytes = (call.args[0].input.Entries ?? []).reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody ?? '') + 64, 0);
      expect(bytes).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it('retries only the entries SQS reported as failed, with growing backoff', async () => {
    let call = 0;
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      call += 1;
      // msg-3 and msg-7 fail on the first two attempts, then succeed.
      return answer(input, (body) => call <= 2 && ['msg-3', 'msg-7'].includes(body.messageId));
    });
    const { jsonQueue, waits } = queue();
    await jsonQueue.send(messages(10));

    expect(sentBodies().map((bodies) => bodies.map((body) => body.messageId))).toEqual([
      messages(10).map((m) => m.messageId),
      ['msg-3', 'msg-7'],
      ['msg-3', 'msg-7'],
    ]);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(25);
    expect(waits[1]).toBeGreaterThanOrEqual(50);
    expect(waits[1]).toBeLessThanOrEqual(100);
  });

  it('treats an entry reported neither successful nor failed as not stored', async () => {
    let call = 0;
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      call += 1;
      const output = answer(input);
      return call === 1 ? { ...output, Successful: output.Successful?.slice(1) } : output;
    });
    await queue().jsonQueue.send(messages(3));
    expect(sentBodies()[1]?.map((body) => body.messageId)).toEqual(['msg-0']);
  });

  it('throws EventQueueUnavailableError when entries still fail after the last attempt', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => answer(input, (body) => body.messageId === 'msg-1'));
    const { jsonQueue } = queue({ maxAttempts: 3 });
    const error = await jsonQueue.send(messages(2)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EventQueueUnavailableError);
    expect((error as Error).message).toBe('SQS did not accept 1 messages after 3 attempts (InternalError)');
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });

  it('throws EventQueueUnavailableError when the call itself fails, keeping the cause', async () => {
    const outage = Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' });
    sqs.on(SendMessageBatchCommand).rejects(outage);
    const error = await queue()
      .jsonQueue.send(messages(1))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EventQueueUnavailableError);
    expect((error as Error).cause).toBe(outage);
  });

  it('starts no new calls after one failed', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('AccessDenied'));
    await expect(queue({ maxConcurrentCalls: 1 }).jsonQueue.send(messages(50))).rejects.toBeInstanceOf(EventQueueUnavailableError);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('keeps at most maxConcurrentCalls calls in flight', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    sqs.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return answer(input);
    });
    await queue({ maxConcurrentCalls: 3 }).jsonQueue.send(messages(200));

    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(20);
    expect(mostInFlight).toBe(3);
  });

  it('makes no call for nothing', async () => {
    await queue().jsonQueue.send([]);
    expect(sqs.calls()).toHaveLength(0);
  });
});

describe('SqsEventQueue', () => {
  const bodies = (): AcceptedMessages[] => sentBodies().flat() as unknown as AcceptedMessages[];

  it('packs a request’s messages in order into bodies of at most 100, named by kind and count only (no PII)', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => answer(input));
    await eventQueue().enqueue(messages(250));

    expect(bodies().map((body) => [body.kind, body.messages.length])).toEqual([
      ['accepted-messages', 100],
      ['accepted-messages', 100],
      ['accepted-messages', 50],
    ]);
    expect(bodies().flatMap((body) => body.messages.map((accepted) => accepted.messageId))).toEqual(messages(250).map((m) => m.messageId));
    const entries = sqs.commandCalls(SendMessageBatchCommand).flatMap((call) => call.args[0].input.Entries ?? []);
    expect(entries[2]?.MessageAttributes).toEqual({
      kind: { DataType: 'String', StringValue: 'accepted-messages' },
      messages: { DataType: 'String', StringValue: '50' },
    });
  });

  it('starts a new body before 200 KiB, and sends each in a call under 256 KiB', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => answer(input));
    await eventQueue().enqueue(Array.from({ length: 10 }, (_, index) => message(index, { blob: 'x'.repeat(30 * 1024) })));

    expect(bodies().map((body) => body.messages.length)).toEqual([6, 4]);
    for (const call of sqs.commandCalls(SendMessageBatchCommand)) {
      const bytes = (call.args[0].input.Entries ?? []).reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody ?? '') + 64, 0);
      expect(bytes).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it('escapes the characters SQS refuses in a body, keeping the same JSON value', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => answer(input));
    const odd = message(0, { note: 'a\uFFFEb\uFFFFc\u0001d\uD800e\u{1F600}' });
    await eventQueue().enqueue([odd]);

    const body = sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0]?.MessageBody ?? '';
    // Only tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD and U+10000-U+10FFFF may appear in SQS bodies.
    expect(body).toMatch(/^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u);
    expect(JSON.parse(body)).toEqual({ kind: 'accepted-messages', messages: [odd] });
  });

  it('makes no call for nothing', async () => {
    await eventQueue().enqueue([]);
    expect(sqs.calls()).toHaveLength(0);
  });
});
