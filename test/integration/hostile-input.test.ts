import { randomBytes, randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { classifyFailure } from '../../functions/adapters/failure-classification';
import { DynamoProfileStore, keys } from '../../functions/adapters/dynamodb-profile-store';
import { quarantinePoisonMessages } from '../../functions/adapters/poison-message-quarantine';
import { hasMarketingConsent } from '../../functions/domain/privacy/purposes';
import { PROFILE_LIMITS, dynamoItemSize } from '../../functions/domain/profile/limits';
import { newestIdentity } from '../../functions/domain/profile/profile';
import { isSchemaTrait } from '../../functions/domain/profile/traits';
import { parseEventsBody } from '../../functions/domain/reconcile/reconcile-input';
import { reconcileMessage, type ReconcileOutcome } from '../../functions/domain/reconcile/reconcile-message';
import type { AcceptedMessage } from '../../functions/domain/tracking/accepted-message';
import type { QuarantinedMessage } from '../../functions/ports/profile-store';
import type { DynamoDbLocal } from '../../local/dynamodb-local';
import { acceptedMessage } from '../helpers/messages';
import { profileStoreOptions, reconcileDependencies, startProfilesTable, eraseNow } from '../helpers/profiles-table';

/**
 * Issue "Hostile input", through the real reconcile use case against DynamoDB Local: the write key
 * is public, so anything a browser can send an attacker can send.
 */
let dynamo: DynamoDbLocal;
let store: DynamoProfileStore;
let doc: DynamoDBDocumentClient;
let tableName: string;

beforeAll(async () => {
  ({ dynamo, tableName } = await startProfilesTable());
  store = new DynamoProfileStore(dynamo.client, profileStoreOptions(tableName));
  doc = DynamoDBDocumentClient.from(dynamo.client);
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const deps = reconcileDependencies(() => store);

const reconcile = (message: AcceptedMessage): Promise<ReconcileOutcome> => reconcileMessage(message, deps);
const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;
const secondsAgo = (seconds: number): string => new Date(Date.now() - seconds * 1000).toISOString();
const later = (time: string, seconds: number): string => new Date(Date.parse(time) + seconds * 1000).toISOString();

async function profileOf(type: string, value: string) {
  const profile = await store.findProfile({ type, value });
  if (!profile) throw new Error(`no profile for ${type}`);
  return profile;
}

/** The PROFILE item as DynamoDB holds it, and its size by DynamoDB's rules. */
async function storedProfileSize(profileId: string): Promise<number> {
  const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: keys.profile(profileId), ConsistentRead: true }));
  if (!Item) throw new Error('no profile item');
  return dynamoItemSize(Item);
}

describe('bounded profiles', () => {
  it('a profile flooded with thousands of large traits still accepts an ordinary event and stays under its size bound', async () => {
    const user = unique('flood');
    expect(
      (await reconcile(acceptedMessage({ type: 'identify', userId: user, timestamp: secondsAgo(600), traits: { firstName: 'Ana', plan: 'gold' } }))).status,
    ).toBe('applied');
    // 40 messages of 100 traits of 280 bytes (each message just under the 32 KB ingest limit),
    // then two of 2,000 traits in a 200 KB body (what SQS would still carry): 8,000 traits, 1.5 MB.
    const flood: AcceptedMessage[] = [
      ...Array.from({ length: 40 }, (_, m) =>
        acceptedMessage({
          type: 'identify',
          userId: user,
          timestamp: secondsAgo(500 - m),
          traits: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${m}_${i}`, 'x'.repeat(280)])),
        }),
      ),
      ...Array.from({ length: 2 }, (_, m) =>
        acceptedMessage({
          type: 'identify',
          userId: user,
          timestamp: secondsAgo(400 - m),
          traits: Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`g${m}_${i}`, 'y'.repeat(90)])),
        }),
      ),
    ];
    for (const message of flood) expect((await reconcile(message)).status).toBe('applied');

    const ordinary = acceptedMessage({
      type: 'track',
      event: 'Product Viewed',
      userId: user,
      timestamp: secondsAgo(10),
      properties: { product_id: 'mug' },
      traits: {},
    });
    expect(await reconcile(ordinary)).toMatchObject({ status: 'applied', quarantined: 0 });
    const identify = acceptedMessage({ type: 'identify', userId: user, timestamp: secondsAgo(5), traits: { plan: 'platinum', lastName: 'Lopez' } });
    expect(await reconcile(identify)).toMatchObject({ status: 'applied', quarantined: 0 });

    const profile = await profileOf('user_id', user);
    expect(profile.activity.eventsTotal).toBe(1 + flood.length + 2);
    // Existing and schema traits keep updating; new custom ones stop at the cap.
    expect(profile.traits).toMatchObject({ firstName: { value: 'Ana' }, plan: { value: 'platinum' }, lastName: { value: 'Lopez' } });
    const custom = Object.keys(profile.traits).filter((name) => !isSchemaTrait(name));
    expect(custom.length).toBeLessThanOrEqual(PROFILE_LIMITS.maxCustomTraits);
    const size = await storedProfileSize(profile.profileId);
    expect(size).toBeLessThan(PROFILE_LIMITS.maxCustomTraitsBytes + 8 * 1024);
    expect(size).toBeLessThan(PROFILE_LIMITS.itemBudgetBytes);

    // Refused values are quarantined with their reason: a handful of entries per message, however many values.
    const quarantine = await store.listQuarantine(1_000);
    const ofLast = quarantine.filter((entry) => entry.messageId === flood[flood.length - 1]?.messageId);
    expect(ofLast).toHaveLength(PROFILE_LIMITS.maxQuarantinePerMessage);
    expect(ofLast).toContainEqual(expect.objectContaining({ reason: expect.stringMatching(/^1991 more values refused \(/), profileId: profile.profileId }));
    expect(ofLast).toContainEqual(
      expect.objectContaining({ reason: expect.stringMatching(/custom traits|custom traits of the profile/), profileId: profile.profileId }),
    );
  }, 120_000);

  it('caps cart lines, event names, categories, consent categories and identifiers of a flooded profile', async () => {
    const user = unique('many');
    const products = Array.from({ length: 300 }, (_, i) => ({
      product_id: `p-${i}`,
      name: 'n'.repeat(190),
      url: `https://shop.io/${'u'.repeat(480)}`,
      category: `cat-${i}`,
      price: 3,
    }));
    await reconcile(acceptedMessage({ type: 'track', event: 'Product Added', userId: user, timestamp: secondsAgo(300), properties: { products } }));
    await reconcile(
      acceptedMessage({
        type: 'identify',
        userId: user,
        timestamp: secondsAgo(299),
        context: { consent: { categoryPreferences: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`purpose-${i}`, true])) } },
      }),
    );
    for (let batch = 0; batch < 12; batch += 1) {
      const externalIds = Array.from({ length: 15 }, (_, i) => ({ type: `ext-${batch}-${i}`, id: `${'v'.repeat(200)}-${i}` }));
      expect((await reconcile(acceptedMessage({ type: 'identify', userId: user, timestamp: secondsAgo(290 - batch), context: { externalIds } }))).status).toBe(
        'applied',
      );
    }
    for (let i = 0; i < 230; i += 1) {
      await reconcile(acceptedMessage({ type: 'track', event: `Custom Event ${i} ${'e'.repeat(60)}`, userId: user, timestamp: secondsAgo(250 - i / 10) }));
    }
    const ordinary = await reconcile(acceptedMessage({ type: 'page', userId: user, timestamp: secondsAgo(1) }));
    expect(ordinary).toMatchObject({ status: 'applied' });

    const profile = await profileOf('user_id', user);
    expect(Object.keys(profile.activity.cart)).toHaveLength(PROFILE_LIMITS.maxCartLines);
    expect(Object.keys(profile.activity.events)).toHaveLength(PROFILE_LIMITS.maxEventNames);
    expect(Object.keys(profile.activity.categories)).toHaveLength(PROFILE_LIMITS.maxCategories);
    expect(Object.keys(profile.consent.categories)).toHaveLength(PROFILE_LIMITS.maxConsentCategories);
    expect(profile.identities.length).toBeLessThanOrEqual(PROFILE_LIMITS.maxIdentitiesPerProfile);
    expect(profile.identities.some((link) => link.type === 'user_id')).toBe(true);
    expect(await storedProfileSize(profile.profileId)).toBeLessThan(PROFILE_LIMITS.itemBudgetBytes);
  }, 120_000);

  it('compacts mergedFrom and still erases every merged profile', async () => {
    const user = unique('merged');
    const cookies = Array.from({ length: 55 }, (_, i) => unique(`c${i}`));
    for (const [i, cookie] of cookies.entries()) {
      await reconcile(acceptedMessage({ type: 'page', anonymousId: cookie, timestamp: secondsAgo(1_000 - i) }));
      await reconcile(acceptedMessage({ type: 'identify', userId: user, anonymousId: cookie, timestamp: secondsAgo(999 - i) }));
    }
    const profile = await profileOf('user_id', user);
    expect(profile.mergedFrom).toHaveLength(PROFILE_LIMITS.maxInlineMergedFrom);
    expect(profile.mergedFromCount).toBe(54);
    expect(profile.activity.eventsTotal).toBe(110);

    const pointers = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :mf)',
        ExpressionAttributeValues: { ':pk': `P#${profile.profileId}`, ':mf': 'MF#' },
      }),
    );
    const absorbed = (pointers.Items ?? []).map((item) => item.profileId as string);
    expect(absorbed).toHaveLength(54);
    const compactedOut = absorbed.filter((id) => !profile.mergedFrom.includes(id));
    expect(compactedOut).toHaveLength(4);

    expect(await eraseNow(store, profile, new Date())).toEqual({ eventsDeleted: 110 });
    for (const id of [profile.profileId, ...absorbed]) {
      const left = await doc.send(
        new QueryCommand({ TableName: tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `P#${id}` } }),
      );
      // Only the retired-scores marker stays, without data, until its TTL: it refuses scores computed before the erasure.
      expect(left.Items).toEqual([{ PK: `P#${id}`, SK: 'SCORES', retiredAt: expect.any(String), expiresAt: expect.any(Number) }]);
    }
  }, 120_000);
});

describe('clock skew is bounded', () => {
  const attacker = 'attacker@evil.io';

  async function attack(order: 'forged first' | 'real first', forgedTimestamp: (receivedAt: string) => string) {
    const user = unique('victim');
    const email = `${unique('ana')}@shop.io`;
    await reconcile(acceptedMessage({ type: 'identify', userId: user, timestamp: secondsAgo(3_600), traits: { email, firstName: 'Ana' } }));
    // The attacker (who knows the user id) sends first; the real person changes their mind just after.
    const forgedReceivedAt = secondsAgo(60);
    const forged = acceptedMessage({
      type: 'identify',
      userId: user,
      timestamp: forgedTimestamp(forgedReceivedAt),
      receivedAt: forgedReceivedAt,
      traits: { email: attacker, unsubscribed: false },
      context: { consent: { categoryPreferences: { marketing: true } } },
    });
    const real = acceptedMessage({
      type: 'identify',
      userId: user,
      timestamp: later(forgedReceivedAt, 1),
      receivedAt: later(forgedReceivedAt, 2),
      traits: { email, unsubscribed: true },
      context: { consent: { categoryPreferences: { marketing: false } } },
    });
    for (const message of order === 'forged first' ? [forged, real] : [real, forged]) expect((await reconcile(message)).status).toBe('applied');
    return profileOf('user_id', user).then((profile) => ({ profile, email }));
  }

  it.each([
    ['forged first', 'dated 2999-01-01', () => '2999-01-01T00:00:00.000Z'],
    ['real first', 'dated 2999-01-01', () => '2999-01-01T00:00:00.000Z'],
    ['forged first', 'dated 4 minutes ahead (within the skew allowance)', (receivedAt: string) => later(receivedAt, 240)],
    ['real first', 'dated 4 minutes ahead (within the skew allowance)', (receivedAt: string) => later(receivedAt, 240)],
  ] as const)('a forged identify (%s, %s) never wins over a later real one: email, consent and where email goes', async (order, _label, forgedTimestamp) => {
    const { profile, email } = await attack(order, forgedTimestamp);
    expect(profile.traits.email?.value).toBe(email);
    expect(profile.traits.unsubscribed?.value).toBe(true);
    expect(profile.consent.categories.marketing?.granted).toBe(false);
    expect(hasMarketingConsent(profile.consent)).toBe(false);
    // Journeys send to the newest email identity: it is the real one.
    expect(newestIdentity(profile.identities, 'email')).toBe(email);
  });

  it('stores a far-future event at its receipt time and keeps the claimed time as originalTimestamp', async () => {
    const user = unique('future');
    const receivedAt = secondsAgo(30);
    await reconcile(
      acceptedMessage({
        type: 'track',
        event: 'Product Viewed',
        userId: user,
        timestamp: '2999-01-01T00:00:00.000Z',
        receivedAt,
        properties: { product_id: 'x' },
      }),
    );
    const profile = await profileOf('user_id', user);
    const [event] = await store.listEvents(profile, 10);
    expect(event?.message).toMatchObject({ timestamp: receivedAt, originalTimestamp: '2999-01-01T00:00:00.000Z' });
    expect(profile.activity.lastSeen).toBe(receivedAt);
    expect(profile.identities[0]?.lastSeen).toBe(receivedAt);
  });

  it('corrects a device clock with sentAt (timestamp + receivedAt - sentAt)', async () => {
    const user = unique('clock');
    const receivedAt = secondsAgo(30);
    // The phone's clock is 3 hours ahead; it queued the event 20 s before sending the batch.
    const sentAt = later(receivedAt, 3 * 3_600);
    await reconcile(acceptedMessage({ type: 'screen', name: 'Home', userId: user, timestamp: later(sentAt, -20), sentAt, receivedAt }));
    const profile = await profileOf('user_id', user);
    expect(profile.activity.lastSeen).toBe(later(receivedAt, -20));
  });
});

describe('erasure suppresses identifiers, not messages', () => {
  it("tracks person B on the browser person A used before being erased, without A's cookie, and never re-creates A", async () => {
    const [userA, userB, cookie] = [unique('a'), unique('b'), unique('shared-cookie')];
    const emailA = `${unique('a')}@shop.io`;
    await reconcile(acceptedMessage({ type: 'identify', userId: userA, anonymousId: cookie, timestamp: secondsAgo(100), traits: { email: emailA } }));
    const profileA = await profileOf('user_id', userA);
    await eraseNow(store, profileA, new Date());

    const identifyB = acceptedMessage({
      type: 'identify',
      userId: userB,
      anonymousId: cookie,
      timestamp: secondsAgo(50),
      traits: { firstName: 'Bea', email: emailA },
    });
    expect(await reconcile(identifyB)).toMatchObject({ status: 'applied', identifiersSuppressed: 2 });
    const pageB = acceptedMessage({ type: 'page', userId: userB, anonymousId: cookie, timestamp: secondsAgo(40) });
    expect(await reconcile(pageB)).toMatchObject({ status: 'applied', identifiersSuppressed: 1 });

    const profileB = await profileOf('user_id', userB);
    expect(profileB.profileId).not.toBe(profileA.profileId);
    expect(profileB.identities.map(({ type, value }) => ({ type, value }))).toEqual([{ type: 'user_id', value: userB }]);
    expect(profileB.traits).toEqual({ firstName: expect.objectContaining({ value: 'Bea' }) });
    expect(profileB.activity.eventsTotal).toBe(2);
    // Neither the profile nor its stored events keep the erased identifiers.
    const events = await store.listEvents(profileB, 10);
    expect(JSON.stringify(events)).not.toContain(cookie);
    expect(JSON.stringify(events)).not.toContain(emailA);
    // A stays erased: the cookie and the address link nobody, A's user id finds nothing.
    expect(await store.findProfile({ type: 'anonymous_id', value: cookie })).toBeUndefined();
    expect(await store.findProfile({ type: 'email', value: emailA })).toBeUndefined();
    expect(await store.findProfile({ type: 'user_id', value: userA })).toBeUndefined();
    // A message that is A's own (its most trusted identifier is A's) is still dropped.
    expect(await reconcile(acceptedMessage({ type: 'page', userId: userA, anonymousId: unique('new-cookie'), timestamp: secondsAgo(1) }))).toEqual({
      status: 'suppressed',
    });
  });
});

describe('no poison messages', () => {
  const logger = new Logger({ logLevel: 'SILENT' });
  const record = (message: AcceptedMessage | string): SQSRecord =>
    ({
      messageId: randomUUID(),
      body: typeof message === 'string' ? message : JSON.stringify(message),
      attributes: { ApproximateReceiveCount: '1' },
    }) as unknown as SQSRecord;
  const consume = quarantinePoisonMessages({ consumer: 'reconcile', logger, sink: () => store }, async (sqsRecord) => {
    const [entry] = parseEventsBody(sqsRecord.body);
    if (!entry || 'error' in entry) throw entry?.error ?? new Error('empty body');
    await reconcile(entry.message);
  });

  // Random, so that the event page's compression cannot bring it under 400 KB.
  it('quarantines a message DynamoDB refuses (an event item over 400 KB) and the profile keeps taking events', async () => {
    const user = unique('poison');
    const huge = acceptedMessage({
      type: 'track',
      event: 'Huge',
      userId: user,
      timestamp: secondsAgo(20),
      properties: { blob: randomBytes(450_000).toString('base64') },
    });
    const failure = await reconcile(huge).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(classifyFailure(failure)).toEqual({ kind: 'permanent', reason: 'item larger than DynamoDB allows (400 KB)' });

    const sqsRecord = record(huge);
    await expect(consume(sqsRecord)).resolves.toBeUndefined();
    const entries = (await store.listQuarantine(1_000)).filter(
      (entry): entry is QuarantinedMessage => entry.kind === 'message' && entry.sqsMessageId === sqsRecord.messageId,
    );
    expect(entries).toEqual([
      expect.objectContaining({
        consumer: 'reconcile',
        messageId: huge.messageId,
        reason: 'item larger than DynamoDB allows (400 KB)',
        bytes: sqsRecord.body.length,
      }),
    ]);
    expect(JSON.stringify(entries)).not.toContain(String(huge.properties.blob).slice(0, 40));

    await consume(record(acceptedMessage({ type: 'page', userId: user, timestamp: secondsAgo(10) })));
    expect((await profileOf('user_id', user)).activity.eventsTotal).toBe(1);
  });

  it('quarantines a body that breaks the message contract', async () => {
    const sqsRecord = record(
      '{"type":"track","messageId":"m-deep","userId":"u","event":"e","timestamp":"2026-11-20T10:00:00Z","receivedAt":"2026-11-20T10:00:00Z","properties":' +
        '{"a":'.repeat(40) +
        '1' +
        '}'.repeat(40) +
        '}',
    );
    await expect(consume(sqsRecord)).resolves.toBeUndefined();
    expect(await store.listQuarantine(1_000)).toContainEqual(
      expect.objectContaining({
        kind: 'message',
        sqsMessageId: sqsRecord.messageId,
        messageId: 'm-deep',
        reason: 'the message holds nested deeper than 30 levels',
      }),
    );
  });

  it('stores a number beyond 2^53 (a 19-digit id sent as a number) instead of failing on it forever', async () => {
    const user = unique('bignum');
    const body = `{"type":"track","messageId":"${randomUUID()}","userId":"${user}","event":"Order Completed","timestamp":"${secondsAgo(5)}","receivedAt":"${secondsAgo(4)}","properties":{"order_id":1234567890123456789,"revenue":10}}`;
    await expect(consume(record(body))).resolves.toBeUndefined();
    const profile = await profileOf('user_id', user);
    expect(profile.activity.revenue).toBe(10);
    const [event] = await store.listEvents(profile, 1);
    expect(event?.message.properties.order_id).toBe(1234567890123456789);
  });
});
