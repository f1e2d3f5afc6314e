import { DEFAULT_IDENTITY_CONFIG as config } from '../../../functions/domain/identity/identity-config';
import { extractIdentifiersWithinLimits, withoutIdentifiers } from '../../../functions/domain/identity/identifiers';
import { identitiesOverLimit } from '../../../functions/domain/identity/resolution';
import { activityOfMessage, mergeActivity, EMPTY_ACTIVITY, type Activity } from '../../../functions/domain/profile/activity';
import { hasMarketingConsent } from '../../../functions/domain/privacy/purposes';
import { mergeConsentWithinLimits, consentOfMessage, EMPTY_CONSENT } from '../../../functions/domain/profile/consent';
import { PROFILE_LIMITS, dynamoItemSize } from '../../../functions/domain/profile/limits';
import { applyMessageWithinLimits, mergeProfiles, newProfile, type IdentityLink, type ProfileRecord } from '../../../functions/domain/profile/profile';
import { mergeTraitMapsWithinLimits, normalizeTraits, supersedes, type TraitValue } from '../../../functions/domain/profile/traits';
import { parseEventsBody } from '../../../functions/domain/reconcile/reconcile-input';
import { PoisonMessageError } from '../../../functions/domain/shared/poison-message';
import { acceptedMessage } from '../../helpers/messages';

const now = new Date('2026-11-20T12:00:00.000Z');
const first = { source: 'tracking', party: 'first' as const };
const trait = (value: unknown, over: Partial<TraitValue> = {}): TraitValue => ({
  value,
  at: '2026-11-20T10:00:00.000Z',
  source: 'tracking',
  party: 'first',
  messageId: 'm',
  ...over,
});

describe('trait caps', () => {
  it('refuses names and values beyond the limits, with a reason', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 10; i += 1) deep = { deep };
    const { accepted, rejected } = normalizeTraits(
      { ['n'.repeat(129)]: 1, '': 2, deep, big: 'é'.repeat(2_100), huge: 2 ** 60, ok: { a: [1, 2] }, email: `${'a'.repeat(250)}@shop.io` },
      { defaultPhoneRegion: 'US' },
    );
    expect(accepted).toEqual({ ok: { a: [1, 2] } });
    expect(rejected.map((r) => r.reason).sort()).toEqual(
      [
        'trait name longer than 128 characters',
        'empty trait name',
        'value nested deeper than 8 levels',
        'value larger than 4096 bytes',
        'number beyond ±2^53',
        'invalid email address',
      ].sort(),
    );
  });

  it('keeps at most 200 custom traits and updates existing ones; schema traits always fit', () => {
    const base = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`t${i}`, trait(i)]));
    const incoming = { t0: trait('new', { at: '2026-11-20T11:00:00.000Z' }), extra: trait('x', { at: '2026-11-20T11:00:00.000Z' }), firstName: trait('Ana') };
    const { traits, rejected } = mergeTraitMapsWithinLimits(base, incoming);
    expect(traits.t0?.value).toBe('new');
    expect(traits.firstName?.value).toBe('Ana');
    expect(traits.extra).toBeUndefined();
    expect(rejected).toEqual([{ trait: 'extra', reason: 'profile already keeps 200 custom traits', value: 'x' }]);
  });

  it('keeps the stored size of the custom traits within 48 KiB', () => {
    let traits: Record<string, TraitValue> = {};
    const refused: string[] = [];
    for (let i = 0; i < 100; i += 1) {
      const merged = mergeTraitMapsWithinLimits(traits, { [`big${i}`]: trait('x'.repeat(3_000)) });
      traits = merged.traits;
      refused.push(...merged.rejected.map((r) => r.reason));
    }
    expect(Object.keys(traits).length).toBeLessThan(17);
    expect(dynamoItemSize(traits)).toBeLessThanOrEqual(PROFILE_LIMITS.maxCustomTraitsBytes + 100);
    expect(refused[0]).toBe('custom traits of the profile would exceed 48 KiB');
  });

  it('orders values by the event time never later than their receipt: a forged future time cannot win', () => {
    const forged = trait('attacker@evil.io', { at: '2026-11-20T10:04:00.000Z', receivedAt: '2026-11-20T10:00:00.000Z', messageId: 'z' });
    const real = trait('ana@shop.io', { at: '2026-11-20T10:00:01.000Z', receivedAt: '2026-11-20T10:00:01.500Z', messageId: 'a' });
    expect(supersedes(real, forged)).toBe(true);
    expect(supersedes(forged, real)).toBe(false);
  });
});

describe('consent', () => {
  const at = (time: string, receivedAt = time) => ({ at: time, receivedAt });

  it('is ordered by precedence time, and on a full tie the refusal wins whatever the order', () => {
    const grant = { categories: { marketing: { granted: true, ...at('2026-11-20T10:00:00.000Z') } } };
    const refusal = { categories: { marketing: { granted: false, ...at('2026-11-20T10:00:00.000Z') } } };
    expect(hasMarketingConsent(mergeConsentWithinLimits(mergeConsentWithinLimits(EMPTY_CONSENT, grant).consent, refusal).consent)).toBe(false);
    expect(hasMarketingConsent(mergeConsentWithinLimits(mergeConsentWithinLimits(EMPTY_CONSENT, refusal).consent, grant).consent)).toBe(false);
    const forgedGrant = { categories: { marketing: { granted: true, at: '2999-01-01T00:00:00.000Z', receivedAt: '2026-11-20T10:00:00.000Z' } } };
    const laterRefusal = { categories: { marketing: { granted: false, ...at('2026-11-20T10:00:02.000Z') } } };
    expect(hasMarketingConsent(mergeConsentWithinLimits(mergeConsentWithinLimits(EMPTY_CONSENT, laterRefusal).consent, forgedGrant).consent)).toBe(false);
  });

  it('keeps at most 32 categories of at most 64 characters', () => {
    const preferences = Object.fromEntries([...Array.from({ length: 40 }, (_, i) => [`c${i}`, true]), ['x'.repeat(65), true]]);
    const message = acceptedMessage({ type: 'identify', userId: 'u', context: { consent: { categoryPreferences: preferences } } });
    const own = consentOfMessage(message, undefined);
    expect(own.rejected).toHaveLength(1);
    const merged = mergeConsentWithinLimits(EMPTY_CONSENT, own.consent);
    expect(Object.keys(merged.consent.categories)).toHaveLength(32);
    expect(merged.rejected).toHaveLength(8);
  });
});

describe('activity caps', () => {
  const added = (productId: string, minute: number, extra: Record<string, unknown> = {}) =>
    acceptedMessage({
      type: 'track',
      event: 'Product Added',
      userId: 'u',
      timestamp: new Date(Date.parse('2026-11-20T10:00:00.000Z') + minute * 60_000).toISOString(),
      properties: { product_id: productId, price: 5, ...extra },
    });

  it('keeps the 20 most recently changed cart lines, whatever the order', () => {
    const messages = Array.from({ length: 30 }, (_, i) => added(`p${i}`, i));
    const fold = (list: typeof messages): Activity =>
      list.reduce((activity, message) => mergeActivity(activity, activityOfMessage(message).activity, now), EMPTY_ACTIVITY);
    const forward = fold(messages);
    expect(Object.keys(forward.cart).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `p${i + 10}`).sort());
    expect(fold([...messages].reverse())).toEqual(forward);
  });

  it('leaves out over-long names and ids and out-of-range amounts, and says so', () => {
    const { activity, rejected } = activityOfMessage(added('p'.repeat(101), 0));
    expect(activity.cart).toEqual({});
    expect(rejected).toEqual([expect.objectContaining({ trait: 'activity.cart.product_id', reason: 'longer than 100 bytes' })]);
    const order = activityOfMessage(
      acceptedMessage({
        type: 'track',
        event: 'Order Completed',
        userId: 'u',
        properties: { revenue: 2e12, currency: 'euros!', products: [{ product_id: 'x', category: 'c'.repeat(101) }] },
      }),
    );
    expect(order.activity.revenue).toBe(0);
    expect(order.activity.currency).toBeUndefined();
    expect(order.rejected.map((r) => r.trait).sort()).toEqual(['activity.categories', 'activity.currency', 'activity.revenue']);
    const named = activityOfMessage(acceptedMessage({ type: 'track', event: 'E'.repeat(101), userId: 'u' }));
    expect(named.activity.events).toEqual({});
    expect(named.activity.eventsTotal).toBe(1);
  });

  it('keeps no key named like an Object member in the profile maps (the document client could never write the profile again)', () => {
    const message = acceptedMessage({
      type: 'track',
      event: 'constructor',
      userId: 'u',
      properties: {
        products: [
          { product_id: '__proto__', category: 'toString' },
          { product_id: 'ok', category: 'hasOwnProperty' },
        ],
      },
      context: { consent: { categoryPreferences: { constructor: true } } },
    });
    const { profile, rejected } = applyMessageWithinLimits(
      newProfile('p', now),
      { ...message, event: 'Product Added' },
      normalizeTraits({ constructor: 'x', valueOf: 1, plan: 'gold' }, { defaultPhoneRegion: 'US' }).accepted,
      first,
      now,
    );
    expect(Object.keys(profile.traits)).toEqual(['plan']);
    expect(Object.keys(profile.activity.cart)).toEqual(['ok']);
    expect(profile.activity.categories).toEqual({});
    expect(profile.consent.categories).toEqual({});
    expect(rejected.map((r) => r.reason)).toEqual(
      expect.arrayContaining(['"__proto__" is a reserved name', '"toString" is a reserved name', '"hasOwnProperty" is a reserved name']),
    );
    expect(activityOfMessage(message).activity.events).toEqual({});
    expect(normalizeTraits({ constructor: 'x' }, { defaultPhoneRegion: 'US' }).rejected).toEqual([
      { trait: 'constructor', reason: '"constructor" is a reserved name', value: 'x' },
    ]);
  });

  it('reports the values of a message the bounded aggregates did not keep', () => {
    let profile = newProfile('p', now);
    const categories = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [i, i]));
    for (let i = 0; i < 100; i += 1) {
      for (let n = 0; n < 2; n += 1) {
        profile = applyMessageWithinLimits(
          profile,
          acceptedMessage({ type: 'track', event: 'Product Viewed', userId: 'u', properties: { product_id: 'x', category: `cat-${categories[i]}` } }),
          {},
          first,
          now,
        ).profile;
      }
    }
    const { rejected } = applyMessageWithinLimits(
      profile,
      acceptedMessage({ type: 'track', event: 'Product Viewed', userId: 'u', properties: { product_id: 'x', category: 'one-more' } }),
      {},
      first,
      now,
    );
    expect(rejected).toEqual([expect.objectContaining({ trait: 'activity.categories', value: 'one-more' })]);
  });
});

describe('identifier caps', () => {
  it('links at most 16 identifiers of a message, the most trusted, and none over 255 characters', () => {
    const externalIds = Array.from({ length: 30 }, (_, i) => ({ type: `ext${i}`, id: `id-${i}` }));
    const message = acceptedMessage({
      type: 'identify',
      userId: 'u-1',
      anonymousId: 'a'.repeat(256),
      traits: { email: 'ana@shop.io' },
      context: { externalIds },
    });
    const { identifiers, rejected } = extractIdentifiersWithinLimits(config, message);
    expect(identifiers).toHaveLength(16);
    expect(identifiers.slice(0, 2)).toEqual([
      { type: 'user_id', value: 'u-1' },
      { type: 'email', value: 'ana@shop.io' },
    ]);
    expect(rejected).toHaveLength(1 + 30 - 14);
    expect(rejected[0]).toMatchObject({ trait: 'identifier:anonymous_id', reason: 'identifier longer than 255 characters' });
  });

  it('releases the least recently seen lenient identifiers beyond 100 per profile', () => {
    const link = (type: string, value: string, day: number): IdentityLink => {
      const seen = new Date(Date.parse('2026-01-01T00:00:00.000Z') + day * 86_400_000).toISOString();
      return { type, value, firstSeen: seen, lastSeen: seen };
    };
    const identities = [link('user_id', 'u', 0), ...Array.from({ length: 120 }, (_, i) => link(`ext${i % 40}`, `v${i}`, i))];
    const released = identitiesOverLimit(config, identities, [{ type: 'ext0', value: 'v0' }]);
    expect(identities.length - released.length).toBe(100);
    expect(released.some((l) => l.value === 'v0' || l.type === 'user_id')).toBe(false);
  });

  it('takes erased identifiers out of a message', () => {
    const message = acceptedMessage({
      type: 'identify',
      userId: 'u-b',
      anonymousId: 'cookie-x',
      traits: { email: 'A@shop.io', plan: 'gold' },
      context: {
        device: { id: 'd-1', type: 'ios' },
        traits: { email: 'a@shop.io' },
        externalIds: [
          { type: 'crm', id: 'c-1' },
          { type: 'crm', id: 'c-2' },
        ],
      },
    });
    const stripped = withoutIdentifiers(config, message, [
      { type: 'anonymous_id', value: 'cookie-x' },
      { type: 'email', value: 'a@shop.io' },
      { type: 'device_id', value: 'd-1' },
      { type: 'crm', value: 'c-1' },
    ]);
    expect(stripped).toMatchObject({
      userId: 'u-b',
      traits: { plan: 'gold' },
      context: { device: { type: 'ios' }, traits: {}, externalIds: [{ type: 'crm', id: 'c-2' }] },
    });
    expect(stripped).not.toHaveProperty('anonymousId');
    expect(extractIdentifiersWithinLimits(config, stripped).identifiers).toEqual([
      { type: 'user_id', value: 'u-b' },
      { type: 'crm', value: 'c-2' },
    ]);
  });
});

describe('mergedFrom is compacted', () => {
  it('keeps the newest 50 merged ids and counts them all', () => {
    let profile: ProfileRecord = newProfile('survivor', now);
    for (let i = 0; i < 60; i += 1) profile = mergeProfiles(profile, newProfile(`p${i}`, now), now);
    expect(profile.mergedFrom).toHaveLength(50);
    expect(profile.mergedFrom[49]).toBe('p59');
    expect(profile.mergedFromCount).toBe(60);
    const bigger = mergeProfiles(newProfile('other', now), profile, now);
    expect(bigger.mergedFromCount).toBe(61);
  });
});

describe('dynamoItemSize', () => {
  it('counts as DynamoDB documents: UTF-8 names and strings, numbers by digits, 3 + 1 per element for maps and lists', () => {
    expect(dynamoItemSize({ a: 'xyz' })).toBe(4);
    expect(dynamoItemSize({ n: 123 })).toBe(1 + 3);
    expect(dynamoItemSize({ m: { é: true } })).toBe(1 + 3 + 1 + 2 + 1);
    expect(dynamoItemSize({ l: [1, 'ab'] })).toBe(1 + 3 + (1 + 2) + (1 + 2));
  });
});

describe('parseEventsBody (the Events queue body)', () => {
  const valid = {
    type: 'track',
    messageId: 'm-1',
    userId: 'u',
    event: 'Viewed',
    properties: {},
    traits: {},
    context: {},
    timestamp: '2026-11-20T10:00:00.000Z',
    receivedAt: '2026-11-20T10:00:01.000Z',
  };

  it('reads a single message (as earlier versions queued) and an envelope of several', () => {
    expect(parseEventsBody(JSON.stringify(valid))).toEqual([{ message: valid }]);
    const second = { ...valid, messageId: 'm-2' };
    expect(parseEventsBody(JSON.stringify({ kind: 'accepted-messages', messages: [valid, second] }))).toEqual([{ message: valid }, { message: second }]);
  });

  it('refuses one bad message of an envelope on its own, with its id and size, and reads the others', () => {
    const bad = { ...valid, messageId: 'm-bad', timestamp: 'yesterday' };
    const [first, refused, last] = parseEventsBody(JSON.stringify({ kind: 'accepted-messages', messages: [valid, bad, { ...valid, messageId: 'm-3' }] }));
    expect(first).toEqual({ message: valid });
    expect(refused).toEqual({ error: expect.any(PoisonMessageError), messageId: 'm-bad', bytes: Buffer.byteLength(JSON.stringify(bad)) });
    expect((refused as { error: PoisonMessageError }).error.reason).toBe('timestamp is not an ISO 8601 time');
    expect(last).toEqual({ message: { ...valid, messageId: 'm-3' } });
    expect(() => parseEventsBody(JSON.stringify({ kind: 'accepted-messages', messages: 'all' }))).toThrow('messages is not an array');
  });

  it.each([
    ['not JSON', '{', 'body is not JSON'],
    ['not a message type', JSON.stringify({ ...valid, type: 'delete' }), 'type is not a message type'],
    ['no messageId', JSON.stringify({ ...valid, messageId: '' }), 'messageId is not a non-empty string of at most 255 characters'],
    ['a bad time', JSON.stringify({ ...valid, timestamp: 'yesterday' }), 'timestamp is not an ISO 8601 time'],
    ['properties not an object', JSON.stringify({ ...valid, properties: [] }), 'properties is not an object'],
    [
      'deep nesting',
      JSON.stringify({ ...valid, properties: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) }),
      'the message holds nested deeper than 30 levels',
    ],
    [
      'a number DynamoDB cannot store',
      `{"type":"track","messageId":"m","event":"e","userId":"u","timestamp":"2026-11-20T10:00:00Z","receivedAt":"2026-11-20T10:00:00Z","properties":{"x":1e300}}`,
      'the message holds a number outside the range DynamoDB stores',
    ],
    ['an empty property name', JSON.stringify({ ...valid, properties: { '': 1 } }), 'the message holds an empty property name'],
  ])('refuses a body with %s as a poison message', (_case, body, reason) => {
    expect(() => parseEventsBody(body)).toThrow(PoisonMessageError);
    try {
      parseEventsBody(body);
    } catch (error) {
      expect((error as PoisonMessageError).reason).toBe(reason);
    }
  });
});

describe('worst-case PROFILE item (the arithmetic of functions/domain/profile/limits.ts)', () => {
  const time = '2026-11-20T10:00:00.000Z';
  const wide = (chars: number): string => '€'.repeat(chars); // 3 UTF-8 bytes each
  const ascii = (bytes: number, seed = ''): string => `${seed}${'x'.repeat(bytes - seed.length)}`;
  const big = 999_999_999_999_999;
  const stamp = (value: unknown): TraitValue => ({
    value,
    at: time,
    receivedAt: time,
    source: 's'.repeat(PROFILE_LIMITS.maxSourceLength),
    party: 'second',
    messageId: wide(255),
  });

  function worstCaseProfile() {
    // Custom traits: offered far more than fit, with the longest names, values and provenance.
    const offered = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`${i}${wide(124)}`, stamp(wide(1_300))]));
    const small = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`s${i}`, stamp(1)]));
    const custom = mergeTraitMapsWithinLimits(mergeTraitMapsWithinLimits({}, small).traits, offered).traits;
    const schema: Record<string, TraitValue> = {
      email: stamp(`${'a'.repeat(245)}@shop.io`),
      phone: stamp('+123456789012345'),
      firstName: stamp(wide(200)),
      lastName: stamp(wide(200)),
      title: stamp(wide(200)),
      name: stamp(wide(400)),
      gender: stamp(wide(50)),
      company: stamp({ name: wide(1_350) }),
      address: stamp({ street: wide(1_350) }),
      birthday: stamp('1990-04-01'),
      createdAt: stamp(time),
      age: stamp(130),
      country: stamp('FR'),
      timezone: stamp('America/Argentina/ComodRivadavia'),
      unsubscribed: stamp(true),
    };
    const identities: IdentityLink[] = Array.from({ length: PROFILE_LIMITS.maxIdentitiesPerProfile }, (_, i) => ({
      type: ascii(PROFILE_LIMITS.maxIdentifierTypeLength, `t${i}`),
      value: wide(PROFILE_LIMITS.maxIdentifierLength),
      firstSeen: time,
      lastSeen: time,
    }));
    const counters = {
      page_views: big,
      screen_views: big,
      product_views: big,
      cart_adds: big,
      checkouts: big,
      orders: big,
      email_opens: big,
      email_clicks: big,
    };
    const activity: Activity = {
      firstSeen: time,
      lastSeen: time,
      eventsTotal: big,
      totals: counters,
      daily: Object.fromEntries(Array.from({ length: 97 }, (_, i) => [new Date(Date.parse(time) - i * 86_400_000).toISOString().slice(0, 10), counters])),
      revenue: 999_999_999_999.99,
      currency: 'EUR',
      lastOrderAt: time,
      cart: Object.fromEntries(
        Array.from({ length: PROFILE_LIMITS.maxCartLines }, (_, i) => {
          const id = ascii(PROFILE_LIMITS.maxCartIdBytes, `p${i}`);
          return [
            id,
            {
              productId: id,
              name: wide(66),
              sku: ascii(100),
              category: ascii(100),
              price: 999_999_999.99,
              quantity: 10_000,
              url: ascii(512),
              imageUrl: ascii(512),
              cartId: ascii(100),
              addedAt: time,
              removedAt: time,
            },
          ];
        }),
      ),
      categories: Object.fromEntries(Array.from({ length: PROFILE_LIMITS.maxCategories }, (_, i) => [ascii(PROFILE_LIMITS.maxCategoryBytes, `c${i}`), big])),
      channels: Object.fromEntries(['web', 'mobile', 'server', 'email', 'crm', 'partner', 'data_vendor'].map((channel) => [channel, time])),
      events: Object.fromEntries(
        Array.from({ length: PROFILE_LIMITS.maxEventNames }, (_, i) => [ascii(PROFILE_LIMITS.maxEventNameBytes, `e${i}`), { count: big, last: time }]),
      ),
    };
    const consent = {
      categories: Object.fromEntries(
        Array.from({ length: PROFILE_LIMITS.maxConsentCategories }, (_, i) => [`${i}${wide(62)}`, { granted: true, at: time, receivedAt: time }]),
      ),
      unsubscribed: { granted: true, at: time, receivedAt: time },
    };
    const profile: ProfileRecord = {
      ...newProfile('00000000-0000-4000-8000-000000000000', now),
      version: 999_999_999,
      identities,
      traits: { ...custom, ...schema },
      activity,
      consent,
      mergedFrom: Array.from({ length: PROFILE_LIMITS.maxInlineMergedFrom }, () => '00000000-0000-4000-8000-000000000000'),
      mergedFromCount: big,
    };
    const size = (value: unknown): number => dynamoItemSize({ v: value }) - 1;
    const parts = {
      customTraits: size(custom),
      schemaTraits: size(schema),
      identities: size(identities),
      daily: size(activity.daily),
      cart: size(activity.cart),
      events: size(activity.events),
      categories: size(activity.categories),
      consent: size(consent),
      mergedFrom: size(profile.mergedFrom),
    };
    return { profile, parts };
  }

  it('stays far below 400 KB and under the 300 KiB guard, part by part as documented', () => {
    const { profile, parts } = worstCaseProfile();
    const total = dynamoItemSize({ PK: `P#${profile.profileId}`, SK: 'PROFILE', ...profile });
    // The table of functions/domain/profile/limits.ts (measured: 48.7, 25.7, 91.1, 17.1, 37.3, 29.6, 11.0, 8.5, 1.9 KB; 271.6 KB in all).
    const documented = {
      customTraits: 49_200,
      schemaTraits: 27_000,
      identities: 91_500,
      daily: 20_000,
      cart: 38_000,
      events: 30_000,
      categories: 11_500,
      consent: 9_000,
      mergedFrom: 2_000,
    };
    const over = (Object.keys(documented) as Array<keyof typeof documented>).filter((part) => parts[part] > documented[part]);
    expect(over).toEqual([]);
    if (process.env.SHOW_WORST_CASE) console.log({ ...parts, total });
    expect(total).toBeLessThan(275_000);
    expect(total).toBeLessThan(PROFILE_LIMITS.itemBudgetBytes);
    expect(total).toBeLessThan(0.75 * 400 * 1024);
  });
});
