import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { sha256Hex } from '../../../functions/domain/auth/credentials';
import { DEFAULT_PURPOSES } from '../../../functions/domain/privacy/purposes';
import { handler } from '../../../functions/handlers/segment-api';
import { apiGatewayEvent } from '../http/api-gateway-event';

/**
 * Webhook URLs are checked when a segment is saved, through the Segments API handler. Every case
 * is refused by validation, before any store access (the DynamoDB endpoint points at a closed
 * local port all the same, so nothing could leave this machine).
 */
const TOKEN = 'unit-admin-token';
const saved = { ...process.env };

beforeAll(() => {
  process.env.ADMIN_TOKEN_HASHES = sha256Hex(TOKEN);
  process.env.PROFILES_TABLE_NAME = 'unit-profiles';
  process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9';
  delete process.env.DMP_ALLOW_LOOPBACK_WEBHOOKS;
});

afterAll(() => {
  process.env = saved;
});

const context = { awsRequestId: 'unit-request', functionName: 'segmentApi' } as Context;

function segmentRequest(destinations: unknown[], definition: unknown = { trait: 'plan', op: 'eq', value: 'gold' }, method = 'POST'): APIGatewayProxyEventV2 {
  const path = method === 'POST' ? '/v1/segments' : '/v1/segments/vip';
  const event = apiGatewayEvent({
    method,
    path,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'VIP', definition, destinations }),
  });
  return method === 'POST' ? event : { ...event, routeKey: 'PUT /v1/segments/{segmentId}', pathParameters: { segmentId: 'vip' } };
}

async function errorsOf(event: APIGatewayProxyEventV2): Promise<{ status: number | undefined; errors: Array<{ path: string; reason: string }> }> {
  const response = (await handler(event, context)) as APIGatewayProxyStructuredResultV2;
  return { status: response.statusCode, errors: (JSON.parse(String(response.body)) as { errors: Array<{ path: string; reason: string }> }).errors };
}

describe('segment webhook destinations', () => {
  it.each([
    ['https://10.0.0.8/hook', /private/],
    ['https://169.254.169.254/latest/meta-data/', /link-local/],
    ['https://[::ffff:a00:8]/hook', /private/],
    ['https://2130706433/hook', /loopback/],
    ['https://0177.0.0.1/hook', /loopback/],
    ['https://0x7f.1/hook', /loopback/],
    ['https://localhost/hook', /loopback/],
    ['https://[fd00::1]/hook', /unique-local/],
    ['https://100.64.0.1/hook', /carrier-grade NAT/],
    ['https://0.0.0.0/hook', /unspecified/],
    ['https://224.0.0.1/hook', /multicast/],
    ['https://metadata.google.internal/computeMetadata/v1/', /public host/],
    ['http://crm.example/hook', /https/],
    ['ftp://crm.example/hook', /https/],
    ['not a url', /absolute URL/],
  ])('answers 400 naming the field for %s', async (url, reason) => {
    const { status, errors } = await errorsOf(segmentRequest([{ type: 'webhook', url }]));
    expect(status).toBe(400);
    expect(errors).toEqual([{ path: 'destinations[0].url', reason: expect.stringMatching(reason) }]);
    expect(errors[0]?.reason).toMatch(/^webhook url /);
  });

  it('names the position of the refused destination, on update too', async () => {
    const destinations = [
      { type: 'webhook', url: 'https://crm.example/hook' },
      { type: 'webhook', url: 'https://192.168.1.20/hook' },
    ];
    for (const method of ['POST', 'PUT']) {
      const { status, errors } = await errorsOf(segmentRequest(destinations, undefined, method));
      expect(status).toBe(400);
      expect(errors).toEqual([{ path: 'destinations[1].url', reason: expect.stringMatching(/private/) }]);
    }
  });

  it('accepts a public https URL (the request then fails on its definition, not on the URL)', async () => {
    const { status, errors } = await errorsOf(segmentRequest([{ type: 'webhook', url: 'https://crm.example/hooks/dmp-churn' }], { trait: 'plan', op: 'nope' }));
    expect(status).toBe(400);
    expect(errors.map((error) => error.path)).toEqual(['definition.op']);
  });

  it('accepts http on loopback only on the local platform (DMP_ALLOW_LOOPBACK_WEBHOOKS)', async () => {
    const local = [{ type: 'webhook', url: 'http://127.0.0.1:3000/dev/webhooks/crm' }];
    expect((await errorsOf(segmentRequest(local))).errors).toEqual([{ path: 'destinations[0].url', reason: expect.stringMatching(/loopback/) }]);
    process.env.DMP_ALLOW_LOOPBACK_WEBHOOKS = '1';
    try {
      expect((await errorsOf(segmentRequest(local, { trait: 'plan', op: 'nope' }))).errors.map((error) => error.path)).toEqual(['definition.op']);
      // Loopback only: a private address stays refused on the local platform.
      expect((await errorsOf(segmentRequest([{ type: 'webhook', url: 'http://10.0.0.8/hook' }]))).errors).toEqual([
        { path: 'destinations[0].url', reason: expect.stringMatching(/private/) },
      ]);
    } finally {
      delete process.env.DMP_ALLOW_LOOPBACK_WEBHOOKS;
    }
  });

  it('refuses a purpose that is not one of the configured purposes, naming its path; accepts a configured one', async () => {
    const destinations = [
      { type: 'webhook', url: 'https://crm.example/hook', purpose: 'analytics' },
      { type: 'webhook', url: 'https://ads.example/hook', purpose: 'retargeting' },
    ];
    for (const method of ['POST', 'PUT']) {
      const { status, errors } = await errorsOf(segmentRequest(destinations, undefined, method));
      expect(status).toBe(400);
      expect(errors).toEqual([{ path: 'destinations[1].purpose', reason: expect.stringMatching(/^purpose must be one of analytics, personalization, /) }]);
    }
    // A purpose the deployment configured (DMP_PRIVACY_CONFIG) is accepted: the request then fails on its definition only.
    process.env.DMP_PRIVACY_CONFIG = JSON.stringify({ purposes: [...DEFAULT_PURPOSES, 'retargeting'] });
    try {
      expect((await errorsOf(segmentRequest(destinations, { trait: 'plan', op: 'nope' }))).errors.map((error) => error.path)).toEqual(['definition.op']);
    } finally {
      delete process.env.DMP_PRIVACY_CONFIG;
    }
  });
});
