import { randomUUID } from 'node:crypto';
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoScoreStore } from '../../functions/adapters/dynamodb-score-store';
import type { ProfileChange } from '../../functions/domain/pipeline/messages';
import type { PredictiveScore, ProfileScores, SendHourScore } from '../../functions/domain/scoring/profile-scores';
import { IN_MEMORY, startPlatform, type RunningPlatform } from '../../local/platform';
import { exportFeatures } from '../../scripts/export-features';
import { pollUntil, writeKeyAuthorization, adminFetch } from '../helpers/platform';

/**
 * The scoring stage on the local platform, with every real handler: tracked events → reconcile →
 * ProfileChanges → score function → the profile's SCORES item → SegmentEvaluation.
 * In-process (not a child) so the test can read the SCORES item in DynamoDB Local directly.
 */
let platform: RunningPlatform;
let scores: DynamoScoreStore;
let dynamo: DynamoDBClient;
let sqs: SQSClient;

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(async () => {
  platform = await startPlatform({ port: 0, dataDir: IN_MEMORY, logLevel: 'CRITICAL' });
  dynamo = new DynamoDBClient({ endpoint: platform.endpoints.dynamodb, region: 'us-east-1', credentials });
  scores = new DynamoScoreStore(dynamo, platform.tableNames.Profiles!);
  sqs = new SQSClient({ endpoint: platform.endpoints.sqs, region: 'us-east-1', credentials });
}, 90_000);

afterAll(async () => {
  await platform?.stop();
});

const admin = (path: string, init: RequestInit = {}): Promise<Response> => adminFetch(platform, path, init);

async function track(batch: unknown[]): Promise<void> {
  const response = await fetch(`${platform.baseUrl}/v1/batch`, {
    method: 'POST',
    headers: { authorization: writeKeyAuthorization(platform.writeKey), 'content-type': 'application/json' },
    body: JSON.stringify({ batch }),
  });
  expect(response.status).toBe(200);
}

async function profileIdOf(userId: string): Promise<string> {
  return pollUntil(
    async () => {
      const response = await admin(`/v1/profiles/user_id:${userId}`);
      return response.status === 200 ? ((await response.json()) as { profileId: string }).profileId : undefined;
    },
    { timeoutMs: 20_000, description: 'the profile' },
  );
}

function scoresWhen(profileId: string, ready: (stored: ProfileScores) => boolean): Promise<ProfileScores> {
  return pollUntil(
    async () => {
      const stored = await scores.getScores(profileId);
      return stored && ready(stored) ? stored : undefined;
    },
    { timeoutMs: 20_000, description: 'scores' },
  );
}

const ago = (hours: number): string => new Date(Date.now() - hours * 3_600_000).toISOString();

describe('scoring on the local platform', () => {
  it('scores a profile end to end after its events arrive, and rescoring a later change follows it', async () => {
    const userId = `shopper-${randomUUID().slice(0, 8)}`;
    const web = { library: { name: 'analytics.js' }, timezone: 'America/New_York' };
    await track([
      {
        type: 'identify',
        userId,
        traits: { email: `${userId}@shop.io`, firstName: 'Ana' },
        context: { ...web, consent: { categoryPreferences: { marketing: true } } },
        timestamp: ago(72),
      },
      { type: 'page', userId, name: 'Home', context: web, timestamp: ago(50) },
      { type: 'track', userId, event: 'Product Viewed', properties: { product_id: 'mug' }, context: web, timestamp: ago(49) },
      { type: 'track', userId, event: 'Product Added', properties: { product_id: 'mug', price: 40, quantity: 1 }, context: web, timestamp: ago(48) },
      { type: 'track', userId, event: 'Email Opened', properties: {}, timestamp: ago(30) },
    ]);
    const profileId = await profileIdOf(userId);
    const first = await scoresWhen(profileId, (s) => ['propensity', 'churn', 'complaint'].every((name) => name in s) && s.send_hour !== undefined);
    for (const name of ['propensity', 'churn', 'complaint']) {
      expect(first[name]).toEqual({
        probability: expect.any(Number),
        band: expect.stringMatching(/^(low|medium|high)$/),
        modelVersion: expect.stringMatching(/^gbt-[0-9a-f]{12}$/),
        computedAt: expect.any(String),
        contributions: expect.arrayContaining([expect.objectContaining({ feature: expect.any(String), label: expect.any(String) })]),
      });
    }
    expect(first).toMatchObject({ lifecycle: 'prospect', value_tier: 'none', profile_completeness: 2 / 7 });
    expect((first.send_hour as SendHourScore).timeZone).toBe('America/New_York');
    // The Profile API shows the stored scores.
    const viaApi = (await (await admin(`/v1/profiles/user_id:${userId}`)).json()) as { scores: ProfileScores };
    expect(Object.keys(viaApi.scores).sort()).toEqual(Object.keys(first).sort());
    expect(viaApi.scores.lifecycle).toBe('prospect');

    await track([{ type: 'track', userId, event: 'Order Completed', properties: { order_id: 'o1', revenue: 300 }, context: web, timestamp: ago(1) }]);
    const after = await scoresWhen(profileId, (s) => s.lifecycle === 'customer');
    expect(after).toMatchObject({ value_tier: 'silver' });
    expect((after.propensity as PredictiveScore).computedAt > (first.propensity as PredictiveScore).computedAt).toBe(true);
  });

  it('rescores on a recompute request and leaves nothing behind after erasure', async () => {
    const userId = `lapsed-${randomUUID().slice(0, 8)}`;
    await track([{ type: 'page', userId, name: 'Home', context: { library: { name: 'analytics.js' } }, timestamp: ago(24 * 60) }]);
    const profileId = await profileIdOf(userId);
    await scoresWhen(profileId, (s) => 'churn' in s);

    // What the nightly recompute sends: the score function takes it like any change.
    await dynamo.send(new DeleteItemCommand({ TableName: platform.tableNames.Profiles!, Key: { PK: { S: `P#${profileId}` }, SK: { S: 'SCORES' } } }));
    const change: ProfileChange = { kind: 'profile-change', profileId, reason: 'recompute', at: new Date().toISOString() };
    await sqs.send(new SendMessageCommand({ QueueUrl: platform.queues.ProfileChanges!.url, MessageBody: JSON.stringify(change) }));
    await scoresWhen(profileId, (s) => 'churn' in s);

    expect((await admin(`/v1/profiles/user_id:${userId}`, { method: 'DELETE' })).status).toBeLessThan(300);
    await pollUntil(async () => (await scores.getScores(profileId)) === undefined, { timeoutMs: 10_000, description: 'scores erased' });
    // A change still queued for an erased profile must not bring its scores back.
    await sqs.send(new SendMessageCommand({ QueueUrl: platform.queues.ProfileChanges!.url, MessageBody: JSON.stringify(change) }));
    expect(await platform.drain(Date.now() + 10_000)).toBe(true);
    expect(await scores.getScores(profileId)).toBeUndefined();
  });

  it('exports features as of a cut-off with labels from the events after it', async () => {
    const [buyer, browser] = [`buyer-${randomUUID().slice(0, 8)}`, `browser-${randomUUID().slice(0, 8)}`];
    const web = { library: { name: 'analytics.js' } };
    const days = (n: number): string => ago(24 * n);
    await track([
      ...[62, 61, 60].map((n) => ({ type: 'page', userId: buyer, context: web, timestamp: days(n) })),
      { type: 'track', userId: buyer, event: 'Order Completed', properties: { order_id: 'late', revenue: 70 }, context: web, timestamp: days(40) },
      { type: 'track', userId: browser, event: 'Product Viewed', properties: { product_id: 'tee' }, context: web, timestamp: days(61) },
      { type: 'track', userId: browser, event: 'Product Viewed', properties: { product_id: 'cap' }, context: web, timestamp: days(60) },
      { type: 'track', userId: browser, event: 'Product Viewed', properties: { product_id: 'cap' }, context: web, timestamp: days(1) },
    ]);
    await Promise.all([profileIdOf(buyer), profileIdOf(browser)]);
    expect(await platform.drain(Date.now() + 20_000)).toBe(true);

    const client = new DynamoDBClient({ endpoint: platform.endpoints.dynamodb, region: 'us-east-1', credentials });
    const options = { client, tableName: platform.tableNames.Profiles!, asOf: new Date(Date.now() - 50 * 86_400_000), segments: 2, now: new Date() };
    const propensity = await exportFeatures({ ...options, label: 'propensity' });
    const [header, ...lines] = propensity.csv
      .trim()
      .split('\n')
      .map((line) => line.split(','));
    const rows = lines.map((fields) => Object.fromEntries(header!.map((name, i) => [name, fields[i]])));
    const buyerRow = rows.find((row) => row.page_views_30d === '3');
    const browserRow = rows.find((row) => row.product_views_30d === '2');
    expect(buyerRow).toMatchObject({ events_total: '3', orders_total: '0', days_since_last_order: '', ordered_within_30d: '1' });
    expect(browserRow).toMatchObject({ events_total: '2', ordered_within_30d: '0' });

    // 50 days after the cut-off are too few to know who churned within 90.
    await expect(exportFeatures({ ...options, label: 'churn' })).rejects.toThrow(/need 90 days of events after the cut-off/);
  });
});
