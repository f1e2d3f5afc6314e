import { DEFAULT_IDENTITY_CONFIG } from '../../../functions/domain/identity/identity-config';
import { MAX_WINDOW_IDS } from '../../../functions/domain/profile/dedupe-window';
import { reconcileMessage, reconcileMessages, type ReconcileDependencies, type ReconcileOutcome } from '../../../functions/domain/reconcile/reconcile-message';
import { PoisonMessageError } from '../../../functions/domain/shared/poison-message';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { ConcurrentUpdateError } from '../../../functions/ports/profile-store';
import { InMemoryReconcileStore, type InMemoryReconcileStoreOptions } from '../../helpers/in-memory-reconcile-store';
import { acceptedMessage } from '../../helpers/messages';

/** Identity reconciliation on the in-memory model of the profile store (DynamoDB Local: test/integration). */
const NOW = new Date('2026-11-20T12:00:00.000Z');
const DAY_MS = 86_400_000;

function setup(options: InMemoryReconcileStoreOptions = {}, overrides: Partial<ReconcileDependencies> = {}) {
  const store = new InMemoryReconcileStore(options);
  const clock = { now: NOW };
  let profiles = 0;
  let messages = 0;
  const deps: ReconcileDependencies = {
    store,
    config: DEFAULT_IDENTITY_CONFIG,
    now: () => clock.now,
    newProfileId: () => `p${(profiles += 1)}`,
    backoff: async () => {},
    ...overrides,
  };
  /** A message `minutesAgo` before the clock, received then, with a sequential id. */
  const message = (minutesAgo: number, fields: Partial<AcceptedMessage> & Pick<AcceptedMessage, 'type'>): AcceptedMessage =>
    acceptedMessage({ messageId: `m${(messages += 1)}`, timestamp: new Date(clock.now.getTime() - minutesAgo * 60_000).toISOString(), ...fields });
  const reconcile = (received: AcceptedMessage): Promise<ReconcileOutcome> => reconcileMessage(received, deps);
  return { store, clock, deps, message, reconcile };
}

function applied(outcome: ReconcileOutcome | undefined) {
  if (outcome?.status !== 'applied') throw new Error(`expected applied, got ${JSON.stringify(outcome)}`);
  return outcome;
}

const cookie = (value: string) => ({ type: 'anonymous_id', value });
const user = (value: string) => ({ type: 'user_id', value });
const email = (value: string) => ({ type: 'email', value });

describe('reconcileMessage on the in-memory store', () => {
  it('folds anonymous browsing on two devices into the customer who logs in on both, with every event and the merge logged', async () => {
    const { store, message, reconcile } = setup();
    const web = [
      message(60, { type: 'page', anonymousId: 'web' }),
      message(59, { type: 'track', event: 'Product Viewed', anonymousId: 'web', properties: { product_id: 'mug' } }),
      message(58, { type: 'identify', userId: 'ana', anonymousId: 'web', traits: { email: 'ana@shop.io' } }),
    ];
    for (const received of web) expect(applied(await reconcile(received)).profileId).toBe('p1');
    const app = message(30, { type: 'screen', name: 'Home', anonymousId: 'app', context: { device: { id: 'phone' } } });
    expect(applied(await reconcile(app)).profileId).toBe('p2');

    const login = message(29, { type: 'identify', userId: 'ana', anonymousId: 'app' });
    expect(await reconcile(login)).toMatchObject({ status: 'applied', profileId: 'p1', absorbedProfileIds: ['p2'], conflicts: 0 });
    // The device id was not in the login: its identity item still names p2, whose tombstone leads to p1.
    const later = message(10, { type: 'screen', name: 'Cart', context: { device: { id: 'phone' } } });
    expect(await reconcile(later)).toMatchObject({ status: 'applied', profileId: 'p1', absorbedProfileIds: [] });

    for (const identifier of [user('ana'), cookie('web'), cookie('app'), { type: 'device_id', value: 'phone' }, email('ana@shop.io')]) {
      expect(store.profileOf(identifier)?.profileId).toBe('p1');
    }
    expect(store.profile('p2')?.profileId).toBe('p1');
    const all = [...web, app, login, later];
    expect(store.events('p1').map((event) => event.message.messageId)).toEqual(all.map((m) => m.messageId).reverse());
    expect(store.profile('p1')?.activity.eventsTotal).toBe(all.length);
    expect(store.mergeLog('p1')).toEqual([
      expect.objectContaining({
        kind: 'merge',
        messageId: login.messageId,
        otherProfileId: 'p2',
        rule: 'shared identifier anonymous_id',
        identifiers: [cookie('app')],
      }),
    ]);
  });

  it('never merges two customers sharing a family computer, and records the conflict', async () => {
    const { store, message, reconcile } = setup();
    await reconcile(message(20, { type: 'identify', userId: 'parent', anonymousId: 'pc', traits: { email: 'parent@shop.io', firstName: 'Parent' } }));
    await reconcile(message(15, { type: 'track', event: 'Product Viewed', anonymousId: 'pc', properties: { product_id: 'lego' } }));
    const childLogin = message(10, { type: 'identify', userId: 'child', anonymousId: 'pc', traits: { email: 'child@shop.io', firstName: 'Child' } });
    expect(await reconcile(childLogin)).toMatchObject({ status: 'applied', profileId: 'p2', conflicts: 1, absorbedProfileIds: [] });

    const [parent, child] = [store.profileOf(user('parent')), store.profileOf(user('child'))];
    expect([parent?.profileId, child?.profileId]).toEqual(['p1', 'p2']);
    expect(store.profileOf(cookie('pc'))?.profileId).toBe('p1');
    expect(store.profileOf(email('child@shop.io'))?.profileId).toBe('p2');
    expect(parent?.traits.firstName?.value).toBe('Parent');
    expect(child?.traits.firstName?.value).toBe('Child');
    expect(child?.identities.map(({ type, value }) => `${type}:${value}`).sort()).toEqual(['email:child@shop.io', 'user_id:child']);
    expect(store.events('p1')).toHaveLength(2);
    expect(store.events('p2').map((event) => event.message.messageId)).toEqual([childLogin.messageId]);
    expect(store.mergeLog('p1')).toEqual([]);
    expect(store.mergeLog('p2')).toEqual([
      expect.objectContaining({ kind: 'conflict', messageId: childLogin.messageId, otherProfileId: 'p1', identifiers: [cookie('pc')] }),
    ]);
  });

  it('applies a message once: a redelivery is a duplicate naming its profile, alone, within a group, or marked by an earlier version', async () => {
    const { store, deps, message, reconcile } = setup();
    const order = message(5, { type: 'track', event: 'Order Completed', userId: 'ana', properties: { order_id: 'o1', revenue: 30 } });
    expect(applied(await reconcile(order)).profileId).toBe('p1');
    const before = store.profile('p1');
    expect(await reconcile(order)).toEqual({ status: 'duplicate', profileId: 'p1' });
    expect(store.profile('p1')).toEqual(before);

    const page = message(4, { type: 'page', userId: 'ana' });
    expect(await reconcileMessages([page, order, page], deps)).toEqual([
      expect.objectContaining({ status: 'applied', profileId: 'p1' }),
      { status: 'duplicate', profileId: 'p1' },
      { status: 'duplicate', profileId: 'p1' },
    ]);
    const legacy = message(3, { type: 'page', userId: 'ana' });
    store.mark(legacy.messageId, 'p1');
    expect(await reconcile(legacy)).toEqual({ status: 'duplicate', profileId: 'p1' });
    expect(store.profile('p1')?.activity).toMatchObject({ eventsTotal: 2, revenue: 30 });
    expect(store.events('p1')).toHaveLength(2);
  });

  it('starts a new profile on a cookie unseen for longer than its lifetime, and keeps one seen within it', async () => {
    const { store, clock, message, reconcile } = setup();
    const lifetime = DEFAULT_IDENTITY_CONFIG.anonymousIdLifetimeDays;
    clock.now = new Date(NOW.getTime() - (lifetime + 1) * DAY_MS);
    expect(applied(await reconcile(message(0, { type: 'page', anonymousId: 'old' }))).profileId).toBe('p1');
    clock.now = new Date(NOW.getTime() - (lifetime - 1) * DAY_MS);
    expect(applied(await reconcile(message(0, { type: 'page', anonymousId: 'recent' }))).profileId).toBe('p2');

    clock.now = NOW;
    expect(applied(await reconcile(message(0, { type: 'page', anonymousId: 'old' }))).profileId).toBe('p3');
    expect(applied(await reconcile(message(0, { type: 'page', anonymousId: 'recent' }))).profileId).toBe('p2');
    // The expired item was re-pointed at the new profile; the old profile keeps its own event.
    expect(store.profileOf(cookie('old'))?.profileId).toBe('p3');
    expect(store.events('p1')).toHaveLength(1);
    expect(store.events('p2')).toHaveLength(2);
    expect(store.events('p3')).toHaveLength(1);
  });

  it("drops an erased person's own messages and applies others' without the erased identifiers", async () => {
    const { store, message, reconcile } = setup();
    await reconcile(message(10, { type: 'identify', userId: 'a', anonymousId: 'shared', traits: { email: 'a@shop.io' } }));
    store.erase('p1');

    // Most trusted identifier erased: the erased person's message.
    expect(await reconcile(message(9, { type: 'page', userId: 'a', anonymousId: 'fresh' }))).toEqual({ status: 'suppressed' });
    expect(await reconcile(message(8, { type: 'page', anonymousId: 'shared' }))).toEqual({ status: 'suppressed' });
    expect(store.profileOf(cookie('fresh'))).toBeUndefined();

    const identifyB = message(7, { type: 'identify', userId: 'b', anonymousId: 'shared', traits: { email: 'a@shop.io', firstName: 'Bea' } });
    expect(await reconcile(identifyB)).toMatchObject({ status: 'applied', profileId: 'p2', identifiersSuppressed: 2 });
    const b = store.profileOf(user('b'));
    expect(b?.identities.map(({ type, value }) => ({ type, value }))).toEqual([user('b')]);
    expect(Object.keys(b?.traits ?? {})).toEqual(['firstName']);
    expect(JSON.stringify(store.events('p2'))).not.toMatch(/shared|a@shop\.io/);
    expect(store.profileOf(cookie('shared'))).toBeUndefined();
    expect(store.profileOf(email('a@shop.io'))).toBeUndefined();
  });

  it('calls a message without a linkable identifier unattributable, without reading or writing the store', async () => {
    const { store, deps, message } = setup();
    const outcomes = await reconcileMessages(
      [
        message(3, { type: 'track', event: 'Product Viewed' }),
        message(2, { type: 'identify', anonymousId: 'null', userId: 'undefined', traits: { email: 'someone@example.com' } }),
      ],
      deps,
    );
    expect(outcomes).toEqual([
      { status: 'unattributable', reason: expect.stringContaining('no linkable identifier') },
      { status: 'unattributable', reason: expect.stringContaining('no linkable identifier') },
    ]);
    expect(store.snapshots).toBe(0);
    expect(store.commitLog).toEqual([]);
  });
});

describe('races between the read and the commit', () => {
  it('decides again from fresh state after a concurrent update, losing neither update', async () => {
    const { store, deps, message, reconcile } = setup();
    await reconcile(message(10, { type: 'identify', userId: 'ana', traits: { plan: 'gold' } }));
    const other = message(9, { type: 'track', event: 'Product Viewed', userId: 'ana', properties: { product_id: 'mug' } });
    store.beforeNextCommit(async () => {
      expect(applied(await reconcileMessage(other, deps)).attempts).toBe(1);
    });

    const mine = message(8, { type: 'track', event: 'Order Completed', userId: 'ana', properties: { order_id: 'o1', revenue: 12 } });
    expect(await reconcile(mine)).toMatchObject({ status: 'applied', profileId: 'p1', attempts: 2 });
    expect(store.commitLog.map((entry) => entry.error)).toEqual([undefined, undefined, 'ConcurrentUpdateError', undefined]);
    expect(store.profile('p1')?.activity).toMatchObject({ eventsTotal: 3, revenue: 12, totals: { product_views: 1, orders: 1 } });
    expect(store.events('p1')).toHaveLength(3);
  });

  it('does not lose an event applied meanwhile to a profile being merged away', async () => {
    const { store, deps, message, reconcile } = setup();
    await reconcile(message(30, { type: 'identify', userId: 'ana', anonymousId: 'web' }));
    await reconcile(message(20, { type: 'page', anonymousId: 'app' }));
    store.beforeNextCommit(async () => {
      expect(
        applied(await reconcileMessage(message(15, { type: 'track', event: 'Product Added', anonymousId: 'app', properties: { product_id: 'tee' } }), deps))
          .profileId,
      ).toBe('p2');
    });

    const login = message(10, { type: 'identify', userId: 'ana', anonymousId: 'app' });
    expect(await reconcile(login)).toMatchObject({ status: 'applied', profileId: 'p1', absorbedProfileIds: ['p2'], attempts: 2 });
    expect(store.profile('p1')?.activity).toMatchObject({ eventsTotal: 4, totals: { cart_adds: 1 } });
    expect(store.events('p1')).toHaveLength(4);
  });

  it('makes a message another worker applied meanwhile a duplicate of the profile that worker made', async () => {
    const { store, deps, message, reconcile } = setup();
    const first = message(5, { type: 'page', anonymousId: 'new-visitor' });
    store.beforeNextCommit(async () => {
      expect(applied(await reconcileMessage(first, deps)).profileId).toBe('p2');
    });
    // This worker chose p1 for the cookie; the other linked it to p2 first.
    expect(await reconcile(first)).toEqual({ status: 'duplicate', profileId: 'p2' });
    expect(store.profile('p1')).toBeUndefined();
    expect(store.profile('p2')?.activity.eventsTotal).toBe(1);
  });

  it('gives up after maxAttempts when every commit loses its race, having written nothing', async () => {
    const backoff = jest.fn(async (_attempt: number) => {});
    const { store, message, reconcile } = setup({}, { maxAttempts: 3, backoff });
    await reconcile(message(10, { type: 'identify', userId: 'ana' }));
    const bump = (): void => {
      store.update('p1');
      store.beforeNextCommit(bump);
    };
    store.beforeNextCommit(bump);

    await expect(reconcile(message(5, { type: 'page', userId: 'ana', anonymousId: 'web' }))).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(backoff.mock.calls).toEqual([[1], [2]]);
    expect(store.commitLog.map((entry) => entry.error)).toEqual([undefined, 'ConcurrentUpdateError', 'ConcurrentUpdateError', 'ConcurrentUpdateError']);
    expect(store.events('p1')).toHaveLength(1);
    expect(store.profileOf(cookie('web'))).toBeUndefined();
  });

  it('does not resurrect a person erased between the read and the commit', async () => {
    const { store, message, reconcile } = setup();
    await reconcile(message(10, { type: 'identify', userId: 'gone', anonymousId: 'web' }));
    store.beforeNextCommit(() => store.erase('p1'));
    expect(await reconcile(message(5, { type: 'page', anonymousId: 'web' }))).toEqual({ status: 'suppressed' });
    expect(store.commitLog.map((entry) => entry.error)).toEqual([undefined, 'ConcurrentUpdateError']);
    expect(store.profileOf(cookie('web'))).toBeUndefined();
    expect(store.events('p1')).toEqual([]);
  });

  it('decides again when an identifier new to the graph is erased before the commit, and links it nowhere', async () => {
    const { store, message, reconcile } = setup();
    store.beforeNextCommit(() => store.suppress([email('gone@shop.io')]));
    const outcome = await reconcile(message(2, { type: 'identify', userId: 'newcomer', traits: { email: 'gone@shop.io' } }));
    expect(outcome).toMatchObject({ status: 'applied', profileId: 'p2', attempts: 2, identifiersSuppressed: 1 });
    expect(store.commitLog.map((entry) => entry.error)).toEqual(['SuppressedIdentityError', undefined]);
    expect(store.profileOf(email('gone@shop.io'))).toBeUndefined();
    expect(store.profileOf(user('newcomer'))?.identities.map(({ type }) => type)).toEqual(['user_id']);
  });

  it("reports a message marked meanwhile by its own item (a busy profile's full dedupe window) as a duplicate", async () => {
    const { store, deps, message, reconcile } = setup();
    await reconcile(message(10, { type: 'identify', userId: 'busy' }));
    store.update('p1', (profile) => ({ ...profile, recentMessages: { [NOW.toISOString().slice(0, 13)]: 'x'.repeat(11 * MAX_WINDOW_IDS) } }));

    const next = message(5, { type: 'page', userId: 'busy' });
    expect(applied(await reconcile(next)).profileId).toBe('p1');
    expect(await reconcile(next)).toEqual({ status: 'duplicate', profileId: 'p1' });
    const raced = message(4, { type: 'page', userId: 'busy' });
    store.beforeNextCommit(() => store.mark(raced.messageId, 'p1'));
    expect(await reconcile(raced)).toEqual({ status: 'duplicate' });
    expect(store.commitLog.at(-1)?.error).toBe('DuplicateMessageError');
    expect(store.profile('p1')?.activity.eventsTotal).toBe(2);

    // Beside an unattributable message, the raced one keeps its place: one outcome per message, in order.
    const racedInGroup = message(3, { type: 'page', userId: 'busy' });
    store.beforeNextCommit(() => store.mark(racedInGroup.messageId, 'p1'));
    expect(await reconcileMessages([message(3, { type: 'track', event: 'Product Viewed' }), racedInGroup], deps)).toEqual([
      { status: 'unattributable', reason: expect.stringContaining('no linkable identifier') },
      { status: 'duplicate' },
    ]);
  });
});

describe('groups of messages', () => {
  it('splits a group too large for one transaction and still applies every message once', async () => {
    const { store, deps, message } = setup();
    // Each message quarantines three values (an item each): 40 of them do not fit in 100 items.
    const messages = Array.from({ length: 40 }, (_, index) =>
      message(40 - index, { type: 'identify', userId: 'loud', traits: { email: `not-an-email-${index}`, phone: 'nope', birthday: 'never' } }),
    );
    const outcomes = await reconcileMessages(messages, deps);
    // p1 was chosen for the whole group, whose commit failed: each half was decided again.
    expect(outcomes.map((outcome) => applied(outcome).profileId)).toEqual(Array(40).fill('p2'));
    expect(outcomes.every((outcome) => applied(outcome).quarantined === 3)).toBe(true);
    expect(store.commitLog.map(({ changes, error }) => ({ changes, error }))).toEqual([
      { changes: 40, error: 'CommitTooLargeError' },
      { changes: 20, error: undefined },
      { changes: 20, error: undefined },
    ]);
    expect(store.profile('p1')).toBeUndefined();
    expect(store.profile('p2')?.activity.eventsTotal).toBe(40);
    expect(store.events('p2').map((event) => event.message.messageId)).toEqual(messages.map((m) => m.messageId).reverse());
  });

  it('refuses as poison a single message that would not fit in any transaction, writing nothing', async () => {
    const { store, message, reconcile } = setup({ maxTransactionItems: 5 });
    await expect(reconcile(message(1, { type: 'identify', userId: 'ana', anonymousId: 'web', traits: { email: 'ana@shop.io' } }))).rejects.toBeInstanceOf(
      PoisonMessageError,
    );
    expect(store.profileOf(user('ana'))).toBeUndefined();
  });

  it("gives one outcome per message, in order, for several persons' messages read and committed together", async () => {
    const { store, deps, message } = setup();
    const annaPage = message(6, { type: 'page', anonymousId: 'anna-cookie' });
    const batch = [
      annaPage,
      message(5, { type: 'identify', userId: 'bob' }),
      message(4, { type: 'identify', userId: 'anna', anonymousId: 'anna-cookie' }),
      annaPage,
      message(3, { type: 'track', event: 'Nobody' }),
      message(2, { type: 'track', event: 'Product Viewed', userId: 'bob', properties: { product_id: 'mug' } }),
    ];
    expect(await reconcileMessages(batch, deps)).toEqual([
      expect.objectContaining({ status: 'applied', profileId: 'p1' }),
      expect.objectContaining({ status: 'applied', profileId: 'p2' }),
      expect.objectContaining({ status: 'applied', profileId: 'p1', absorbedProfileIds: [] }),
      { status: 'duplicate', profileId: 'p1' },
      { status: 'unattributable', reason: expect.any(String) },
      expect.objectContaining({ status: 'applied', profileId: 'p2' }),
    ]);
    expect(store.snapshots).toBe(1);
    expect(store.commitLog.map(({ changes, error }) => ({ changes, error }))).toEqual([{ changes: 4, error: undefined }]);
    expect(store.profileOf(user('anna'))?.activity.eventsTotal).toBe(2);
    expect(store.profileOf(user('bob'))?.activity.eventsTotal).toBe(2);
  });
});

describe('what journeys learn from a reconciled group', () => {
  const reach = (outcome: ReconcileOutcome | undefined) => {
    const { emailable, reachableCartSince } = applied(outcome);
    return { emailable, reachableCartSince };
  };
  const consenting = (id: string) => ({
    userId: id,
    traits: { email: `${id}@shop.io` },
    context: { consent: { categoryPreferences: { email_marketing: true } } },
  });

  it('tells every message whether its profile can be emailed once the group is stored', async () => {
    const { deps, message, reconcile } = setup();
    const outcomes = await reconcileMessages(
      [
        message(10, { type: 'track', event: 'Product Viewed', anonymousId: 'c', properties: { product_id: 'p1' } }),
        message(9, { type: 'identify', anonymousId: 'c', ...consenting('ana') }),
        message(8, { type: 'track', event: 'Product Viewed', anonymousId: 'stranger', properties: { product_id: 'p2' } }),
      ],
      deps,
    );
    // The view came before the identify, in the same group: its profile is emailable once the group is stored.
    expect(outcomes.map((outcome) => applied(outcome).emailable)).toEqual([true, true, false]);
    // An address without marketing consent is not enough, nor consent without an address.
    expect(applied(await reconcile(message(7, { type: 'identify', userId: 'bob', traits: { email: 'bob@shop.io' } }))).emailable).toBe(false);
    const { traits: _traits, ...withoutAddress } = consenting('cy');
    expect(applied(await reconcile(message(6, { type: 'identify', ...withoutAddress }))).emailable).toBe(false);
  });

  it('names the open cart of a profile that becomes emailable, once, on its last message of the group', async () => {
    const { deps, message, reconcile } = setup();
    const added = message(20, { type: 'track', event: 'Product Added', anonymousId: 'c', properties: { product_id: 'p2', price: 8 } });
    for (const received of [message(25, { type: 'track', event: 'Product Added', anonymousId: 'c', properties: { product_id: 'p1', price: 12 } }), added]) {
      expect(reach(await reconcile(received))).toEqual({ emailable: false, reachableCartSince: undefined });
    }
    const outcomes = await reconcileMessages(
      [message(5, { type: 'identify', anonymousId: 'c', ...consenting('ana') }), message(4, { type: 'page', anonymousId: 'c' })],
      deps,
    );
    expect(outcomes.map(reach)).toEqual([
      { emailable: true, reachableCartSince: undefined },
      { emailable: true, reachableCartSince: added.timestamp },
    ]);
    // Already emailable: a later message does not announce the cart again.
    expect(reach(await reconcile(message(3, { type: 'page', userId: 'ana' })))).toEqual({ emailable: true, reachableCartSince: undefined });
  });

  it('reports the purposes a group withdrew, on its last message, and none when consent only grows', async () => {
    const { deps, message } = setup();
    await reconcileMessages(
      [message(10, { type: 'identify', userId: 'w', context: { consent: { categoryPreferences: { Analytics: true, Advertising: true } } } })],
      deps,
    );
    const outcomes = await reconcileMessages(
      [
        message(5, { type: 'identify', userId: 'w', context: { consent: { categoryPreferences: { Advertising: false } } } }),
        message(4, { type: 'page', userId: 'w' }),
      ],
      deps,
    );
    expect(outcomes.map((outcome) => (outcome.status === 'applied' ? outcome.withdrawnPurposes : 'not applied'))).toEqual([
      undefined,
      ['ad_user_data', 'ad_personalization'],
    ]);
    const growing = await reconcileMessages(
      [message(3, { type: 'identify', userId: 'w', context: { consent: { categoryPreferences: { Marketing: true } } } })],
      deps,
    );
    expect(applied(growing[0]).withdrawnPurposes).toBeUndefined();
  });

  it('does not name a cart the order emptied', async () => {
    const { deps, message } = setup();
    const outcomes = await reconcileMessages(
      [
        message(30, { type: 'track', event: 'Product Added', anonymousId: 'c', properties: { product_id: 'p1', price: 12 } }),
        message(29, { type: 'track', event: 'Order Completed', anonymousId: 'c', properties: { order_id: 'o1', revenue: 12 } }),
        message(28, { type: 'identify', anonymousId: 'c', ...consenting('ana') }),
      ],
      deps,
    );
    expect(outcomes.map(reach)).toEqual([
      { emailable: true, reachableCartSince: undefined },
      { emailable: true, reachableCartSince: undefined },
      { emailable: true, reachableCartSince: undefined },
    ]);
  });
});
