import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoProfileStore, keys } from '../../functions/adapters/dynamodb-profile-store';
import { DEFAULT_IDENTITY_CONFIG as config } from '../../functions/domain/identity/identity-config';
import { MAX_WINDOW_IDS, windowSize } from '../../functions/domain/profile/dedupe-window';
import { reconcileMessage, reconcileMessages } from '../../functions/domain/reconcile/reconcile-message';
import { unmergeProfile } from '../../functions/domain/reconcile/unmerge-profile';
import type { AcceptedMessage } from '../../functions/domain/tracking/accepted-message';
import type { DynamoDbLocal } from '../../local/dynamodb-local';
import { recordRequests, type RecordedRequest } from '../helpers/iam-access';
import { acceptedMessage } from '../helpers/messages';
import { profileStoreOptions, reconcileDependencies, startProfilesTable, eraseNow } from '../helpers/profiles-table';

/**
 * A person's messages of one batch, reconciled together (one read, one commit, one event page)
 * against DynamoDB Local: the same profile as one by one, exactly once across batches of any
 * composition, and what each commit costs in items.
 */
let dynamo: DynamoDbLocal;
let store: DynamoProfileStore;
let doc: DynamoDBDocumentClient;
let tableName: string;
let requests: RecordedRequest[] = [];
const now = Date.now();
const recent = (minutesAgo: number): string => new Date(now - minutesAgo * 60_000).toISOString();
const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  ({ dynamo, tableName } = await startProfilesTable());
  requests = recordRequests(dynamo.client);
  store = new DynamoProfileStore(dynamo.client, profileStoreOptions(tableName));
  doc = DynamoDBDocumentClient.from(dynamo.client);
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const deps = reconcileDependencies(() => store, { maxAttempts: 20, backoff: () => Promise.resolve() });

async function profileOf(type: string, value: string) {
  const profile = await store.findProfile({ type, value });
  if (!profile) throw new Error(`no profile for ${type}`);
  return profile;
}

async function partitionItems(profileId: string): Promise<Array<Record<string, unknown>>> {
  const { Items = [] } = await doc.send(
    new QueryCommand({ TableName: tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `P#${profileId}` } }),
  );
  return Items;
}

/** A browsing session that ends in a login: 4 anonymous events, then identify and 2 known ones. */
function session(user: string, cookie: string, firstMinute: number): AcceptedMessage[] {
  return [
    acceptedMessage({ type: 'page', anonymousId: cookie, timestamp: recent(firstMinute), properties: { path: '/' } }),
    acceptedMessage({
      type: 'track',
      event: 'Product Viewed',
      anonymousId: cookie,
      timestamp: recent(firstMinute - 1),
      properties: { product_id: 'p1', category: 'tools' },
    }),
    acceptedMessage({
      type: 'track',
      event: 'Product Added',
      anonymousId: cookie,
      timestamp: recent(firstMinute - 2),
      properties: { product_id: 'p1', price: 12 },
    }),
    acceptedMessage({ type: 'page', anonymousId: cookie, timestamp: recent(firstMinute - 3), properties: { path: '/cart' } }),
    acceptedMessage({
      type: 'identify',
      userId: user,
      anonymousId: cookie,
      timestamp: recent(firstMinute - 4),
      traits: { email: `${user}@shop.test`, plan: 'gold' },
    }),
    acceptedMessage({
      type: 'track',
      event: 'Order Completed',
      userId: user,
      timestamp: recent(firstMinute - 5),
      properties: { order_id: unique('o'), revenue: 12 },
    }),
    acceptedMessage({ type: 'page', userId: user, timestamp: recent(firstMinute - 6), properties: { path: '/thanks' } }),
  ];
}

/** The parts of a profile that must not depend on how its messages were batched. */
function comparable(profile: Awaited<ReturnType<typeof profileOf>>) {
  return {
    identities: profile.identities.map(({ type }) => type).sort(),
    traits: Object.keys(profile.traits).sort(),
    totals: profile.activity.totals,
    eventsTotal: profile.activity.eventsTotal,
    revenue: profile.activity.revenue,
    merged: profile.mergedFrom.length,
  };
}

describe('reconciling a person per batch', () => {
  it('builds the same profile as one message at a time, with one transaction and one event page', async () => {
    const [one, many] = [unique('one'), unique('many')];
    for (const message of session(one, unique('c'), 30)) expect((await reconcileMessage(message, deps)).status).toBe('applied');

    const messages = session(many, unique('c'), 30);
    requests.length = 0;
    const outcomes = await reconcileMessages(messages, deps);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(messages.length).fill('applied'));
    expect(requests.filter((request) => request.command.startsWith('TransactWrite'))).toHaveLength(1);

    const [sequential, grouped] = [await profileOf('user_id', one), await profileOf('user_id', many)];
    expect(comparable(grouped)).toEqual(comparable(sequential));
    expect(comparable(grouped)).toEqual(expect.objectContaining({ eventsTotal: 7, revenue: 12, merged: 0 }));
    const events = await store.listEvents(grouped, 100);
    expect(events.map((event) => event.message.messageId)).toEqual([...messages].reverse().map((message) => message.messageId));
    expect((await partitionItems(grouped.profileId)).filter((item) => String(item.SK).startsWith('E#'))).toHaveLength(1);
    // No marker item per message: the ids are in the profile's dedupe window.
    expect(windowSize(grouped.recentMessages)).toBe(7);
  });

  it('counts a message once whatever batch it comes back in, and reports where it went', async () => {
    const user = unique('again');
    const messages = session(user, unique('c'), 20);
    const first = await reconcileMessages(messages.slice(0, 5), deps);
    const profileId = (await profileOf('user_id', user)).profileId;
    expect(first.every((outcome) => outcome.status === 'applied')).toBe(true);

    // Redelivered in another composition: two old ones with the two new ones, one of them twice.
    const [newer, last] = [messages[5] as AcceptedMessage, messages[6] as AcceptedMessage];
    const second = await reconcileMessages([messages[1] as AcceptedMessage, newer, messages[4] as AcceptedMessage, newer, last], deps);
    expect(second).toEqual([
      { status: 'duplicate', profileId },
      expect.objectContaining({ status: 'applied', profileId }),
      { status: 'duplicate', profileId },
      { status: 'duplicate', profileId },
      expect.objectContaining({ status: 'applied', profileId }),
    ]);
    const profile = await profileOf('user_id', user);
    expect(profile.activity.eventsTotal).toBe(7);
    expect(await store.listEvents(profile, 100)).toHaveLength(7);
  });

  it('merges and keeps the family computer apart within one batch, as message by message', async () => {
    const [parent, child, shared, phone] = [unique('parent'), unique('child'), unique('pc'), unique('phone')];
    // The parent's phone profile exists; the shared computer's cookie then logs in as parent, then as child.
    await reconcileMessage(
      acceptedMessage({ type: 'identify', userId: parent, anonymousId: phone, timestamp: recent(60), traits: { firstName: 'Parent' } }),
      deps,
    );
    const batch = [
      acceptedMessage({ type: 'page', anonymousId: shared, timestamp: recent(10) }),
      acceptedMessage({ type: 'identify', userId: parent, anonymousId: shared, timestamp: recent(9) }),
      acceptedMessage({ type: 'identify', userId: child, anonymousId: shared, timestamp: recent(8), traits: { firstName: 'Child' } }),
      acceptedMessage({ type: 'track', event: 'Product Viewed', userId: child, timestamp: recent(7), properties: { product_id: 'game' } }),
    ];
    const outcomes = await reconcileMessages(batch, deps);
    const [parentProfile, childProfile] = [await profileOf('user_id', parent), await profileOf('user_id', child)];
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['applied', 'applied', 'applied', 'applied']);
    expect(outcomes[1]).toEqual(expect.objectContaining({ profileId: parentProfile.profileId, absorbedProfileIds: [expect.any(String)] }));
    expect(outcomes[2]).toEqual(expect.objectContaining({ profileId: childProfile.profileId, conflicts: 1 }));
    expect(childProfile.profileId).not.toBe(parentProfile.profileId);
    expect((await profileOf('anonymous_id', shared)).profileId).toBe(parentProfile.profileId);
    expect(parentProfile.traits.firstName?.value).toBe('Parent');
    expect(childProfile.traits.firstName?.value).toBe('Child');
    // The cookie's own profile, made and merged within the batch, is a tombstone like message by message.
    const merge = outcomes[1];
    const absorbedId = merge?.status === 'applied' ? (merge.absorbedProfileIds[0] as string) : 'none';
    expect(await store.getProfile(absorbedId)).toEqual(expect.objectContaining({ profileId: parentProfile.profileId }));
    expect((await store.listEvents(parentProfile, 10)).map((event) => event.message.type).sort()).toEqual(['identify', 'identify', 'page']);
    expect(await store.listEvents(childProfile, 10)).toHaveLength(2);
  });

  it('splits a group too large for one transaction and still applies every message once', async () => {
    const user = unique('loud');
    // Each message quarantines values (its own items): 40 of them cannot share one transaction.
    const messages = Array.from({ length: 40 }, (_, index) =>
      acceptedMessage({
        type: 'identify',
        userId: user,
        timestamp: recent(40 - index),
        traits: { email: `not-an-email-${index}`, phone: 'nope', birthday: 'never' },
      }),
    );
    requests.length = 0;
    const outcomes = await reconcileMessages(messages, deps);
    expect(outcomes.every((outcome) => outcome.status === 'applied')).toBe(true);
    expect(requests.filter((request) => request.command.startsWith('TransactWrite')).length).toBeGreaterThan(1);
    const profile = await profileOf('user_id', user);
    expect(profile.activity.eventsTotal).toBe(40);
    expect(await store.listEvents(profile, 100)).toHaveLength(40);
  });

  it("marks messages with their own item once a busy profile's window is full, and honours marker items", async () => {
    const user = unique('busy');
    const first = acceptedMessage({ type: 'identify', userId: user, timestamp: recent(5) });
    await reconcileMessage(first, deps);
    const profile = await profileOf('user_id', user);
    // Fill the window as a profile taking MAX_WINDOW_IDS messages this hour would have it.
    const hour = new Date().toISOString().slice(0, 13);
    const full = { ...profile, recentMessages: { [hour]: 'x'.repeat(11 * MAX_WINDOW_IDS) }, version: profile.version + 1 };
    await doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.profile(profile.profileId), ...full } }));

    const next = acceptedMessage({ type: 'track', event: 'Product Viewed', userId: user, timestamp: recent(4), properties: { product_id: 'p' } });
    expect(await reconcileMessage(next, deps)).toEqual(expect.objectContaining({ status: 'applied' }));
    const marker = await doc.send(
      new QueryCommand({ TableName: tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `MSG#${next.messageId}` } }),
    );
    expect(marker.Items).toEqual([expect.objectContaining({ profileId: profile.profileId })]);
    expect(await reconcileMessage(next, deps)).toEqual({ status: 'duplicate', profileId: profile.profileId });

    // A marker written by an earlier version counts too.
    const legacy = acceptedMessage({ type: 'page', userId: user, timestamp: recent(3) });
    await doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.dedupe(legacy.messageId), profileId: profile.profileId } }));
    expect(await reconcileMessage(legacy, deps)).toEqual({ status: 'duplicate', profileId: profile.profileId });
    expect((await profileOf('user_id', user)).activity.eventsTotal).toBe(2);
  });

  it('reads single-event items of earlier versions beside pages, and un-merges events out of pages', async () => {
    const [user, cookie, shared] = [unique('u'), unique('own'), unique('shared')];
    await reconcileMessages(
      [
        acceptedMessage({ type: 'identify', userId: user, anonymousId: cookie, timestamp: recent(30), traits: { firstName: 'Ana' } }),
        acceptedMessage({ type: 'page', anonymousId: cookie, timestamp: recent(29) }),
      ],
      deps,
    );
    const profile = await profileOf('user_id', user);
    const legacy = acceptedMessage({ type: 'page', userId: user, timestamp: recent(28) });
    await doc.send(
      new PutCommand({ TableName: tableName, Item: { ...keys.event(profile.profileId, legacy), message: legacy, reconciledAt: new Date().toISOString() } }),
    );
    // Somebody else's cookie, merged by a wrong alias, within one batch with the person's own events.
    await reconcileMessages(
      [
        acceptedMessage({ type: 'track', event: 'Product Viewed', anonymousId: shared, timestamp: recent(25), properties: { product_id: 'drill' } }),
        acceptedMessage({ type: 'alias', userId: user, previousId: shared, timestamp: recent(20) }),
        acceptedMessage({ type: 'page', userId: user, timestamp: recent(19) }),
      ],
      deps,
    );
    const merged = await profileOf('user_id', user);
    expect((await store.listEvents(merged, 100)).map((event) => event.message.type)).toEqual(['page', 'alias', 'track', 'page', 'page', 'identify']);

    const outcome = await unmergeProfile(merged, [{ type: 'anonymous_id', value: shared }], { store, config, now: () => new Date(), newProfileId: randomUUID });
    if (outcome.status !== 'split') throw new Error(outcome.reason);
    const [kept, split] = [await profileOf('user_id', user), await profileOf('anonymous_id', shared)];
    expect(split.profileId).toBe(outcome.splitProfileId);
    expect((await store.listEvents(kept, 100)).map((event) => event.message.type)).toEqual(['page', 'alias', 'page', 'page', 'identify']);
    expect((await store.listEvents(split, 100)).map((event) => event.message.type)).toEqual(['track']);
    // The split-off person's event left the page it shared with the other's: nowhere in their partitions.
    const keptPartitions = await Promise.all(
      [kept.profileId, ...kept.mergedFrom].map((profileId) => store.listEvents({ ...kept, profileId, mergedFrom: [] }, 100)),
    );
    expect(keptPartitions.flat().map((event) => event.message.properties.product_id)).not.toContain('drill');
  });
});

describe('what journeys learn from a reconciled group', () => {
  const consenting = (user: string, cookie: string, minutesAgo: number): AcceptedMessage =>
    acceptedMessage({
      type: 'identify',
      userId: user,
      anonymousId: cookie,
      timestamp: recent(minutesAgo),
      traits: { email: `${user}@shop.test` },
      context: { consent: { categoryPreferences: { email_marketing: true } } },
    });
  const applied = (outcome: Awaited<ReturnType<typeof reconcileMessage>>) => {
    if (outcome.status !== 'applied') throw new Error(`expected applied, got ${outcome.status}`);
    return outcome;
  };

  it('tells every message of a group whether its profile can be emailed once the group is stored', async () => {
    const [user, cookie, stranger] = [unique('u'), unique('c'), unique('s')];
    const outcomes = await reconcileMessages(
      [
        acceptedMessage({ type: 'track', event: 'Product Viewed', anonymousId: cookie, timestamp: recent(10), properties: { product_id: 'p1' } }),
        consenting(user, cookie, 9),
        acceptedMessage({ type: 'track', event: 'Product Viewed', anonymousId: stranger, timestamp: recent(8), properties: { product_id: 'p2' } }),
      ],
      deps,
    );
    // The view came before the identify, in the same group: the profile it went to is emailable now.
    expect(outcomes.map((outcome) => applied(outcome).emailable)).toEqual([true, true, false]);
    // An address without marketing consent is not enough.
    const unconsented = unique('n');
    expect(
      applied(
        await reconcileMessage(
          acceptedMessage({ type: 'identify', userId: unconsented, timestamp: recent(7), traits: { email: `${unconsented}@shop.test` } }),
          deps,
        ),
      ).emailable,
    ).toBe(false);
  });

  it('names the cart of a profile that becomes emailable, once, with its newest change', async () => {
    const [user, cookie] = [unique('u'), unique('c')];
    const added = recent(20);
    const first = applied(
      await reconcileMessage(
        acceptedMessage({ type: 'track', event: 'Product Added', anonymousId: cookie, timestamp: recent(25), properties: { product_id: 'p1', price: 12 } }),
        deps,
      ),
    );
    const second = applied(
      await reconcileMessage(
        acceptedMessage({ type: 'track', event: 'Product Added', anonymousId: cookie, timestamp: added, properties: { product_id: 'p2', price: 8 } }),
        deps,
      ),
    );
    expect([first, second].map(({ emailable, reachableCartSince }) => ({ emailable, reachableCartSince }))).toEqual([
      { emailable: false, reachableCartSince: undefined },
      { emailable: false, reachableCartSince: undefined },
    ]);

    const login = applied(await reconcileMessage(consenting(user, cookie, 5), deps));
    expect(login).toEqual(expect.objectContaining({ emailable: true, reachableCartSince: added }));
    // Already emailable: a later message does not announce the cart again.
    const later = applied(await reconcileMessage(acceptedMessage({ type: 'page', userId: user, timestamp: recent(4), properties: { path: '/' } }), deps));
    expect(later.emailable).toBe(true);
    expect(later.reachableCartSince).toBeUndefined();
  });

  it('does not name a cart the order emptied', async () => {
    const [user, cookie] = [unique('u'), unique('c')];
    const outcomes = await reconcileMessages(
      [
        acceptedMessage({ type: 'track', event: 'Product Added', anonymousId: cookie, timestamp: recent(30), properties: { product_id: 'p1', price: 12 } }),
        acceptedMessage({
          type: 'track',
          event: 'Order Completed',
          anonymousId: cookie,
          timestamp: recent(29),
          properties: { order_id: unique('o'), revenue: 12 },
        }),
        consenting(user, cookie, 28),
      ],
      deps,
    );
    expect(outcomes.map((outcome) => applied(outcome).reachableCartSince)).toEqual([undefined, undefined, undefined]);
  });
});

describe('erasure racing a reconcile', () => {
  it('does not link an identifier that was new when the group was read and erased before its commit', async () => {
    const [erased, newcomer] = [unique('erased'), unique('newcomer')];
    const address = `${erased}@shop.test`;
    let raced = false;
    /** The real store, except that the first snapshot read is followed by the erased person's own login and erasure. */
    const racing = new Proxy(store, {
      get(target, property) {
        if (property === 'loadSnapshot') {
          return async (...args: Parameters<DynamoProfileStore['loadSnapshot']>) => {
            const snapshot = await target.loadSnapshot(...args);
            if (!raced) {
              raced = true;
              await reconcileMessage(acceptedMessage({ type: 'identify', userId: erased, timestamp: recent(3), traits: { email: address } }), deps);
              await eraseNow(store, await profileOf('user_id', erased), new Date());
            }
            return snapshot;
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const racingDeps = reconcileDependencies(() => racing, { maxAttempts: 20, backoff: () => Promise.resolve() });

    const outcome = await reconcileMessage(
      acceptedMessage({ type: 'identify', userId: newcomer, timestamp: recent(2), traits: { email: address } }),
      racingDeps,
    );
    expect(raced).toBe(true);
    // Decided again after the commit failed on the erased link's marker: applied without the address.
    expect(outcome).toMatchObject({ status: 'applied', identifiersSuppressed: 1 });
    expect(await store.findProfile({ type: 'email', value: address })).toBeUndefined();
    expect((await profileOf('user_id', newcomer)).identities.map(({ type }) => type)).toEqual(['user_id']);
  });
});
