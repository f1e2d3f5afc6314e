import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoProfileStore } from '../../functions/adapters/dynamodb-profile-store';
import { DEFAULT_IDENTITY_CONFIG as config } from '../../functions/domain/identity/identity-config';
import { computeTraits } from '../../functions/domain/profile/computed-traits';
import { reconcileMessage, type ReconcileOutcome } from '../../functions/domain/reconcile/reconcile-message';
import { unmergeProfile } from '../../functions/domain/reconcile/unmerge-profile';
import type { AcceptedMessage } from '../../functions/domain/tracking/accepted-message';
import { PROFILES_TABLE } from '../../lib/definitions/tables';
import { ensureTables, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';
import { acceptedMessage } from '../helpers/messages';
import { eraseNow } from '../helpers/profiles-table';

/** Identity reconciliation against the real DynamoDB engine (DynamoDB Local): transactions, conditions, races. */
let dynamo: DynamoDbLocal;
let store: DynamoProfileStore;
const now = new Date();
const recent = (minutesAgo: number): string => new Date(now.getTime() - minutesAgo * 60_000).toISOString();

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000, logger: new Logger({ logLevel: 'ERROR' }) });
  const tableName = `profiles-${randomUUID()}`;
  await ensureTables(dynamo.client, [PROFILES_TABLE], () => tableName);
  store = new DynamoProfileStore(dynamo.client, {
    tableName,
    eventTtlDays: 395,
    lenientIdentifierLifetimeDays: config.anonymousIdLifetimeDays,
    lenientTypes: ['anonymous_id', 'device_id'],
    dedupeWindowHours: 24,
  });
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const deps = {
  get store() {
    return store;
  },
  config,
  now: () => new Date(),
  newProfileId: randomUUID,
  backoff: (attempt: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 5 * 2 ** attempt))),
  maxAttempts: 50,
};

const reconcile = (message: AcceptedMessage): Promise<ReconcileOutcome> => reconcileMessage(message, deps);
const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

async function profileOf(type: string, value: string) {
  const profile = await store.findProfile({ type, value });
  if (!profile) throw new Error(`no profile for ${type}`);
  return profile;
}

describe('identity reconciliation on DynamoDB Local', () => {
  it('folds anonymous web browsing, login, the mobile app and a CRM import into one profile holding every event', async () => {
    const [cookie, user, appInstall, device] = [unique('cookie'), unique('user'), unique('app'), unique('device')];
    const email = `${unique('ana')}@shop.io`;
    const messages = [
      acceptedMessage({ type: 'page', anonymousId: cookie, timestamp: recent(60), context: { library: { name: 'analytics.js' } } }),
      acceptedMessage({
        type: 'track',
        event: 'Product Viewed',
        anonymousId: cookie,
        timestamp: recent(59),
        properties: { product_id: 'mug', category: 'mugs' },
      }),
      acceptedMessage({ type: 'identify', userId: user, anonymousId: cookie, timestamp: recent(58), traits: { email, firstName: 'Ana' } }),
      acceptedMessage({ type: 'screen', anonymousId: appInstall, name: 'Home', timestamp: recent(30), context: { device: { id: device, type: 'ios' } } }),
      acceptedMessage({
        type: 'track',
        event: 'Product Added',
        anonymousId: appInstall,
        timestamp: recent(29),
        properties: { product_id: 'tee', price: 20 },
        context: { device: { id: device } },
      }),
      acceptedMessage({ type: 'identify', userId: user, anonymousId: appInstall, timestamp: recent(28), context: { device: { id: device } } }),
      acceptedMessage({
        type: 'identify',
        timestamp: recent(5),
        traits: { email: email.toUpperCase(), crm_id: 'CRM-1', plan: 'gold' },
        context: { channel: 'crm', dmp: { origin: { source: 'crm', party: 'first' } } },
      }),
    ];
    for (const message of messages) expect((await reconcile(message)).status).toBe('applied');

    const profile = await profileOf('user_id', user);
    for (const [type, value] of [
      ['anonymous_id', cookie],
      ['anonymous_id', appInstall],
      ['device_id', device],
      ['email', email],
      ['crm_id', 'CRM-1'],
    ] as const) {
      expect((await profileOf(type, value)).profileId).toBe(profile.profileId);
    }
    const events = await store.listEvents(profile, 100);
    expect(events.map((e) => e.message.messageId).sort()).toEqual(messages.map((m) => m.messageId).sort());
    expect(events.map((e) => e.message.timestamp)).toEqual([...events.map((e) => e.message.timestamp)].sort().reverse());
    expect(Object.fromEntries(Object.entries(profile.traits).map(([k, v]) => [k, v.value]))).toEqual({
      email,
      firstName: 'Ana',
      crm_id: 'CRM-1',
      plan: 'gold',
    });
    expect(computeTraits(profile.activity, new Date()).channels).toEqual(['crm', 'mobile', 'server', 'web']);
    const merges = await store.listMergeLog(profile, 10);
    expect(merges.filter((m) => m.kind === 'merge')).toHaveLength(1);
    // The app's device id outranks its anonymous id, so it is the identifier that linked the two.
    expect(merges[0]).toMatchObject({ kind: 'merge', rule: 'shared identifier device_id', identifiers: [{ type: 'device_id', value: device }] });
  });

  it('keeps the two people of a shared family computer apart and records the conflict', async () => {
    const [familyPc, parent, child] = [unique('pc'), unique('parent'), unique('child')];
    await reconcile(acceptedMessage({ type: 'identify', userId: parent, anonymousId: familyPc, timestamp: recent(20), traits: { firstName: 'Parent' } }));
    await reconcile(
      acceptedMessage({ type: 'track', event: 'Product Viewed', anonymousId: familyPc, timestamp: recent(15), properties: { product_id: 'lego' } }),
    );
    const childLogin = acceptedMessage({ type: 'identify', userId: child, anonymousId: familyPc, timestamp: recent(10), traits: { firstName: 'Child' } });
    expect(await reconcile(childLogin)).toMatchObject({ status: 'applied', conflicts: 1, absorbedProfileIds: [] });

    const parentProfile = await profileOf('user_id', parent);
    const childProfile = await profileOf('user_id', child);
    expect(childProfile.profileId).not.toBe(parentProfile.profileId);
    expect(parentProfile.traits.firstName?.value).toBe('Parent');
    expect(childProfile.traits.firstName?.value).toBe('Child');
    expect((await profileOf('anonymous_id', familyPc)).profileId).toBe(parentProfile.profileId);
    expect(await store.listMergeLog(childProfile, 10)).toEqual([
      expect.objectContaining({
        kind: 'conflict',
        otherProfileId: parentProfile.profileId,
        messageId: childLogin.messageId,
        identifiers: [{ type: 'anonymous_id', value: familyPc }],
      }),
    ]);
  });

  it('counts 1,000 events of one person processed by 8 concurrent workers exactly once each', async () => {
    const user = unique('busy');
    const cookies = Array.from({ length: 8 }, (_, i) => `${user}-cookie-${i}`);
    const messages = Array.from({ length: 1_000 }, (_, i) =>
      acceptedMessage({
        type: i % 2 === 0 ? 'page' : 'track',
        ...(i % 2 === 1 && { event: 'Product Viewed', properties: { product_id: `p${i % 7}` } }),
        userId: user,
        anonymousId: cookies[i % 8],
        timestamp: recent(1_000 - i),
      }),
    );
    const queue = [...messages];
    const workers = Array.from({ length: 8 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) expect((await reconcile(next)).status).toBe('applied');
    });
    await Promise.all(workers);
    const profile = await profileOf('user_id', user);
    expect(profile.activity.eventsTotal).toBe(1_000);
    expect(profile.activity.totals).toEqual({ page_views: 500, product_views: 500 });
    expect(profile.identities.filter((l) => l.type === 'anonymous_id')).toHaveLength(8);
    expect(await store.listEvents(profile, 2_000)).toHaveLength(1_000);
  }, 120_000);

  it('changes nothing when a batch is delivered again', async () => {
    const user = unique('again');
    const batch = [
      acceptedMessage({ type: 'identify', userId: user, timestamp: recent(3), traits: { plan: 'silver' } }),
      acceptedMessage({ type: 'track', event: 'Order Completed', userId: user, timestamp: recent(2), properties: { revenue: 30 } }),
    ];
    for (const message of batch) expect((await reconcile(message)).status).toBe('applied');
    const before = await profileOf('user_id', user);
    for (const message of batch) expect(await reconcile(message)).toEqual({ status: 'duplicate', profileId: before.profileId });
    const after = await profileOf('user_id', user);
    expect(after).toEqual(before);
    expect(after.activity.revenue).toBe(30);
  });

  it('gives the same profile whatever the order the events of a person arrive in', async () => {
    const build = async (order: number[]) => {
      const [user, cookie] = [unique('u'), unique('c')];
      const story = [
        acceptedMessage({ type: 'page', anonymousId: cookie, timestamp: recent(50) }),
        acceptedMessage({ type: 'track', event: 'Product Added', anonymousId: cookie, timestamp: recent(40), properties: { product_id: 'x', price: 5 } }),
        acceptedMessage({ type: 'identify', userId: user, anonymousId: cookie, timestamp: recent(30), traits: { plan: 'old' } }),
        acceptedMessage({ type: 'identify', userId: user, timestamp: recent(20), traits: { plan: 'new' } }),
        acceptedMessage({
          type: 'track',
          event: 'Order Completed',
          userId: user,
          timestamp: recent(10),
          properties: { revenue: 5, products: [{ product_id: 'x' }] },
        }),
      ];
      for (const index of order) await reconcile(story[index] as AcceptedMessage);
      const profile = await profileOf('user_id', user);
      return {
        traits: Object.fromEntries(Object.entries(profile.traits).map(([k, v]) => [k, v.value])),
        activity: profile.activity,
        identities: profile.identities.length,
      };
    };
    const inOrder = await build([0, 1, 2, 3, 4]);
    expect(inOrder.traits).toEqual({ plan: 'new' });
    expect(await build([4, 3, 2, 1, 0])).toEqual(inOrder);
    expect(await build([3, 0, 4, 2, 1])).toEqual(inOrder);
  });

  it('erases a person and never lets a later event bring them back', async () => {
    const [user, cookie] = [unique('gone'), unique('cookie')];
    const email = `${unique('gone')}@shop.io`;
    await reconcile(acceptedMessage({ type: 'identify', userId: user, anonymousId: cookie, timestamp: recent(5), traits: { email } }));
    await reconcile(acceptedMessage({ type: 'page', anonymousId: cookie, timestamp: recent(4) }));
    const profile = await profileOf('user_id', user);
    expect(await eraseNow(store, profile, new Date())).toEqual({ eventsDeleted: 2 });
    expect(await store.findProfile({ type: 'user_id', value: user })).toBeUndefined();
    expect(await store.listEvents(profile, 10)).toEqual([]);

    expect(await reconcile(acceptedMessage({ type: 'page', anonymousId: cookie, timestamp: recent(1) }))).toEqual({ status: 'suppressed' });
    expect(await reconcile(acceptedMessage({ type: 'identify', timestamp: recent(1), anonymousId: unique('new'), traits: { email } }))).toEqual({
      status: 'suppressed',
    });
    expect(await store.findProfile({ type: 'anonymous_id', value: cookie })).toBeUndefined();
  });

  it('does not resurrect a person when a message races with their erasure', async () => {
    const [user, cookie] = [unique('race'), unique('cookie')];
    await reconcile(acceptedMessage({ type: 'identify', userId: user, anonymousId: cookie, timestamp: recent(5) }));
    const profile = await profileOf('user_id', user);
    let erased = false;
    // The erasure lands after the message read the profile and before it commits.
    const racingStore = Object.create(store) as DynamoProfileStore;
    racingStore.commit = async (change, at) => {
      if (!erased) {
        erased = true;
        await eraseNow(store, profile, new Date());
      }
      return store.commit(change, at);
    };
    const outcome = await reconcileMessage(acceptedMessage({ type: 'page', anonymousId: cookie, timestamp: recent(1) }), { ...deps, store: racingStore });
    expect(erased).toBe(true);
    expect(outcome).toEqual({ status: 'suppressed' });
    expect(await store.findProfile({ type: 'anonymous_id', value: cookie })).toBeUndefined();
    expect(await store.listEvents(profile, 10)).toEqual([]);
  });

  it('quarantines invalid trait values with their reason instead of storing or dropping them silently', async () => {
    const user = unique('q');
    const message = acceptedMessage({ type: 'identify', userId: user, timestamp: recent(1), traits: { email: 'not-an-email', plan: 'gold' } });
    await reconcile(message);
    expect((await profileOf('user_id', user)).traits.email).toBeUndefined();
    const quarantined = await store.listQuarantine(100);
    expect(quarantined).toContainEqual(
      expect.objectContaining({ trait: 'email', reason: 'invalid email address', value: 'not-an-email', messageId: message.messageId }),
    );
  });

  it('un-merges a wrongly merged identity, rebuilding both profiles from their own events', async () => {
    const [user, sharedCookie, ownCookie] = [unique('u'), unique('shared'), unique('own')];
    await reconcile(acceptedMessage({ type: 'identify', userId: user, anonymousId: ownCookie, timestamp: recent(30), traits: { firstName: 'Ana' } }));
    // A cookie of somebody else got linked by a login on their device.
    await reconcile(
      acceptedMessage({
        type: 'track',
        event: 'Product Viewed',
        anonymousId: sharedCookie,
        timestamp: recent(25),
        properties: { product_id: 'drill', category: 'tools' },
      }),
    );
    await reconcile(acceptedMessage({ type: 'alias', userId: user, previousId: sharedCookie, timestamp: recent(20) }));
    const merged = await profileOf('user_id', user);
    expect((await profileOf('anonymous_id', sharedCookie)).profileId).toBe(merged.profileId);

    const outcome = await unmergeProfile(merged, [{ type: 'anonymous_id', value: sharedCookie }], deps);
    expect(outcome).toMatchObject({ status: 'split', keptProfileId: merged.profileId, eventsMoved: 1 });
    if (outcome.status !== 'split') throw new Error('not split');
    const kept = await profileOf('user_id', user);
    const split = await profileOf('anonymous_id', sharedCookie);
    expect(split.profileId).toBe(outcome.splitProfileId);
    expect(kept.activity.totals.product_views ?? 0).toBe(0);
    expect(split.activity.totals.product_views).toBe(1);
    expect(kept.identities.map((l) => l.value).sort()).toEqual([ownCookie, user].sort());
    expect((await store.listEvents(split, 10)).map((e) => e.message.event)).toEqual(['Product Viewed']);
    expect((await store.listMergeLog(kept, 10))[0]).toMatchObject({ kind: 'unmerge', otherProfileId: split.profileId });
  });
});
