import { gzipSync } from 'node:zlib';
import { Analytics, type HTTPFetchFn } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { startTestPlatform, type TestPlatform, writeKeyAuthorization } from '../helpers/platform';

/**
 * The Tracking API (docs/contract.md §3) on the running local platform (`npm start`), spoken to the
 * way apps do: raw HTTP, analytics.js-style browser requests, and the unmodified Segment and
 * RudderStack server SDKs.
 */
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
}, 90_000);

afterAll(async () => {
  await platform?.stop();
});

async function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${platform.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('Tracking API over HTTP', () => {
  it('answers 200 {"success":true} to a track call with Basic auth', async () => {
    const response = await postJson('/v1/track', {
      userId: 'e2e-http-1',
      event: 'Product Viewed',
      properties: { product_id: 'p-1' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ success: true });
  });

  it('accepts a gzip batch sent as x-www-form-urlencoded with the key in the body', async () => {
    const body = gzipSync(
      JSON.stringify({
        writeKey: platform.writeKey,
        batch: [
          { type: 'identify', userId: 'e2e-http-2', traits: { plan: 'gold' } },
          { type: 'track', userId: 'e2e-http-2', event: 'Cart Viewed' },
        ],
      }),
    );
    const response = await fetch(`${platform.baseUrl}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
      body,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true });
  });

  it('answers an analytics.js CORS preflight and serves the text/plain request that follows', async () => {
    const origin = 'https://shop.example.com';
    const preflight = await fetch(`${platform.baseUrl}/v1/t`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toMatch(/^(\*|https:\/\/shop\.example\.com)$/);
    const allowedHeaders = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    expect(allowedHeaders).toContain('authorization');
    expect(allowedHeaders).toContain('content-type');
    expect((preflight.headers.get('access-control-allow-methods') ?? '').toUpperCase()).toContain('POST');

    const response = await fetch(`${platform.baseUrl}/v1/t`, {
      method: 'POST',
      headers: { origin, authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'text/plain' },
      body: JSON.stringify({ anonymousId: 'e2e-browser-1', event: 'Product Added', type: 'track' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toMatch(/^(\*|https:\/\/shop\.example\.com)$/);
  });

  it('answers 401 without a write key and with a wrong one', async () => {
    const message = { userId: 'e2e-http-3', event: 'E' };
    const missing = await fetch(`${platform.baseUrl}/v1/track`, { method: 'POST', body: JSON.stringify(message) });
    expect(missing.status).toBe(401);
    const wrong = await postJson('/v1/track', message, { authorization: writeKeyAuthorization('not-the-key') });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ success: false });
  });

  it('answers 400 with the contract error body to malformed JSON and to a message without identity', async () => {
    const malformed = await fetch(`${platform.baseUrl}/v1/track`, {
      method: 'POST',
      headers: { authorization: writeKeyAuthorization(platform.writeKey) },
      body: '{"userId":',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ success: false, errors: [{ reason: expect.any(String) }] });

    const anonymous = await postJson('/v1/track', { event: 'E', messageId: 'e2e-no-identity' });
    expect(anonymous.status).toBe(400);
    expect(await anonymous.json()).toEqual({
      success: false,
      errors: [{ index: 0, messageId: 'e2e-no-identity', reason: 'userId or anonymousId is required' }],
    });
  });

  it('accepts the good messages of a partly bad batch and reports the bad ones', async () => {
    const response = await postJson('/v1/b', {
      batch: [
        { type: 'track', userId: 'e2e-http-4', event: 'Checkout Started' },
        { type: 'track', userId: 'e2e-http-4', messageId: 'e2e-missing-event' },
      ],
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      success: false,
      accepted: 1,
      errors: [{ index: 1, messageId: 'e2e-missing-event', reason: 'event: required for track' }],
    });
  });

  it('answers 413 to a request over 500 KB', async () => {
    const batch = Array.from({ length: 20 }, () => ({
      type: 'track',
      userId: 'e2e-http-5',
      event: 'E',
      properties: { blob: 'x'.repeat(30 * 1024) },
    }));
    expect((await postJson('/v1/batch', { batch })).status).toBe(413);
  });
});

describe('Tracking API with the real SDKs', () => {
  it('takes every call of @segment/analytics-node with 200s', async () => {
    const statuses: number[] = [];
    const recordingFetch: HTTPFetchFn = async (url, init) => {
      const response = await fetch(url, init);
      statuses.push(response.status);
      return response;
    };
    const analytics = new Analytics({
      writeKey: platform.writeKey,
      host: platform.baseUrl,
      flushAt: 20,
      maxRetries: 0,
      httpClient: recordingFetch,
    });
    const delivered: Promise<void>[] = [];
    const deliver = (send: (callback: (error?: unknown) => void) => void): void => {
      delivered.push(new Promise((resolve, reject) => send((error) => (error ? reject(error) : resolve()))));
    };
    deliver((cb) => analytics.identify({ userId: 'e2e-segment-1', traits: { plan: 'gold' } }, cb));
    deliver((cb) => analytics.track({ userId: 'e2e-segment-1', event: 'Product Added', properties: { sku: 'S-1' } }, cb));
    deliver((cb) => analytics.page({ anonymousId: 'e2e-segment-anon', name: 'Home', category: 'Shop' }, cb));
    deliver((cb) => analytics.screen({ userId: 'e2e-segment-1', name: 'Cart' }, cb));
    deliver((cb) => analytics.group({ userId: 'e2e-segment-1', groupId: 'acme' }, cb));
    deliver((cb) => analytics.alias({ userId: 'e2e-segment-1', previousId: 'e2e-segment-anon' }, cb));
    await analytics.closeAndFlush({ timeout: 15_000 });
    await Promise.all(delivered);

    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200)).toBe(true);
  });

  it('takes the gzip batches of @rudderstack/rudder-sdk-node with 200s', async () => {
    const errors: unknown[] = [];
    const rudder = new RudderAnalytics(platform.writeKey, {
      dataPlaneUrl: platform.baseUrl,
      flushAt: 20,
      flushInterval: 60_000,
      retryCount: 0,
      logLevel: 'error',
      errorHandler: (error: unknown) => errors.push(error),
    });
    rudder.identify({ userId: 'e2e-rudder-1', traits: { email: 'rudder@example.com' } });
    rudder.track({ userId: 'e2e-rudder-1', event: 'Order Completed', properties: { order_id: 'o-1', revenue: 42 } });
    rudder.page({ anonymousId: 'e2e-rudder-anon', name: 'Home' });
    rudder.screen({ userId: 'e2e-rudder-1', name: 'Cart' });
    rudder.group({ userId: 'e2e-rudder-1', groupId: 'acme' });
    rudder.alias({ userId: 'e2e-rudder-1', previousId: 'e2e-rudder-anon' });
    // flush() settles after the HTTP answer; with an errorHandler a non-2xx lands there instead.
    const sent: unknown = await rudder.flush();

    expect(sent).toBeDefined();

    expect(errors).toEqual([]);
  });
});
