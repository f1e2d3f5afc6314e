import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { sha256Hex } from '../../../functions/domain/auth/credentials';
import { handler } from '../../../functions/handlers/segment-api';
import { destinations, parseBody } from '../../../functions/schemas/segments';
import { apiGatewayEvent } from '../http/api-gateway-event';

/**
 * Call-center destinations are checked when a segment is saved, through the Segments API handler:
 * every case below is refused by validation, before any store access (the DynamoDB endpoint points
 * at a closed local port). What is accepted is checked on the schema itself.
 */
const TOKEN = 'unit-admin-token';
const saved = { ...process.env };

beforeAll(() => {
  process.env.ADMIN_TOKEN_HASHES = sha256Hex(TOKEN);
  process.env.PROFILES_TABLE_NAME = 'unit-profiles';
  process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9';
  delete process.env.DMP_ALLOW_LOOPBACK_WEBHOOKS;
  delete process.env.DMP_PRIVACY_CONFIG;
  delete process.env.DMP_STATE_SCORE_RULES;
});

afterAll(() => {
  process.env = saved;
});

const context = { awsRequestId: 'unit-request', functionName: 'segmentApi' } as Context;
const URL = 'https://dialer.example/contacts';

async function errorsOf(destination: Record<string, unknown>): Promise<{ status: number | undefined; errors: Array<{ path: string; reason: string }> }> {
  const event: APIGatewayProxyEventV2 = apiGatewayEvent({
    method: 'POST',
    path: '/v1/segments',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Churn', definition: { score: 'churn', band: 'high' }, destinations: [destination] }),
  });
  const response = (await handler(event, context)) as APIGatewayProxyStructuredResultV2;
  return { status: response.statusCode, errors: (JSON.parse(String(response.body)) as { errors: Array<{ path: string; reason: string }> }).errors };
}

describe('segment call-center destinations', () => {
  it('accepts the url, reason and score, the reason trimmed, nothing defaulted into the stored destination', () => {
    expect(
      parseBody(destinations, [{ type: 'call_center', url: URL, secretRef: '/dmp/webhooks/dialer', reason: '  Churn risk: offer 20% off ', score: 'churn' }]),
    ).toEqual([{ type: 'call_center', url: URL, secretRef: '/dmp/webhooks/dialer', reason: 'Churn risk: offer 20% off', score: 'churn' }]);
    const full = {
      type: 'call_center',
      url: URL,
      reason: 'Gold member: thank them',
      score: 'value_tier',
      events: ['Audience Entered', 'Audience Exited'],
      purpose: 'personalization',
      marketing: false,
      holdout: 0.1,
    };
    expect(parseBody(destinations, [full])).toEqual([full]);
  });

  it.each([
    [{}, 'destinations[0].reason', /^reason is required/],
    [{ reason: '   ' }, 'destinations[0].reason', /^reason is required/],
    [{ reason: 'x'.repeat(201) }, 'destinations[0].reason', /at most 200 characters/],
    [{ reason: 'Churn risk\nIgnore the script' }, 'destinations[0].reason', /one line/],
    [{ reason: 'Churn risk\u2028offer' }, 'destinations[0].reason', /one line/],
    [{ reason: 42 }, 'destinations[0].reason', /^reason is required/],
  ])('refuses a reason that is not one short line (%j)', async (fields, path, reason) => {
    const { status, errors } = await errorsOf({ type: 'call_center', url: URL, ...fields });
    expect(status).toBe(400);
    expect(errors).toEqual([{ path, reason: expect.stringMatching(reason) }]);
  });

  it.each([
    ['unknown', /^score must be one of propensity, churn, complaint, lifecycle, profile_completeness, value_tier$/],
    ['send_hour', /^score must be one of /],
    ['lookalike:buyers', /not a lookalike score/],
  ])('refuses the score %s, naming the scores it may show', async (score, reason) => {
    const { status, errors } = await errorsOf({ type: 'call_center', url: URL, reason: 'Call', score });
    expect(status).toBe(400);
    expect(errors).toEqual([{ path: 'destinations[0].score', reason: expect.stringMatching(reason) }]);
  });

  it('accepts a state score of the deployment (DMP_STATE_SCORE_RULES)', () => {
    process.env.DMP_STATE_SCORE_RULES = JSON.stringify([
      { name: 'loyalty', kind: 'tiers', path: 'computed.orders_total', tiers: [{ min: 5, value: 'loyal' }], otherwise: 'new' },
    ]);
    try {
      expect(parseBody(destinations, [{ type: 'call_center', url: URL, reason: 'Call', score: 'loyalty' }])).toHaveLength(1);
      expect(() => parseBody(destinations, [{ type: 'call_center', url: URL, reason: 'Call', score: 'lifecycle' }])).toThrow();
    } finally {
      delete process.env.DMP_STATE_SCORE_RULES;
    }
  });

  it.each([
    ['https://10.0.0.8/contacts', /private/],
    ['https://169.254.169.254/latest/meta-data/', /link-local/],
    ['http://dialer.example/contacts', /https/],
    ['not a url', /absolute URL/],
  ])('refuses the url %s under the webhooks outbound policy', async (url, reason) => {
    const { status, errors } = await errorsOf({ type: 'call_center', url, reason: 'Call' });
    expect(status).toBe(400);
    expect(errors).toEqual([{ path: 'destinations[0].url', reason: expect.stringMatching(reason) }]);
  });

  it('refuses unknown fields (include: the payload is fixed), a secret in place of its reference, an unknown event or purpose', async () => {
    const { status, errors } = await errorsOf({
      type: 'call_center',
      url: URL,
      reason: 'Call',
      include: ['scores'],
      secretRef: 'whsec_abc+def=',
      events: ['Profile Deleted'],
      purpose: 'telemarketing',
    });
    expect(status).toBe(400);
    expect(errors.map((error) => error.path).sort()).toEqual(
      ['destinations[0].events[0]', 'destinations[0].include', 'destinations[0].purpose', 'destinations[0].secretRef'].sort(),
    );
  });

  it('asks for a purpose where the deployment has no phone_marketing purpose: a call center is always consent-gated', async () => {
    process.env.DMP_PRIVACY_CONFIG = JSON.stringify({
      purposes: ['analytics', 'personalization', 'email_marketing', 'sms_marketing', 'ad_user_data', 'ad_personalization'],
    });
    try {
      const { status, errors } = await errorsOf({ type: 'call_center', url: URL, reason: 'Call' });
      expect(status).toBe(400);
      expect(errors).toEqual([
        { path: 'destinations[0].purpose', reason: expect.stringMatching(/^purpose is required: this deployment has no phone_marketing/) },
      ]);
      expect(parseBody(destinations, [{ type: 'call_center', url: URL, reason: 'Call', purpose: 'personalization' }])).toHaveLength(1);
    } finally {
      delete process.env.DMP_PRIVACY_CONFIG;
    }
  });
});
