import { deflateSync, gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { sha256Hex } from '../../../functions/domain/auth/credentials';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { createIngestHandler, type IngestDependencies } from '../../../functions/handlers/ingest';
import { EventQueueUnavailableError, type EventQueue } from '../../../functions/ports/event-queue';
import { apiGatewayEvent, basicAuthorization, type RequestShape } from '../http/api-gateway-event';

const WRITE_KEY = 'wk-live-2026';
const ROTATED_WRITE_KEY = 'wk-live-2025';
const RECEIVED_AT = new Date('2026-03-01T12:00:00.000Z');

/** Records what was queued; can be told to fail like an unavailable queue. */
class FakeEventQueue implements EventQueue {
  readonly queued: AcceptedMessage[] = [];
  calls = 0;
  failure: Error | undefined;

  async enqueue(messages: readonly AcceptedMessage[]): Promise<void> {
    this.calls += 1;
    if (this.failure) throw this.failure;
    this.queued.push(...messages);
  }
}

let queue: FakeEventQueue;
let logger: Logger;
let generatedIds: number;

function dependencies(): IngestDependencies {
  return {
    queue,
    writeKeyHashes: async () => [sha256Hex(ROTATED_WRITE_KEY), sha256Hex(WRITE_KEY)],
    now: () => RECEIVED_AT,
    newMessageId: () => `generated-${(generatedIds += 1)}`,
  };
}

beforeEach(() => {
  queue = new FakeEventQueue();
  logger = new Logger({ serviceName: 'ingest-test', logLevel: 'SILENT' });
  generatedIds = 0;
});

interface Reply {
  readonly status: number;
  readonly body: { success: boolean; accepted?: number; errors?: { index?: number; messageId?: string; reason: string }[] };
  readonly headers: Record<string, string | number | boolean>;
}

async function send(request: RequestShape): Promise<Reply> {
  const handler = createIngestHandler(logger, dependencies);
  const result: APIGatewayProxyStructuredResultV2 = await handler(apiGatewayEvent(request), { awsRequestId: 'lambda-1' });
  return { status: result.statusCode ?? 0, body: JSON.parse(result.body ?? '{}'), headers: result.headers ?? {} };
}

/** A request authenticated like Segment's server SDKs: Basic `writeKey:`, JSON body. */
function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return send({
    path,
    body: JSON.stringify(body),
    headers: { authorization: basicAuthorization(WRITE_KEY), 'content-type': 'application/json', ...headers },
  });
}

const track = { userId: 'user-1', event: 'Product Viewed', properties: { product_id: 'p-1' }, messageId: 'm-1' };

describe('ingest handler: success', () => {
  it('answers 200 {"success":true} once the message is queued', async () => {
    const reply = await post('/v1/track', { ...track, timestamp: '2026-02-01T10:00:00+01:00' });

    expect(reply).toMatchObject({ status: 200, body: { success: true } });
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(queue.queued).toEqual([
      expect.objectContaining({
        type: 'track',
        messageId: 'm-1',
        userId: 'user-1',
        event: 'Product Viewed',
        properties: { product_id: 'p-1' },
        timestamp: '2026-02-01T09:00:00.000Z',
        receivedAt: '2026-03-01T12:00:00.000Z',
      }),
    ]);
  });

  it.each([
    ['/v1/t', 'track', { userId: 'u', event: 'E' }],
    ['/v1/i', 'identify', { userId: 'u', traits: { plan: 'gold' } }],
    ['/v1/p', 'page', { anonymousId: 'a', name: 'Home' }],
    ['/v1/s', 'screen', { anonymousId: 'a', name: 'Cart' }],
    ['/v1/g', 'group', { userId: 'u', groupId: 'g' }],
    ['/v1/a', 'alias', { userId: 'u', previousId: 'a' }],
    ['/v1/identify', 'identify', { userId: 'u' }],
    ['/v1/page', 'page', { anonymousId: 'a' }],
    ['/v1/screen', 'screen', { anonymousId: 'a' }],
    ['/v1/group', 'group', { userId: 'u', groupId: 'g' }],
    ['/v1/alias', 'alias', { userId: 'u', previousId: 'a' }],
  ])('%s queues a %s message (the path decides the type)', async (path, type, message) => {
    const reply = await post(path, { ...message, type: 'track' });
    expect(reply.status).toBe(200);
    expect(queue.queued.map((queued) => queued.type)).toEqual([type]);
  });

  it.each(['/v1/batch', '/v1/b'])('%s queues every message of a batch with its own type', async (path) => {
    const reply = await post(path, {
      batch: [
        { type: 'identify', userId: 'u', traits: { email: 'ada@example.com' } },
        { type: 'track', userId: 'u', event: 'Order Completed' },
      ],
    });
    expect(reply).toMatchObject({ status: 200, body: { success: true } });
    expect(queue.queued.map((queued) => queued.type)).toEqual(['identify', 'track']);
    expect(queue.calls).toBe(1);
  });

  it('queues each visitor of an interleaved batch together, in their own order (so reconcile applies them in one commit)', async () => {
    const reply = await post('/v1/batch', {
      batch: [
        { type: 'page', anonymousId: 'cookie-a', messageId: 'a1' },
        { type: 'page', userId: 'user-b', messageId: 'b1' },
        { type: 'identify', anonymousId: 'cookie-a', userId: 'user-a', messageId: 'a2' },
        { type: 'track', userId: 'user-b', event: 'E', messageId: 'b2' },
        { type: 'track', userId: 'user-a', event: 'E', messageId: 'a3' },
        { type: 'page', anonymousId: 'cookie-c', messageId: 'c1' },
      ],
    });
    expect(reply.status).toBe(200);
    expect(queue.queued.map((queued) => queued.messageId)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'c1']);
  });

  it('generates a messageId for a message without one and uses the receipt time as event time', async () => {
    await post('/v1/track', { anonymousId: 'a', event: 'E' });
    expect(queue.queued[0]).toMatchObject({ messageId: 'generated-1', timestamp: '2026-03-01T12:00:00.000Z' });
  });

  it('turns a numeric userId into a string', async () => {
    await post('/v1/identify', { userId: 1234 });
    expect(queue.queued[0]?.userId).toBe('1234');
  });

  it('answers 200 to an empty batch without calling the queue', async () => {
    expect((await post('/v1/batch', { batch: [] })).status).toBe(200);
    expect(queue.calls).toBe(0);
  });
});

describe('ingest handler: content types and encodings', () => {
  it.each(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8'])(
    'reads JSON sent as %s',
    async (contentType) => {
      expect((await post('/v1/track', track, { 'content-type': contentType })).status).toBe(200);
      expect(queue.queued).toHaveLength(1);
    },
  );

  it('inflates a gzip body (RudderStack: gzip + x-www-form-urlencoded, Basic auth)', async () => {
    const reply = await send({
      path: '/v1/batch',
      body: gzipSync(JSON.stringify({ batch: [{ ...track, type: 'track' }] })),
      headers: {
        authorization: basicAuthorization(WRITE_KEY),
        'content-type': 'application/x-www-form-urlencoded',
        'content-encoding': 'gzip',
      },
    });
    expect(reply.status).toBe(200);
    expect(queue.queued).toHaveLength(1);
  });

  it('inflates a deflate body', async () => {
    const reply = await send({
      path: '/v1/track',
      body: deflateSync(JSON.stringify(track)),
      headers: { authorization: basicAuthorization(WRITE_KEY), 'content-encoding': 'deflate' },
    });
    expect(reply.status).toBe(200);
  });

  it('answers 400 to a body that claims gzip but is not', async () => {
    const reply = await send({
      path: '/v1/track',
      body: Buffer.from(JSON.stringify(track)),
      headers: { authorization: basicAuthorization(WRITE_KEY), 'content-encoding': 'gzip' },
    });
    expect(reply).toMatchObject({ status: 400, body: { success: false, errors: [{ reason: 'body is not valid gzip data' }] } });
    expect(queue.calls).toBe(0);
  });

  it('answers 413 to a gzip bomb without inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, ' '));
    const reply = await send({
      path: '/v1/batch',
      body: bomb,
      headers: { authorization: basicAuthorization(WRITE_KEY), 'content-encoding': 'gzip' },
    });
    expect(reply).toMatchObject({ status: 413, body: { success: false } });
  });

  it('answers 415 to an unknown content encoding', async () => {
    const reply = await send({
      path: '/v1/track',
      body: Buffer.from('x'),
      headers: { authorization: basicAuthorization(WRITE_KEY), 'content-encoding': 'compress' },
    });
    expect(reply.status).toBe(415);
  });
});

describe('ingest handler: authentication', () => {
  it('accepts the write key in the body (no Authorization header)', async () => {
    const reply = await send({ path: '/v1/track', body: JSON.stringify({ ...track, writeKey: WRITE_KEY }) });
    expect(reply.status).toBe(200);
    expect(JSON.stringify(queue.queued)).not.toContain(WRITE_KEY);
  });

  it('accepts the batch-level writeKey (Segment batch body)', async () => {
    const body = { batch: [{ ...track, type: 'track' }], writeKey: WRITE_KEY, sentAt: '2026-03-01T11:59:59Z' };
    expect((await send({ path: '/v1/batch', body: JSON.stringify(body) })).status).toBe(200);
  });

  it('accepts every active key during a rotation', async () => {
    const reply = await send({
      path: '/v1/track',
      body: JSON.stringify(track),
      headers: { authorization: basicAuthorization(ROTATED_WRITE_KEY) },
    });
    expect(reply.status).toBe(200);
  });

  it.each([
    ['no key at all', {}, track, 'missing write key'],
    ['a wrong Basic key', { authorization: basicAuthorization('guess') }, track, 'invalid write key'],
    ['a wrong body key', {}, { ...track, writeKey: 'guess' }, 'invalid write key'],
    ['an empty body key', {}, { ...track, writeKey: '' }, 'missing write key'],
    ['a right body key behind a wrong Basic key', { authorization: basicAuthorization('guess') }, { ...track, writeKey: WRITE_KEY }, 'invalid write key'],
    ['the write key as a Bearer token', { authorization: `Bearer ${WRITE_KEY}` }, track, 'missing write key'],
  ])('answers 401 to %s and queues nothing', async (_, headers, body, reason) => {
    const reply = await send({ path: '/v1/track', body: JSON.stringify(body), headers });
    expect(reply).toEqual({
      status: 401,
      headers: expect.any(Object),
      body: { success: false, errors: [{ reason }] },
    });
    expect(queue.calls).toBe(0);
  });

  it('checks a Basic key before reading the body', async () => {
    const reply = await send({
      path: '/v1/track',
      body: 'not json',
      headers: { authorization: basicAuthorization('guess') },
    });
    expect(reply.status).toBe(401);
  });
});

describe('ingest handler: bad input is a 4xx, never a 5xx', () => {
  it.each([
    ['malformed JSON', '{"userId": "u", ', 'body is not valid JSON'],
    ['an empty body', '', 'body is not valid JSON'],
    ['an array body', '[{"userId":"u","event":"E"}]', 'body must be a JSON object'],
    ['a string body', '"hello"', 'body must be a JSON object'],
  ])('answers 400 to %s', async (_, body, reason) => {
    const reply = await send({ path: '/v1/track', body, headers: { authorization: basicAuthorization(WRITE_KEY) } });
    expect(reply).toMatchObject({ status: 400, body: { success: false, errors: [{ reason }] } });
  });

  it('answers 400 to a batch that is not an array', async () => {
    const reply = await post('/v1/batch', { batch: { type: 'track' } });
    expect(reply).toMatchObject({ status: 400, body: { success: false, errors: [{ reason: 'batch: must be an array' }] } });
  });

  it('answers 400 with index and messageId to a message without identity', async () => {
    const reply = await post('/v1/track', { event: 'E', messageId: 'm-9' });
    expect(reply).toEqual({
      status: 400,
      headers: expect.any(Object),
      body: { success: false, errors: [{ index: 0, messageId: 'm-9', reason: 'userId or anonymousId is required' }] },
    });
    expect(queue.calls).toBe(0);
  });

  it.each([
    ['/v1/track', { userId: 'u' }, 'event: required for track'],
    ['/v1/alias', { userId: 'u' }, 'previousId: required for alias'],
    ['/v1/group', { userId: 'u' }, 'groupId: required for group'],
    ['/v1/identify', { userId: 'u', timestamp: 'not a date' }, 'timestamp: must be a valid ISO 8601 date'],
  ])('answers 400 to %s %j', async (path, body, reason) => {
    expect(await post(path, body)).toMatchObject({ status: 400, body: { errors: [{ index: 0, reason }] } });
  });

  it('answers 400 to a message over 32 KB', async () => {
    const reply = await post('/v1/track', { ...track, properties: { blob: 'x'.repeat(33 * 1024) } });
    expect(reply).toMatchObject({ status: 400, body: { errors: [{ index: 0, reason: 'message exceeds 32 KB' }] } });
  });

  it('answers 413 to a request over 500 KB and queues nothing', async () => {
    const batch = Array.from({ length: 20 }, (_, index) => ({
      ...track,
      type: 'track',
      messageId: `m-${index}`,
      properties: { blob: 'x'.repeat(30 * 1024) },
    }));
    const reply = await post('/v1/batch', { batch });
    expect(reply).toMatchObject({ status: 413, body: { success: false, errors: [{ reason: 'request body exceeds 500 KB' }] } });
    expect(queue.calls).toBe(0);
  });

  it('answers 400 to a batch of more than 2,500 messages and queues nothing', async () => {
    const batch = Array.from({ length: 2_501 }, () => ({ type: 'track', userId: 'u', event: 'E' }));
    const reply = await post('/v1/batch', { batch });
    expect(reply).toMatchObject({ status: 400, body: { errors: [{ reason: 'batch exceeds 2500 messages' }] } });
    expect(queue.calls).toBe(0);
  });

  it('queues the good messages of a partly bad batch and reports the bad ones', async () => {
    const reply = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u', event: 'A', messageId: 'ok-0' },
        { type: 'track', userId: 'u', messageId: 'no-event' },
        { type: 'fly', userId: 'u', messageId: 'unknown-type' },
        { type: 'identify', anonymousId: 'a', messageId: 'ok-3' },
        { type: 'page', messageId: 'no-identity' },
      ],
    });
    expect(reply).toEqual({
      status: 400,
      headers: expect.any(Object),
      body: {
        success: false,
        accepted: 2,
        errors: [
          { index: 1, messageId: 'no-event', reason: 'event: required for track' },
          { index: 2, messageId: 'unknown-type', reason: 'type: must be one of track, identify, page, screen, group, alias' },
          { index: 4, messageId: 'no-identity', reason: 'userId or anonymousId is required' },
        ],
      },
    });
    expect(queue.queued.map((message) => message.messageId)).toEqual(['ok-0', 'ok-3']);
  });

  it('reports accepted 0 when no message of a batch is good', async () => {
    const reply = await post('/v1/batch', { batch: [{ type: 'track', userId: 'u' }] });
    expect(reply.body).toMatchObject({ success: false, accepted: 0 });
    expect(queue.calls).toBe(0);
  });

  it('answers 404 to a path that is no tracking route', async () => {
    expect((await post('/v1/import', track)).status).toBe(404);
  });
});

describe('ingest handler: queue outages', () => {
  it('answers 503 with retry-after when the queue does not confirm, never 200', async () => {
    queue.failure = new EventQueueUnavailableError('SQS did not accept 3 messages after 4 attempts (InternalError)');
    const reply = await post('/v1/track', track);
    expect(reply).toMatchObject({ status: 503, body: { success: false }, headers: { 'retry-after': '1' } });
  });

  it('answers 503 to a partly bad batch whose good messages could not be queued', async () => {
    queue.failure = new EventQueueUnavailableError('down');
    const reply = await post('/v1/batch', { batch: [{ ...track, type: 'track' }, { type: 'track' }] });
    expect(reply.status).toBe(503);
  });

  it('answers a bare 500 to an unexpected failure, leaking nothing', async () => {
    queue.failure = new Error('arn:aws:sqs:eu-west-1:123456789012:internal-queue exploded');
    const reply = await post('/v1/track', track);
    expect(reply).toMatchObject({ status: 500, body: { success: false, errors: [{ reason: 'internal error' }] } });
    expect(JSON.stringify(reply.body)).not.toContain('arn:aws');
  });

  it('answers 500 (logged) when the write key hashes cannot be loaded', async () => {
    const failing = () => ({ ...dependencies(), writeKeyHashes: () => Promise.reject(new Error('SSM throttled')) });
    const errors = jest.spyOn(logger, 'error');
    const handler = createIngestHandler(logger, failing);
    const result = await handler(apiGatewayEvent({ path: '/v1/track', body: '{}' }), { awsRequestId: 'lambda-2' });
    expect(result.statusCode).toBe(500);
    expect(errors).toHaveBeenCalledWith('tracking request failed', expect.objectContaining({ requestId: 'lambda-2' }));
  });
});

describe('ingest handler: logs', () => {
  it('logs counts and reasons with the request ids, never identities, traits or bodies', async () => {
    const lines: unknown[][] = [];
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      jest.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
        lines.push(args);
      });
    }
    const secretish = { email: 'ada.lovelace@example.com', phone: '+447700900123', name: 'Ada Lovelace' };
    await post('/v1/batch', {
      batch: [
        { type: 'identify', userId: 'user-ada', traits: secretish, messageId: 'm-ada' },
        { type: 'track', anonymousId: 'anon-ada', properties: secretish },
      ],
    });
    await post('/v1/identify', { traits: secretish });
    await send({ path: '/v1/track', body: JSON.stringify({ ...track, writeKey: 'guess-ada' }) });
    queue.failure = new EventQueueUnavailableError('down');
    await post('/v1/identify', { userId: 'user-ada', traits: secretish });

    const logged = JSON.stringify(lines);
    for (const value of ['ada', 'Ada', '+447700900123', 'user-ada', 'guess']) expect(logged).not.toContain(value);
    expect(lines[0]).toEqual([
      'tracking request handled',
      {
        requestId: 'lambda-1',
        apiRequestId: 'api-request-1',
        endpoint: 'batch',
        accepted: 1,
        rejected: 1,
        reasons: { 'event: required for track': 1 },
      },
    ]);
    expect(lines).toContainEqual(['tracking request refused', expect.objectContaining({ status: 401, reasons: { 'invalid write key': 1 } })]);
  });
});
