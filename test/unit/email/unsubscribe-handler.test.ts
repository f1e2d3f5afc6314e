import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { unsubscribeToken } from '../../../functions/domain/email/unsubscribe-token';
import { handler } from '../../../functions/handlers/unsubscribe';
import { deniedRequests } from '../../helpers/iam-access';
import { apiGatewayEvent } from '../http/api-gateway-event';

/** The public unsubscribe endpoint: GET shows a confirmation, POST (RFC 8058 one-click) unsubscribes. */
const SECRET = 'unsubscribe-secret-for-tests';
process.env.PROFILES_TABLE_NAME = 'profiles';
process.env.DMP_PUBLIC_URL = 'https://cdp.test';
process.env.DMP_UNSUBSCRIBE_SECRET = SECRET;
process.env.DMP_PSEUDONYM_SECRET = 'pseudonym-secret-for-tests';
process.env.EVENTS_QUEUE_URL = 'https://sqs.test/000000000000/events';

const dynamo = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const context = { functionName: 'unsubscribe', awsRequestId: 'r-1' } as unknown as Context;

const profileItem = {
  PK: 'P#p-1',
  SK: 'PROFILE',
  profileId: 'p-1',
  version: 3,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  identities: [
    { type: 'user_id', value: 'u-1', firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:00:00.000Z' },
    { type: 'email', value: 'ana@shop.io', firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-01T00:00:00.000Z' },
  ],
  traits: { email: { value: 'ana@shop.io', at: '2026-01-01T00:00:00.000Z', source: 'identify', party: 'first' } },
  mergedFrom: [],
  activity: { eventsTotal: 0, totals: {}, days: {} },
  consent: {},
};

function request(method: string, token: string | undefined, body?: string): APIGatewayProxyEventV2 {
  const event = apiGatewayEvent({
    method,
    path: '/v1/unsubscribe',
    ...(body !== undefined && { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
  });
  return {
    ...event,
    rawQueryString: token === undefined ? '' : `token=${encodeURIComponent(token)}`,
    ...(token !== undefined && { queryStringParameters: { token } }),
  };
}
const call = async (event: APIGatewayProxyEventV2) =>
  (await handler(event, context)) as APIGatewayProxyStructuredResultV2 & { headers: Record<string, string> };
const writes = () => [...dynamo.commandCalls(PutCommand), ...dynamo.commandCalls(DeleteCommand)];

beforeEach(() => {
  dynamo.reset();
  sqs.reset();
  dynamo.on(BatchGetCommand).resolves({ Responses: { profiles: [profileItem] } });
  dynamo.on(PutCommand).resolves({});
  dynamo.on(DeleteCommand).resolves({});
  sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
    Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}`, MD5OfMessageBody: '' })),
    Failed: [],
  }));
});

describe('GET /v1/unsubscribe', () => {
  it('shows a confirmation page whose form POSTs the one-click body to the same link, and changes nothing', async () => {
    const token = unsubscribeToken(SECRET, 'p-1');
    const response = await call(request('GET', token));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain(`<form method="post" action="?token=${encodeURIComponent(token)}">`);
    expect(response.body).toContain('<input type="hidden" name="List-Unsubscribe" value="One-Click">');
    expect(response.body).toContain('<button type="submit"');
    expect(response.body).not.toContain('You are unsubscribed');
    // Safe: a mail scanner prefetching the link unsubscribes nobody.
    expect(writes()).toEqual([]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toEqual([]);
  });

  it('keeps the token out of referrers and frames, and the page out of caches', async () => {
    const { headers } = await call(request('GET', unsubscribeToken(SECRET, 'p-1')));
    expect(headers).toMatchObject({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' });
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).toContain("form-action 'self'");
  });
});

describe('POST /v1/unsubscribe (RFC 8058 one-click)', () => {
  it('unsubscribes the profile and its address at once, then records the trait through the pipeline', async () => {
    const response = await call(request('POST', unsubscribeToken(SECRET, 'p-1'), 'List-Unsubscribe=One-Click'));
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('You are unsubscribed');
    const put = dynamo.commandCalls(PutCommand).map((call) => call.args[0].input.Item?.PK as string);
    expect(put).toContain('P#p-1');
    expect(put).toContainEqual(expect.stringMatching(/^UNSUB#k1\.[0-9a-f]{64}$/));
    expect(JSON.stringify(writes().map((call) => call.args[0].input))).not.toContain('ana@shop.io');
    const [sent] = sqs.commandCalls(SendMessageBatchCommand);
    expect(JSON.parse(sent?.args[0].input.Entries?.[0]?.MessageBody ?? '{}')).toMatchObject({
      kind: 'accepted-messages',
      messages: [{ type: 'identify', userId: 'u-1', traits: { unsubscribed: true } }],
    });
  });

  it('needs no more than the function role allows', async () => {
    await call(request('POST', unsubscribeToken(SECRET, 'p-1'), 'List-Unsubscribe=One-Click'));
    const requests = dynamo.calls().map((recorded) => {
      const command = recorded.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
      return { command: command.constructor.name, input: command.input };
    });
    expect(requests.map((recorded) => recorded.command).sort()).toEqual(['BatchGetCommand', 'DeleteCommand', 'PutCommand', 'PutCommand']);
    expect(deniedRequests('unsubscribe', requests)).toEqual([]);
    // And the check does refuse what the role lacks.
    expect(deniedRequests('reportApi', requests)).not.toEqual([]);
  });

  it('works from the confirmation form and from a client that sends no body', async () => {
    expect((await call(request('POST', unsubscribeToken(SECRET, 'p-1')))).statusCode).toBe(200);
    expect(dynamo.commandCalls(PutCommand).length).toBeGreaterThan(0);
  });
});

describe('links that cannot unsubscribe', () => {
  it.each([
    ['missing', undefined],
    ['forged', unsubscribeToken('another-secret', 'p-1')],
    ['garbage', 'v2.%%%.x.y'],
  ])('a %s token gets a 400 page, never a 500, on GET and POST', async (_label, token) => {
    for (const method of ['GET', 'POST']) {
      const response = await call(request(method, token, method === 'POST' ? 'List-Unsubscribe=One-Click' : undefined));
      expect(response.statusCode).toBe(400);
      expect(response.body).toContain('Invalid link');
    }
    expect(writes()).toEqual([]);
  });

  it('an expired token gets a 400 page saying so and pointing to a newer email', async () => {
    const expired = unsubscribeToken(SECRET, 'p-1', new Date(Date.now() - 91 * 86_400_000));
    for (const method of ['GET', 'POST']) {
      const response = await call(request(method, expired, method === 'POST' ? 'List-Unsubscribe=One-Click' : undefined));
      expect(response.statusCode).toBe(400);
      expect(response.body).toContain('This link has expired');
      expect(response.body).toContain('90 days');
    }
    expect(writes()).toEqual([]);
  });

  it('another method gets a 405 with Allow', async () => {
    const response = await call(request('PUT', unsubscribeToken(SECRET, 'p-1')));
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, POST');
  });

  it('a failure of the platform is a 500 page asking to retry', async () => {
    dynamo.on(PutCommand).rejects(new Error('throttled'));
    const response = await call(request('POST', unsubscribeToken(SECRET, 'p-1'), 'List-Unsubscribe=One-Click'));
    expect(response.statusCode).toBe(500);
    expect(response.body).toContain('try again');
  });
});
