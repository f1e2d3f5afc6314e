import { featureRowOf, leakedFeatures, selectFeatures } from '../../../functions/domain/lookalikes/feature-rows';
import { EMPTY_ACTIVITY } from '../../../functions/domain/profile/activity';
import { newProfile, type ProfileRecord } from '../../../functions/domain/profile/profile';
import { definitionOf } from '../../../functions/domain/segments/definition';

const NOW = new Date('2026-12-03T12:00:00.000Z');
const trait = (value: unknown) => ({ value, at: '2026-12-01T00:00:00.000Z', source: 'crm', party: 'first', messageId: 'm1' });

function profile(): ProfileRecord {
  return {
    ...newProfile('p1', new Date('2026-01-01T00:00:00.000Z')),
    traits: { plan: trait('gold'), age: trait(41), vip: trait(true), email: trait('ana@example.com'), address: trait({ city: 'Lyon' }), empty: trait('  ') },
    activity: {
      ...EMPTY_ACTIVITY,
      firstSeen: '2026-11-01T12:00:00.000Z',
      lastSeen: '2026-12-01T12:00:00.000Z',
      eventsTotal: 5,
      totals: { orders: 2 },
      revenue: 120,
      lastOrderAt: '2026-11-23T12:00:00.000Z',
    },
  } as unknown as ProfileRecord;
}

describe('featureRowOf', () => {
  const row = featureRowOf(
    profile(),
    { churn: { probability: 0.42, band: 'medium' }, lifecycle: 'active', send_hour: { hour: 9 }, 'lookalike:other': { score: 0.9 } },
    NOW,
  );

  test('scalar traits, never contact data', () => {
    expect(row).toMatchObject({ 'trait:plan': 'gold', 'trait:age': 41, 'trait:vip': true });
    expect(Object.keys(row).filter((name) => name.startsWith('trait:'))).toEqual(['trait:plan', 'trait:age', 'trait:vip']);
  });

  test('computed traits as of now', () => {
    expect(row).toMatchObject({
      'computed:orders_total': 2,
      'computed:total_revenue': 120,
      'computed:average_order_value': 60,
      'computed:recency_days': 2,
      'computed:days_since_last_order': 10,
    });
  });

  test("scores: a model's probability, state scores as they are, not other lookalikes", () => {
    expect(row['score:churn']).toBe(0.42);
    expect(row['score:lifecycle']).toBe('active');
    expect(Object.keys(row).filter((name) => name.startsWith('score:'))).toEqual(['score:churn', 'score:lifecycle']);
  });
});

describe('leakedFeatures', () => {
  test('what the seed tests, behaviour through the computed traits built from its events', () => {
    const leaked = leakedFeatures(
      definitionOf({
        and: [
          { trait: 'plan', op: 'eq', value: 'gold' },
          { not: { score: 'churn', band: 'high' } },
          { or: [{ computed: 'page_views_7d', op: 'gt', value: 3 }, { event: 'Order Completed' }] },
        ],
      }),
    );
    expect([...leaked].sort()).toEqual(
      [
        'trait:plan',
        'score:churn',
        'computed:page_views_7d',
        'computed:orders_total',
        'computed:total_revenue',
        'computed:average_order_value',
        'computed:orders_90d',
        'computed:days_since_last_order',
        'computed:events_total',
        'computed:recency_days',
        'computed:active_days_30d',
      ].sort(),
    );
    expect([...leakedFeatures(definitionOf({ and: [{ computed: 'last_seen', op: 'within', value: 'P30D' }, { consent: 'marketing' }] }))].sort()).toEqual([
      'computed:marketing_consent',
      'computed:recency_days',
    ]);
  });
});

describe('selectFeatures', () => {
  const rows = Array.from({ length: 200 }, (_, i) => ({
    'trait:plan': i % 2 === 0 ? 'gold' : 'free',
    'trait:code': `c-${i}`,
    'trait:spend': String(i * 1.5),
    'trait:country': 'FR',
    ...(i < 5 && { 'trait:rare': 1 }),
    ...(i < 60 && { 'trait:newsletter': true }),
    'trait:bought': i % 3 === 0,
  }));

  test('says why each name is left out', () => {
    const selection = selectFeatures(rows, { leaked: new Set(['trait:bought']), exclude: ['trait:plan'] });
    expect(selection.features).toEqual(['trait:newsletter', 'trait:spend']);
    expect(selection.leftOut).toEqual([
      { feature: 'trait:bought', reason: 'tested-by-seed' },
      { feature: 'trait:code', reason: 'identifier-like' },
      { feature: 'trait:country', reason: 'constant' },
      { feature: 'trait:plan', reason: 'excluded' },
      { feature: 'trait:rare', reason: 'low-coverage' },
    ]);
  });

  test('an included name is offered whatever the default rules say', () => {
    expect(selectFeatures(rows, { leaked: new Set(['trait:bought']), include: ['trait:bought', 'trait:rare'] }).features).toEqual([
      'trait:bought',
      'trait:newsletter',
      'trait:plan',
      'trait:rare',
      'trait:spend',
    ]);
  });
});
