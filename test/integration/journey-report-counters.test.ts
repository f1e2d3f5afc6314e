import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoJourneyStore } from '../../functions/adapters/dynamodb-journey-store';
import type { AudienceRun } from '../../functions/domain/journeys/audience-journey';
import type { CartRun } from '../../functions/domain/journeys/cart-abandonment';
import { PROFILES_TABLE } from '../../lib/definitions/tables';
import { ensureTables, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';

/** The journey report's counters against the real DynamoDB engine: each fact counted exactly once. */
let dynamo: DynamoDbLocal;
let doc: DynamoDBDocumentClient;
let tableName: string;
let journeys: DynamoJourneyStore;
const now = new Date('2026-03-01T12:00:00.000Z');
const later = (hours: number) => new Date(now.getTime() + hours * 3_600_000);

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000, logger: new Logger({ logLevel: 'ERROR' }) });
  tableName = `profiles-${randomUUID()}`;
  await ensureTables(dynamo.client, [PROFILES_TABLE], () => tableName);
  doc = DynamoDBDocumentClient.from(dynamo.client);
  journeys = new DynamoJourneyStore(dynamo.client, tableName);
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const cartRun = (profileId: string): CartRun => ({ journey: 'cart-abandonment', runId: `cart-${randomUUID()}`, profileId, cartChangedAt: now.toISOString() });
const audienceRun = (profileId: string, segmentId: string): AudienceRun => ({
  journey: 'audience-email',
  runId: `aud-${randomUUID()}`,
  profileId,
  segmentId,
  segmentName: segmentId,
  transitionId: `${segmentId}:${profileId}:1`,
  enteredAt: now.toISOString(),
  template: { subject: 's', html: 'h', text: 't' },
});

async function counters(journeyKey: string, day = '2026-03-01'): Promise<Record<string, unknown> | undefined> {
  const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: { PK: `RPT#${journeyKey}`, SK: `D#${day}` }, ConsistentRead: true }));
  return Item;
}

async function profileItems(profileId: string, prefix: string): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await doc.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': `P#${profileId}`, ':prefix': prefix },
    }),
  );
  return Items;
}

test('an outcome recorded twice counts once, with its entrant, and the second record does not throw', async () => {
  const segment = `seg-${randomUUID()}`;
  const run = audienceRun('p-once', segment);
  const journeyKey = `audience-email:${segment}`;
  expect(await journeys.recordOutcome(run, 'audience', { outcome: 'sent', messageId: 'ses-1' }, now, 24)).toBe('counted');
  expect(await journeys.recordOutcome(run, 'audience', { outcome: 'sent', messageId: 'ses-1' }, later(1), 24)).toBe('already-counted');
  expect(await journeys.recordOutcome(run, 'audience', { outcome: 'skipped', reason: 'frequency-cap' }, later(2), 24)).toBe('already-counted');

  expect(await counters(journeyKey)).toEqual({
    PK: `RPT#${journeyKey}`,
    SK: 'D#2026-03-01',
    GSI1PK: 'RPT',
    GSI1SK: `D#2026-03-01#${journeyKey}`,
    journeyKey,
    day: '2026-03-01',
    expiresAt: Date.parse('2027-04-05T00:00:00.000Z') / 1000,
    'sent:audience': 1,
    'entrants:treatment': 1,
  });
  expect(await journeys.recordedOutcome(run.runId, 'audience')).toEqual({ outcome: 'sent', messageId: 'ses-1' });
  expect(await profileItems('p-once', 'JENTRY#')).toEqual([
    {
      PK: 'P#p-once',
      SK: `JENTRY#${journeyKey}#${run.runId}`,
      runId: run.runId,
      journeyKey,
      group: 'treatment',
      at: now.toISOString(),
      expiresAt: now.getTime() / 1000 + 30 * 86_400,
    },
  ]);
  // The frequency-cap entry is written once, with the outcome.
  expect(await journeys.recentSends('p-once', later(-1).toISOString())).toEqual([now.toISOString()]);
});

test('holdout and treatment entrants come from the first step only; ended runs do not enter', async () => {
  const journeyKey = 'cart-abandonment';
  const before = (await counters(journeyKey)) ?? {};
  const value = (counter: string, item: Record<string, unknown> | undefined) => Number(item?.[counter] ?? 0) - Number(before[counter] ?? 0);
  const holdout = cartRun('p-holdout');
  const treated = cartRun('p-treated');
  const ordered = cartRun('p-ordered');
  await journeys.recordOutcome(holdout, 'email1', { outcome: 'skipped', reason: 'holdout' }, now, 24);
  await journeys.recordOutcome(holdout, 'email2', { outcome: 'skipped', reason: 'holdout' }, later(10), 24);
  await journeys.recordOutcome(treated, 'email1', { outcome: 'skipped', reason: 'no-consent' }, now, 24);
  await journeys.recordOutcome(treated, 'email2', { outcome: 'sent', messageId: 'ses-2' }, later(1), 24);
  await journeys.recordOutcome(ordered, 'email1', { outcome: 'ended', reason: 'ordered' }, now, 24);

  const after = await counters(journeyKey);
  expect(
    [
      'entrants:holdout',
      'entrants:treatment',
      'skipped:holdout:email1',
      'skipped:holdout:email2',
      'skipped:no-consent:email1',
      'sent:email2',
      'ended:ordered:email1',
    ].map((counter) => [counter, value(counter, after)]),
  ).toEqual([
    ['entrants:holdout', 1],
    ['entrants:treatment', 1],
    ['skipped:holdout:email1', 1],
    ['skipped:holdout:email2', 1],
    ['skipped:no-consent:email1', 1],
    ['sent:email2', 1],
    ['ended:ordered:email1', 1],
  ]);
  expect(await profileItems('p-holdout', 'JENTRY#')).toMatchObject([{ group: 'holdout', runId: holdout.runId }]);
  expect(await profileItems('p-ordered', 'JENTRY#')).toEqual([]);
  expect(await journeys.recentSends('p-holdout', later(-1).toISOString())).toEqual([]);
});

test('concurrent outcomes of one journey and day all count', async () => {
  const segment = `seg-${randomUUID()}`;
  const runs = Array.from({ length: 24 }, (_, index) => audienceRun(`p-busy-${index}`, segment));
  const results = await Promise.all(
    runs.map((run, index) =>
      journeys.recordOutcome(
        run,
        'audience',
        index % 2 === 0 ? { outcome: 'sent', messageId: `ses-${index}` } : { outcome: 'skipped', reason: 'holdout' },
        now,
        24,
      ),
    ),
  );
  expect(results.every((result) => result === 'counted')).toBe(true);
  expect(await counters(`audience-email:${segment}`)).toMatchObject({
    'sent:audience': 12,
    'skipped:holdout:audience': 12,
    'entrants:treatment': 12,
    'entrants:holdout': 12,
  });
});

describe('conversions', () => {
  const orderAt = later(48).toISOString();

  test('an order converts the newest run per journey entered within 7 days, to its group, once under redelivery', async () => {
    const segment = `seg-${randomUUID()}`;
    const audienceKey = `audience-email:${segment}`;
    const profileId = `p-buyer-${randomUUID()}`;
    const older = cartRun(profileId);
    const newer = cartRun(profileId);
    const audience = audienceRun(profileId, segment);
    const cartBefore = (await counters('cart-abandonment', '2026-03-03')) ?? {};
    await journeys.recordOutcome(older, 'email1', { outcome: 'sent', messageId: 'ses-old' }, now, 24);
    await journeys.recordOutcome(newer, 'email1', { outcome: 'skipped', reason: 'holdout' }, later(1), 24);
    await journeys.recordOutcome(audience, 'audience', { outcome: 'sent', messageId: 'ses-aud' }, later(2), 24);

    const first = await journeys.recordConversions([profileId], orderAt, 59.9, later(48));
    expect(first.map(({ runId, group, result }) => ({ runId, group, result })).sort((a, b) => a.runId.localeCompare(b.runId))).toEqual(
      [
        { runId: newer.runId, group: 'holdout', result: 'counted' },
        { runId: audience.runId, group: 'treatment', result: 'counted' },
      ].sort((a, b) => a.runId.localeCompare(b.runId)),
    );
    const again = await journeys.recordConversions([profileId], orderAt, 59.9, later(49));
    expect(again.map((conversion) => conversion.result)).toEqual(['already-counted', 'already-counted']);
    // A second order of the same runs' window: one conversion per run.
    expect((await journeys.recordConversions([profileId], later(50).toISOString(), 10, later(50))).map((conversion) => conversion.result)).toEqual([
      'already-counted',
      'already-counted',
    ]);

    const cart = (await counters('cart-abandonment', '2026-03-03')) ?? {};
    expect(Number(cart['conversions:holdout'] ?? 0) - Number(cartBefore['conversions:holdout'] ?? 0)).toBe(1);
    expect(Number(cart['revenue:holdout'] ?? 0) - Number(cartBefore['revenue:holdout'] ?? 0)).toBeCloseTo(59.9, 6);
    expect(Number(cart['conversions:treatment'] ?? 0)).toBe(Number(cartBefore['conversions:treatment'] ?? 0));
    expect(await counters(audienceKey, '2026-03-03')).toMatchObject({
      'conversions:treatment': 1,
      'revenue:treatment': 59.9,
      GSI1SK: `D#2026-03-03#${audienceKey}`,
    });
  });

  test('an order after a merge converts what the absorbed profile entered', async () => {
    const absorbed = `p-absorbed-${randomUUID()}`;
    const survivor = `p-survivor-${randomUUID()}`;
    const run = audienceRun(absorbed, `seg-${randomUUID()}`);
    await journeys.recordOutcome(run, 'audience', { outcome: 'sent', messageId: 'ses-merged' }, now, 24);
    expect(await journeys.recordConversions([survivor], orderAt, 5, later(48))).toEqual([]);
    const converted = await journeys.recordConversions([survivor, absorbed], orderAt, 5, later(48));
    expect(converted.map(({ runId, result }) => ({ runId, result }))).toEqual([{ runId: run.runId, result: 'counted' }]);
  });

  test('an order more than 7 days after the entry, or before it, converts nothing', async () => {
    const profileId = `p-late-${randomUUID()}`;
    const run = audienceRun(profileId, `seg-${randomUUID()}`);
    await journeys.recordOutcome(run, 'audience', { outcome: 'sent', messageId: 'ses-late' }, now, 24);
    expect(await journeys.recordConversions([profileId], later(7 * 24 + 1).toISOString(), 20, later(7 * 24 + 1))).toEqual([]);
    expect(await journeys.recordConversions([profileId], later(-1).toISOString(), 20, later(7 * 24 + 1))).toEqual([]);
    expect(await journeys.recordConversions([`p-never-${randomUUID()}`], orderAt, 20, later(48))).toEqual([]);
    expect(await counters(`audience-email:${run.segmentId}`, '2026-03-08')).toBeUndefined();
  });
});

test('SES feedback counts once per (email, kind): a second open of the same email adds nothing', async () => {
  const segment = `seg-${randomUUID()}`;
  const journeyKey = `audience-email:${segment}`;
  const sesMessageId = `ses-${randomUUID()}`;
  const count = (kind: 'delivery' | 'open', counter: string) => ({ journeyKey, day: '2026-03-02', counter, sesMessageId, kind });
  expect(await journeys.recordFeedback(count('delivery', 'delivered:audience'), now)).toBe('counted');
  expect(await journeys.recordFeedback(count('open', 'opened:audience'), now)).toBe('counted');
  expect(await journeys.recordFeedback(count('open', 'opened:audience'), later(3))).toBe('already-counted');
  expect(await journeys.recordFeedback(count('delivery', 'delivered:audience'), later(3))).toBe('already-counted');
  expect(await counters(journeyKey, '2026-03-02')).toMatchObject({ 'delivered:audience': 1, 'opened:audience': 1, journeyKey, day: '2026-03-02' });
  const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: { PK: `EMAILFB#${sesMessageId}`, SK: 'open' } }));
  expect(Item).toMatchObject({ journeyKey, counter: 'opened:audience', expiresAt: Date.parse('2027-04-06T00:00:00.000Z') / 1000 });
});
