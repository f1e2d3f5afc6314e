import { request as httpRequest } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { adminApiHandler } from '../../functions/http/admin-handler';
import { withCors } from '../../functions/http/cors';
import { jsonResponse } from '../../functions/http/responses';
import { startPlatform, type RunningPlatform } from '../../local/platform';
import type { OutboxEmail } from '../../local/ses-local';
import { fakeHandlers, pollUntil } from '../helpers/platform';

/** The HTTP adapter with fake handlers: the events they receive and the responses clients get. */

let platform: RunningPlatform;
const events: APIGatewayProxyEventV2[] = [];

/** The fake Profile API answers according to `?case=`, to exercise every result mapping. */
async function fakeProfileApi(event: APIGatewayProxyEventV2): Promise<unknown> {
  events.push(event);
  switch (event.queryStringParameters?.case) {
    case 'structured':
      return {
        statusCode: 201,
        headers: { 'X-Thing': 'yes', 'Access-Control-Allow-Origin': 'https://not-configured.example' },
        cookies: ['session=abc; Path=/', 'theme=dark'],
        body: 'created',
      };
    case 'bare':
      return { hello: 'world' };
    case 'string':
      return 'plain words';
    case 'binary':
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/octet-stream' },
        body: Buffer.from([0, 1, 254]).toString('base64'),
        isBase64Encoded: true,
      };
    case 'throws':
      throw new Error('handler exploded');
    case 'malformed':
      return { statusCode: 'not a number', body: 'x' };
    default:
      return { statusCode: 200, body: JSON.stringify({ ok: true }), headers: { 'content-type': 'application/json' } };
  }
}

beforeAll(async () => {
  platform = await startPlatform({
    port: 0,
    dataDir: ':memory:',
    logLevel: 'CRITICAL',
    handlers: fakeHandlers({
      // Behind the Tracking API's CORS policy, as functions/handlers/ingest-http.ts puts the real one.
      ingest: withCors('any-origin', async (event: APIGatewayProxyEventV2) => {
        events.push(event);
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"success":true}' };
      }),
      profileApi: fakeProfileApi,
      // A real admin handler (token check, admin CORS policy) around a fake route.
      reportApi: adminApiHandler(new Logger({ logLevel: 'SILENT' }), async (event) => {
        events.push(event);
        return jsonResponse(200, { ok: true });
      }),
      reconcile: async () => undefined,
    }),
  });
});

afterAll(async () => {
  await platform?.stop();
});

function lastEvent(): APIGatewayProxyEventV2 {
  const event = events.at(-1);
  if (!event) throw new Error('no event reached a handler');
  return event;
}

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** node:http instead of fetch, to send repeated headers and read every Set-Cookie. */
function rawRequest(method: string, path: string, headers: Record<string, string | string[]>, body?: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${platform.baseUrl}${path}`, { method }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    for (const [name, value] of Object.entries(headers)) outgoing.setHeader(name, value);
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('the API Gateway adapter', () => {
  it('passes a faithful v2 event to the handler of the matched route', async () => {
    const before = Date.now();
    const response = await rawRequest(
      'POST',
      '/v1/track?a=1&a=2&b=x%20y',
      { 'Content-Type': 'text/plain', 'X-Custom': ['one', 'two'], Cookie: 'a=1; b=2', 'User-Agent': 'e2e/1' },
      Buffer.from('{"event":"Signed Up"}'),
    );
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('{"success":true}');
    const event = lastEvent();
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /v1/track',
      rawPath: '/v1/track',
      rawQueryString: 'a=1&a=2&b=x%20y',
      queryStringParameters: { a: '1,2', b: 'x y' },
      cookies: ['a=1', 'b=2'],
      body: '{"event":"Signed Up"}',
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'POST', path: '/v1/track', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'e2e/1' },
        routeKey: 'POST /v1/track',
        stage: '$default',
      },
    });
    expect(event.headers).toMatchObject({ 'content-type': 'text/plain', 'x-custom': 'one,two', 'user-agent': 'e2e/1' });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.requestContext.timeEpoch).toBeGreaterThanOrEqual(before);
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers['apigw-requestid']).toBe(event.requestContext.requestId);
    expect(response.headers['access-control-allow-origin']).toBe('*');
  });

  it('decodes path parameters and leaves a request without body empty', async () => {
    const response = await fetch(`${platform.baseUrl}/v1/profiles/email%3Aann%40example.com/events?limit=5`);
    expect(response.status).toBe(200);
    const event = lastEvent();
    expect(event.routeKey).toBe('GET /v1/profiles/{profileRef}/events');
    expect(event.rawPath).toBe('/v1/profiles/email%3Aann%40example.com/events');
    expect(event.pathParameters).toEqual({ profileRef: 'email:ann@example.com' });
    expect(event.queryStringParameters).toEqual({ limit: '5' });
    expect(event.body).toBeUndefined();
  });

  it('base64-encodes a gzip body so the handler gets the exact bytes', async () => {
    const batch = JSON.stringify({ batch: [{ type: 'track', event: 'Order Completed', userId: 'u-1' }] });
    const response = await fetch(`${platform.baseUrl}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
      body: gzipSync(batch),
    });
    expect(response.status).toBe(200);
    const event = lastEvent();
    expect(event.isBase64Encoded).toBe(true);
    expect(gunzipSync(Buffer.from(event.body ?? '', 'base64')).toString()).toBe(batch);
  });

  it('maps a structured result: status, headers (CORS ones included: no API-wide CORS), one Set-Cookie per cookie', async () => {
    const response = await rawRequest('GET', '/v1/profiles/user_id:u-1?case=structured', {});
    expect(response.status).toBe(201);
    expect(response.body.toString()).toBe('created');
    expect(response.headers['x-thing']).toBe('yes');
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.headers['set-cookie']).toEqual(['session=abc; Path=/', 'theme=dark']);
    expect(response.headers['access-control-allow-origin']).toBe('https://not-configured.example');
  });

  it('maps bare objects and strings to 200 JSON, and base64 results to bytes', async () => {
    const bare = await fetch(`${platform.baseUrl}/v1/profiles/user_id:u-1?case=bare`);
    expect(bare.status).toBe(200);
    expect(bare.headers.get('content-type')).toBe('application/json');
    expect(await bare.json()).toEqual({ hello: 'world' });
    const text = await fetch(`${platform.baseUrl}/v1/profiles/user_id:u-1?case=string`);
    expect(await text.text()).toBe('plain words');
    const binary = await fetch(`${platform.baseUrl}/v1/profiles/user_id:u-1?case=binary`);
    expect([...new Uint8Array(await binary.arrayBuffer())]).toEqual([0, 1, 254]);
  });

  it('answers 500 when the handler throws or returns a malformed result', async () => {
    for (const failure of ['throws', 'malformed']) {
      const response = await fetch(`${platform.baseUrl}/v1/profiles/user_id:u-1?case=${failure}`);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ message: 'Internal Server Error' });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('answers 404 for an unknown path or a method without a route', async () => {
    const handled = events.length;
    for (const [method, path] of [
      ['GET', '/v1/nope'],
      ['GET', '/v1/track'],
      ['DELETE', '/v1/profiles/user_id:u-1/events'],
    ] as const) {
      const response = await fetch(`${platform.baseUrl}${path}`, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ message: 'Not Found' });
    }
    expect(events.length).toBe(handled);
  });

  it('answers 413 past the 10 MB API Gateway limit without calling the handler', async () => {
    const handled = events.length;
    const oversized = Buffer.alloc(10 * 1024 * 1024 + 1, 'a');
    const declared = await fetch(`${platform.baseUrl}/v1/batch`, { method: 'POST', body: oversized });
    expect(declared.status).toBe(413);
    const streamed = await rawRequest('POST', '/v1/batch', { 'transfer-encoding': 'chunked' }, oversized);
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body.toString())).toEqual({ message: 'Request Entity Too Large' });
    expect(events.length).toBe(handled);
  });

  it("routes a CORS preflight to the function of its path: the Tracking API's grants any origin", async () => {
    const response = await fetch(`${platform.baseUrl}/v1/t`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')?.split(',')).toEqual(expect.arrayContaining(['authorization', 'content-type']));
    expect(response.headers.get('access-control-allow-methods')?.split(',')).toEqual(expect.arrayContaining(['POST', 'GET']));
    expect(response.headers.get('access-control-max-age')).toBe('86400');
    const unrouted = await fetch(`${platform.baseUrl}/v1/nope`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(unrouted.status).toBe(404);
    expect(unrouted.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS of the admin APIs and the developer endpoints', () => {
  const EVIL = 'https://evil.example';
  const CONSOLE = 'https://console.example.com';
  const preflight = (path: string, origin: string) =>
    fetch(`${platform.baseUrl}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
  const adminGet = (origin: string) => fetch(`${platform.baseUrl}/v1/reports/journeys`, { headers: { origin, authorization: 'Bearer dev-admin-token' } });

  it('admin routes grant no origin without configured ones', async () => {
    const refused = await preflight('/v1/reports/journeys', EVIL);
    expect(refused.status).toBe(204);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const response = await adminGet(EVIL);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('admin routes grant exactly the origins of DMP_ADMIN_CORS_ORIGINS', async () => {
    process.env.DMP_ADMIN_CORS_ORIGINS = CONSOLE;
    try {
      expect((await preflight('/v1/reports/journeys', CONSOLE)).headers.get('access-control-allow-origin')).toBe(CONSOLE);
      expect((await adminGet(CONSOLE)).headers.get('access-control-allow-origin')).toBe(CONSOLE);
      expect((await preflight('/v1/reports/journeys', EVIL)).headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      delete process.env.DMP_ADMIN_CORS_ORIGINS;
    }
  });

  it('/dev/outbox answers a page of another site with no CORS grant: its requests and preflights are refused', async () => {
    const read = await fetch(`${platform.baseUrl}/dev/outbox`, { headers: { origin: EVIL } });
    expect(read.status).toBe(403);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
    const options = await preflight('/dev/outbox', EVIL);
    expect(options.status).toBe(403);
    expect(options.headers.get('access-control-allow-origin')).toBeNull();
    expect(options.headers.get('access-control-allow-methods')).toBeNull();
    const clear = await fetch(`${platform.baseUrl}/dev/outbox/clear`, { method: 'POST', headers: { origin: EVIL, 'content-type': 'text/plain' } });
    expect(clear.status).toBe(403);
    const noCors = await fetch(`${platform.baseUrl}/dev/webhooks`, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(noCors.status).toBe(403);
    // A DNS-rebound name: the browser thinks it is evil.example's own origin.
    const rebound = await rawRequest('GET', '/dev/outbox', { host: `evil.example:${platform.port}`, origin: `http://evil.example:${platform.port}` });
    expect(rebound.status).toBe(403);
  });

  it('/dev/* still answers this machine: tools without Origin, and its own pages', async () => {
    const tool = await fetch(`${platform.baseUrl}/dev/outbox`);
    expect(tool.status).toBe(200);
    expect(tool.headers.get('access-control-allow-origin')).toBeNull();
    const ownPage = await fetch(`${platform.baseUrl}/dev/webhooks`, { headers: { origin: platform.baseUrl, 'sec-fetch-site': 'same-origin' } });
    expect(ownPage.status).toBe(200);
    const health = await fetch(`${platform.baseUrl}/health`, { headers: { origin: EVIL } });
    expect(health.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('the developer endpoints', () => {
  it('reports every component on /health', async () => {
    const response = await fetch(`${platform.baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      components: {
        dynamodb: 'up',
        sqs: 'up',
        ses: 'up',
        stepFunctions: expect.objectContaining({ state: 'up' }),
        scheduler: expect.objectContaining({ state: 'up' }),
        // One poller per queue of lib/definitions/queues.ts.
        pollers: expect.objectContaining({ Events: expect.objectContaining({ state: 'up', function: 'reconcile', inFlight: 0 }) }),
        // Depths per queue, beside its DLQ's.
        queues: expect.objectContaining({ Events: { visible: 0, inFlight: 0, delayed: 0, dlq: 0 } }),
      },
    });
  });

  it('stores webhook deliveries with their headers and raw body', async () => {
    const post = await fetch(`${platform.baseUrl}/dev/webhooks/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': 'sig-1' },
      body: '{"order":42}',
    });
    expect(post.status).toBe(200);
    const deliveries = (await (await fetch(`${platform.baseUrl}/dev/webhooks`)).json()) as {
      name: string;
      headers: Record<string, string>;
      body: string;
      receivedAt: string;
    }[];
    const delivery = deliveries.find((candidate) => candidate.name === 'orders');
    expect(delivery).toMatchObject({ body: '{"order":42}', headers: { 'x-signature': 'sig-1', 'content-type': 'application/json' } });
    expect(Number.isNaN(Date.parse(delivery?.receivedAt ?? ''))).toBe(false);
  });

  it('shows sent emails with their tags and headers in the outbox, oldest first, and clears it', async () => {
    const ses = new SESv2Client({ endpoint: platform.endpoints.ses, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const send = (subject: string) =>
      ses.send(
        new SendEmailCommand({
          FromEmailAddress: 'shop@example.com',
          Destination: { ToAddresses: ['ann@example.com'] },
          EmailTags: [{ Name: 'journey', Value: 'cart-abandonment' }],
          Content: {
            Simple: {
              Subject: { Data: subject },
              Body: { Html: { Data: '<p>Your cart</p>' }, Text: { Data: 'Your cart' } },
              Headers: [{ Name: 'List-Unsubscribe', Value: '<https://example.com/u/1>' }],
            },
          },
        }),
      );
    await send('first');
    await send('second');
    ses.destroy();
    const outbox = (await (await fetch(`${platform.baseUrl}/dev/outbox`)).json()) as OutboxEmail[];
    expect(outbox.map((email) => email.subject)).toEqual(['first', 'second']);
    expect(outbox[0]).toMatchObject({
      to: ['ann@example.com'],
      from: 'shop@example.com',
      html: '<p>Your cart</p>',
      text: 'Your cart',
      tags: { journey: 'cart-abandonment' },
      headers: { 'list-unsubscribe': '<https://example.com/u/1>' },
    });
    expect(Number.isNaN(Date.parse(outbox[0]?.sentAt ?? ''))).toBe(false);
    expect((await fetch(`${platform.baseUrl}/dev/outbox/clear`, { method: 'POST' })).status).toBe(200);
    expect(await (await fetch(`${platform.baseUrl}/dev/outbox`)).json()).toEqual([]);
  });
});

describe('failures and stopping', () => {
  it('reports degraded with 503 when DynamoDB Local is gone', async () => {
    process.kill(platform.dynamodbPid, 'SIGKILL');
    const report = await pollUntil(
      async () => {
        const response = await fetch(`${platform.baseUrl}/health`);
        return response.status === 503 && ((await response.json()) as Record<string, unknown>);
      },
      { description: '/health answering 503' },
    );
    expect(report).toMatchObject({ status: 'degraded', components: { dynamodb: 'down', sqs: 'up', ses: 'up' }, failed: ['dynamodb'] });
  });

  it('closes the API and every emulator and restores the environment', async () => {
    const { baseUrl, endpoints } = platform;
    expect(process.env.AWS_ENDPOINT_URL_SQS).toBe(endpoints.sqs);
    await platform.stop();
    for (const url of [`${baseUrl}/health`, endpoints.dynamodb, endpoints.sqs, endpoints.ses]) {
      await expect(fetch(url)).rejects.toThrow();
    }
    expect(process.env.AWS_ENDPOINT_URL_SQS).not.toBe(endpoints.sqs);
    // Stopping twice is harmless.
    await expect(platform.stop()).resolves.toBeUndefined();
  });
});
