import { parseSegmentDefinition, type SegmentDefinition } from '../../../functions/domain/segments/definition';
import {
  combineHistoryNeeds,
  evaluateSegment,
  historyNeeded,
  MissingEventHistoryError,
  segmentSubject,
  type SegmentSubject,
} from '../../../functions/domain/segments/evaluate';
import { applyMessage, newProfile } from '../../../functions/domain/profile/profile';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { acceptedMessage } from '../../helpers/messages';

/** The injected clock of every case: evaluation is a pure function of (definition, subject, now). */
const NOW = new Date('2026-11-20T12:00:00.000Z');
const ago = (days: number, hours = 0): string => new Date(NOW.getTime() - (days * 24 + hours) * 3_600_000).toISOString();

function definition(json: unknown): SegmentDefinition {
  const result = parseSegmentDefinition(json);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.definition;
}

const track = (event: string, timestamp: string, properties: Record<string, unknown> = {}): AcceptedMessage =>
  acceptedMessage({ type: 'track', event, timestamp, properties, userId: 'u-1' });

/** A subject whose events and aggregates agree (events newest first, as stores return them). */
function subject(overrides: Partial<SegmentSubject> = {}, events: AcceptedMessage[] = []): SegmentSubject {
  const sorted = [...events].sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1));
  const eventTotals: Record<string, { count: number; last: string }> = {};
  for (const message of sorted) {
    if (message.type !== 'track' || !message.event) continue;
    const current = eventTotals[message.event];
    eventTotals[message.event] = { count: (current?.count ?? 0) + 1, last: current?.last ?? message.timestamp };
  }
  return {
    profileId: 'p-1',
    traits: {},
    computed: {},
    scores: {},
    consent: { categoryPreferences: {}, marketing: false },
    identities: [],
    eventTotals,
    events: sorted,
    ...overrides,
  };
}

const is = (json: unknown, who: SegmentSubject, now: Date = NOW): boolean => evaluateSegment(definition(json), who, now);

describe('evaluateSegment: traits', () => {
  const ana = subject({
    traits: {
      plan: 'gold',
      age: 34,
      visits: '12',
      country: 'FR',
      interests: ['mugs', 'tea'],
      company: 'Acme Coffee Roasters',
      newsletter: true,
      signup: ago(10),
      birthday: '1990-04-01',
      address: { city: 'Lyon', zip: '69001' },
      'utm.source': 'google',
      nickname: '',
    },
  });

  it.each([
    [{ trait: 'plan', op: 'eq', value: 'gold' }, true],
    [{ trait: 'plan', op: 'eq', value: 'Gold' }, false],
    [{ trait: 'age', op: 'eq', value: 34 }, true],
    [{ trait: 'visits', op: 'eq', value: 12 }, true],
    [{ trait: 'newsletter', op: 'eq', value: true }, true],
    [{ trait: 'plan', op: 'neq', value: 'silver' }, true],
    [{ trait: 'plan', op: 'neq', value: 'gold' }, false],
    [{ trait: 'missing', op: 'neq', value: 'gold' }, false],
    [{ not: { trait: 'missing', op: 'eq', value: 'gold' } }, true],
    [{ trait: 'country', op: 'in', value: ['DE', 'FR'] }, true],
    [{ trait: 'country', op: 'in', value: ['DE', 'ES'] }, false],
    [{ trait: 'interests', op: 'in', value: ['tea', 'cakes'] }, true],
    [{ trait: 'interests', op: 'contains', value: 'mugs' }, true],
    [{ trait: 'interests', op: 'contains', value: 'mug' }, false],
    [{ trait: 'company', op: 'contains', value: 'coffee' }, true],
    [{ trait: 'interests', op: 'eq', value: 'tea' }, true],
    [{ trait: 'plan', op: 'exists' }, true],
    [{ trait: 'nickname', op: 'exists' }, false],
    [{ trait: 'missing', op: 'exists', value: false }, true],
    [{ trait: 'age', op: 'gt', value: 33 }, true],
    [{ trait: 'age', op: 'gt', value: 34 }, false],
    [{ trait: 'age', op: 'gte', value: 34 }, true],
    [{ trait: 'age', op: 'lt', value: 34 }, false],
    [{ trait: 'age', op: 'lte', value: 34 }, true],
    [{ trait: 'visits', op: 'gte', value: 10 }, true],
    [{ trait: 'plan', op: 'gt', value: 1 }, false],
    [{ trait: 'signup', op: 'within', value: 'P30D' }, true],
    [{ trait: 'signup', op: 'within', value: 'P7D' }, false],
    [{ trait: 'signup', op: 'after', value: 'P14D' }, true],
    [{ trait: 'signup', op: 'before', value: 'P7D' }, true],
    [{ trait: 'birthday', op: 'before', value: '2000-01-01' }, true],
    [{ trait: 'birthday', op: 'after', value: '1990-04-01' }, false],
    [{ trait: 'plan', op: 'before', value: '2000-01-01' }, false],
    [{ trait: 'address.city', op: 'eq', value: 'Lyon' }, true],
    [{ trait: 'utm.source', op: 'eq', value: 'google' }, true],
  ])('%j is %s', (json, expected) => {
    expect(is(json, ana)).toBe(expected);
  });

  it('does not count a future date as within the last days', () => {
    expect(is({ trait: 'renewal', op: 'within', value: 'P30D' }, subject({ traits: { renewal: ago(-3) } }))).toBe(false);
  });

  it('moves a relative date window with the clock', () => {
    const who = subject({ traits: { signup: '2026-11-01T00:00:00.000Z' } });
    const recent = { trait: 'signup', op: 'within', value: 'P30D' };
    expect(is(recent, who, new Date('2026-11-30T23:59:59.000Z'))).toBe(true);
    expect(is(recent, who, new Date('2026-12-01T00:00:01.000Z'))).toBe(false);
  });
});

describe('evaluateSegment: combinators', () => {
  const who = subject({ traits: { plan: 'gold', country: 'FR' } });
  it.each([
    [
      {
        and: [
          { trait: 'plan', op: 'eq', value: 'gold' },
          { trait: 'country', op: 'eq', value: 'FR' },
        ],
      },
      true,
    ],
    [
      {
        and: [
          { trait: 'plan', op: 'eq', value: 'gold' },
          { trait: 'country', op: 'eq', value: 'DE' },
        ],
      },
      false,
    ],
    [
      {
        or: [
          { trait: 'plan', op: 'eq', value: 'silver' },
          { trait: 'country', op: 'eq', value: 'FR' },
        ],
      },
      true,
    ],
    [
      {
        or: [
          { trait: 'plan', op: 'eq', value: 'silver' },
          { trait: 'country', op: 'eq', value: 'DE' },
        ],
      },
      false,
    ],
    [{ not: { trait: 'plan', op: 'eq', value: 'gold' } }, false],
    [{ not: { not: { trait: 'plan', op: 'eq', value: 'gold' } } }, true],
  ])('%j is %s', (json, expected) => {
    expect(is(json, who)).toBe(expected);
  });
});

describe('evaluateSegment: computed traits, scores, consent, identifiers', () => {
  const who = subject({
    computed: {
      orders_total: 3,
      total_revenue: 120.5,
      last_order_at: ago(40),
      open_cart: { value: 25, products: [{ product_id: 'mug' }] },
      channels: ['web', 'email'],
    },
    scores: { churn: { probability: 0.82, band: 'high', modelVersion: 'v1' }, lifecycle: 'customer', profile_completeness: 0.57 },
    consent: { categoryPreferences: { Marketing: true, analytics: false }, marketing: true },
    identities: [
      { type: 'user_id', value: 'u-1' },
      { type: 'email', value: 'ana@shop.io' },
    ],
  });

  it.each([
    [{ computed: 'orders_total', op: 'gte', value: 2 }, true],
    [{ computed: 'total_revenue', op: 'lt', value: 100 }, false],
    [{ computed: 'last_order_at', op: 'before', value: 'P30D' }, true],
    [{ computed: 'last_order_at', op: 'within', value: 'P30D' }, false],
    [{ computed: 'open_cart.value', op: 'gt', value: 0 }, true],
    [{ computed: 'open_cart.products.product_id', op: 'eq', value: 'mug' }, true],
    [{ computed: 'channels', op: 'contains', value: 'email' }, true],
    [{ score: 'churn', band: 'high' }, true],
    [{ score: 'churn', band: ['low', 'medium'] }, false],
    [{ score: 'churn', op: 'gte', value: 0.8 }, true],
    [{ score: 'churn', op: 'lt', value: 0.5 }, false],
    [{ score: 'lifecycle', band: 'customer' }, true],
    [{ score: 'lifecycle', op: 'eq', value: 'prospect' }, false],
    [{ score: 'profile_completeness', op: 'gte', value: 0.5 }, true],
    [{ score: 'propensity', op: 'exists' }, false],
    [{ score: 'propensity', band: 'high' }, false],
    [{ consent: 'marketing' }, true],
    [{ consent: 'marketing', granted: false }, false],
    [{ consent: 'marketing', granted: true }, true],
    [{ consent: 'analytics' }, false],
    [{ consent: 'analytics', granted: false }, true],
    [{ consent: 'advertising', granted: false }, true],
    [{ consent: 'advertising' }, false],
    [{ has: 'email' }, true],
    [{ has: 'phone' }, false],
    [{ not: { has: 'phone' } }, true],
  ])('%j is %s', (json, expected) => {
    expect(is(json, who)).toBe(expected);
  });
});

describe('evaluateSegment: behaviour', () => {
  const events = [
    track('Product Added', ago(1), { product_id: 'mug', category: 'mugs', price: 12 }),
    track('Product Added', ago(3), { product_id: 'tee', category: 'tees', price: 20 }),
    track('Product Viewed', ago(2), { product_id: 'mug', category: 'mugs' }),
    track('Order Completed', ago(5), { revenue: 80, currency: 'EUR', products: [{ product_id: 'pot', category: 'teapots' }] }),
    track('Order Completed', ago(40), { revenue: 20, currency: 'USD', products: [{ product_id: 'mug', category: 'mugs' }] }),
    track('Order Completed', ago(200), { revenue: 35, currency: 'EUR' }),
    acceptedMessage({ type: 'page', name: 'Order Completed', timestamp: ago(1), userId: 'u-1' }),
  ];
  const who = subject({}, events);

  it.each([
    [{ event: 'Product Added' }, true],
    [{ event: 'Product Removed' }, false],
    [{ event: 'Product Added', within: 'P7D', count: { gte: 2 } }, true],
    [{ event: 'Product Added', within: 'P2D', count: { gte: 2 } }, false],
    [{ event: 'Product Added', within: 'P2D' }, true],
    [{ event: 'Product Added', where: { category: 'mugs' }, within: 'P7D', count: { gte: 1 } }, true],
    [{ event: 'Product Added', where: { category: 'mugs' }, within: 'PT12H' }, false],
    [{ event: 'Product Added', where: { category: ['cups', 'tees'] } }, true],
    [{ event: 'Product Added', where: { price: { gte: 15 } } }, true],
    [{ event: 'Product Added', where: { price: { gt: 20 } } }, false],
    [{ event: 'Order Completed', count: { eq: 3 } }, true],
    [{ event: 'Order Completed', count: { lte: 2 } }, false],
    [{ event: 'Order Completed', within: 'P30D', count: { eq: 1 } }, true],
    [{ event: 'Order Completed', within: 'P90D', count: { gte: 2, lte: 2 } }, true],
    [{ event: 'Order Completed', where: { currency: 'EUR' }, count: { gte: 2 } }, true],
    [{ event: 'Order Completed', where: { revenue: { gte: 50 } }, count: { eq: 1 } }, true],
    [{ event: 'Order Completed', where: { 'products.category': 'mugs' } }, true],
    [{ event: 'Order Completed', where: { 'products.category': 'mugs' }, within: 'P30D' }, false],
    [{ event: 'Order Completed', within: 'P3D', count: { eq: 0 } }, true],
    [{ event: 'Order Completed', within: 'P7D', count: { eq: 0 } }, false],
    [{ event: 'Product Viewed', within: 'P1D', count: { lte: 0 } }, true],
    [{ event: 'Order Completed', where: { coupon: { exists: false } }, count: { eq: 3 } }, true],
  ])('%j is %s', (json, expected) => {
    expect(is(json, who)).toBe(expected);
  });

  it('"did X and not Y since": carts added with no order after the latest add', () => {
    const abandoned = { and: [{ event: 'Product Added', within: 'P7D' }, { not: { event: 'Order Completed', after: 'Product Added' } }] };
    expect(is(abandoned, who)).toBe(true);
    const ordered = subject({}, [...events, track('Order Completed', ago(0, 2), { revenue: 12 })]);
    expect(is(abandoned, ordered)).toBe(false);
    // An add after that order opens a new cart: it counts again.
    const reopened = subject({}, [...events, track('Order Completed', ago(0, 2)), track('Product Added', ago(0, 1), { product_id: 'cup' })]);
    expect(is(abandoned, reopened)).toBe(true);
  });

  it('counts only events after the most recent anchor event', () => {
    const views = [track('Product Viewed', ago(10)), track('Order Completed', ago(6)), track('Product Viewed', ago(4)), track('Product Viewed', ago(2))];
    expect(is({ event: 'Product Viewed', after: 'Order Completed', count: { eq: 2 } }, subject({}, views))).toBe(true);
    // Without any anchor every event counts.
    expect(is({ event: 'Product Viewed', after: 'Refund Issued', count: { eq: 3 } }, subject({}, views))).toBe(true);
  });

  it('slides time windows with the injected clock', () => {
    const once = subject({}, [track('Order Completed', '2026-11-01T10:00:00.000Z')]);
    const lapsed = { and: [{ event: 'Order Completed' }, { not: { event: 'Order Completed', within: 'P30D' } }] };
    expect(is(lapsed, once, new Date('2026-11-30T09:59:59.000Z'))).toBe(false);
    expect(is(lapsed, once, new Date('2026-12-01T10:00:01.000Z'))).toBe(true);
    const twiceInWeek = { event: 'Order Completed', within: 'P7D', count: { gte: 2 } };
    const two = subject({}, [track('Order Completed', '2026-11-01T10:00:00.000Z'), track('Order Completed', '2026-11-05T10:00:00.000Z')]);
    expect(is(twiceInWeek, two, new Date('2026-11-08T09:00:00.000Z'))).toBe(true);
    expect(is(twiceInWeek, two, new Date('2026-11-08T11:00:00.000Z'))).toBe(false);
  });

  it('answers existence questions from aggregates, without any event history', () => {
    const aggregatesOnly: SegmentSubject = { ...subject({}, events), events: undefined };
    expect(is({ event: 'Order Completed', within: 'P7D' }, aggregatesOnly)).toBe(true);
    expect(is({ event: 'Order Completed', within: 'P3D', count: { eq: 0 } }, aggregatesOnly)).toBe(true);
    expect(is({ event: 'Order Completed', count: { gte: 3 } }, aggregatesOnly)).toBe(true);
    expect(is({ event: 'Wishlist Added', count: { eq: 0 } }, aggregatesOnly)).toBe(true);
    expect(() => is({ event: 'Order Completed', where: { currency: 'EUR' } }, aggregatesOnly)).toThrow(MissingEventHistoryError);
    expect(() => is({ event: 'Order Completed', within: 'P7D', count: { gte: 2 } }, aggregatesOnly)).toThrow(MissingEventHistoryError);
  });
});

describe('historyNeeded', () => {
  const need = (json: unknown) => historyNeeded(definition(json), NOW);

  it('needs no events without behaviour, or when aggregates answer', () => {
    expect(need({ trait: 'plan', op: 'eq', value: 'gold' })).toBeUndefined();
    expect(
      need({ and: [{ event: 'Order Completed' }, { event: 'Product Viewed', within: 'P30D' }, { event: 'X', within: 'P1D', count: { eq: 0 } }] }),
    ).toBeUndefined();
  });

  it('needs events back to the earliest window start', () => {
    expect(need({ or: [{ event: 'A', within: 'P7D', count: { gte: 2 } }, { not: { event: 'B', where: { x: 1 }, within: 'P30D' } }] })).toEqual({
      since: new Date('2026-10-21T12:00:00.000Z'),
    });
  });

  it('needs every stored event for an unbounded count, filter or anchor', () => {
    expect(need({ event: 'A', where: { x: 1 } })).toEqual({});
    expect(
      need({
        and: [
          { event: 'A', within: 'P7D', count: { gte: 2 } },
          { event: 'B', after: 'C' },
        ],
      }),
    ).toEqual({});
    expect(need({ event: 'B', after: 'C', within: 'P2D' })).toEqual({ since: new Date('2026-11-18T12:00:00.000Z') });
  });

  it('combines the needs of several segments into the widest', () => {
    const week = { since: new Date('2026-11-13T12:00:00.000Z') };
    const month = { since: new Date('2026-10-21T12:00:00.000Z') };
    expect(combineHistoryNeeds([undefined, undefined])).toBeUndefined();
    expect(combineHistoryNeeds([week, undefined, month])).toEqual(month);
    expect(combineHistoryNeeds([week, {}])).toEqual({});
  });
});

describe('segmentSubject', () => {
  it('builds the subject of a stored profile: traits, computed, consent, identities, aggregates', () => {
    let profile = newProfile('p-9', new Date(ago(20)));
    profile = {
      ...profile,
      identities: [{ type: 'email', value: 'ana@shop.io', firstSeen: ago(20), lastSeen: ago(1) }],
    };
    const identify = acceptedMessage({
      type: 'identify',
      userId: 'u-9',
      timestamp: ago(3),
      traits: { plan: 'gold' },
      context: { consent: { categoryPreferences: { marketing: true } } },
    });
    profile = applyMessage(profile, identify, { plan: 'gold' }, { source: 'tracking', party: 'first' }, NOW);
    profile = applyMessage(profile, track('Order Completed', ago(2), { revenue: 40 }), {}, { source: 'tracking', party: 'first' }, NOW);
    const who = segmentSubject(profile, { now: NOW, scores: { churn: { probability: 0.1, band: 'low' } } });
    expect(who).toMatchObject({
      profileId: 'p-9',
      traits: { plan: 'gold' },
      computed: { orders_total: 1, total_revenue: 40 },
      consent: { marketing: true, categoryPreferences: { marketing: true } },
      eventTotals: { 'Order Completed': { count: 1, last: ago(2) } },
    });
    expect(who.events).toBeUndefined();
    const gold = {
      and: [
        { trait: 'plan', op: 'eq', value: 'gold' },
        { computed: 'orders_total', op: 'gte', value: 1 },
        { consent: 'marketing' },
        { has: 'email' },
        { score: 'churn', band: 'low' },
        { event: 'Order Completed', within: 'P7D' },
      ],
    };
    expect(is(gold, who)).toBe(true);
  });
});
