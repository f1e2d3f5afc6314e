import { parseSegmentDefinition, definitionOf, InvalidSegmentDefinitionError, type SegmentDefinition } from '../../../functions/domain/segments/definition';
import { parseDuration, subtractDuration } from '../../../functions/domain/segments/duration';

function errorsOf(json: unknown): Array<{ path: string; reason: string }> {
  const result = parseSegmentDefinition(json);
  if (result.ok) throw new Error('expected the definition to be rejected');
  return [...result.errors];
}

function parsed(json: unknown): SegmentDefinition {
  const result = parseSegmentDefinition(json);
  if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.errors)}`);
  return result.definition;
}

describe('parseSegmentDefinition', () => {
  it('parses the contract examples into a typed tree', () => {
    expect(
      parsed({
        and: [
          { trait: 'plan', op: 'eq', value: 'gold' },
          { event: 'Product Added', where: { category: 'mugs' }, within: 'P7D', count: { gte: 1 } },
          {
            not: {
              or: [
                { trait: 'country', op: 'in', value: ['FR', 'DE'] },
                { trait: 'email', op: 'exists' },
              ],
            },
          },
        ],
      }),
    ).toEqual({
      kind: 'and',
      conditions: [
        { kind: 'trait', name: 'plan', test: { op: 'eq', value: 'gold' } },
        {
          kind: 'behaviour',
          event: 'Product Added',
          where: [{ path: 'category', test: { op: 'eq', value: 'mugs' } }],
          within: expect.objectContaining({ text: 'P7D', days: 7 }),
          count: { gte: 1 },
        },
        {
          kind: 'not',
          condition: {
            kind: 'or',
            conditions: [
              { kind: 'trait', name: 'country', test: { op: 'in', value: ['FR', 'DE'] } },
              { kind: 'trait', name: 'email', test: { op: 'exists', value: true } },
            ],
          },
        },
      ],
    });
  });

  it('answers the contract error for an unknown operator, with its JSON path', () => {
    expect(
      errorsOf({
        and: [
          { trait: 'plan', op: 'eq', value: 'gold' },
          { trait: 'plan', op: 'equals', value: 'gold' },
        ],
      }),
    ).toEqual([{ path: 'definition.and[1].op', reason: 'unknown operator' }]);
  });

  it('defaults a behaviour count to at least once', () => {
    expect(parsed({ event: 'Order Completed' })).toEqual({ kind: 'behaviour', event: 'Order Completed', where: [], count: { gte: 1 } });
  });

  it('parses the additions: computed traits, scores, consent, identifiers and "after"', () => {
    expect(parsed({ computed: 'orders_total', op: 'gte', value: 2 })).toEqual({ kind: 'computed', name: 'orders_total', test: { op: 'gte', value: 2 } });
    expect(parsed({ computed: 'open_cart.value', op: 'gt', value: 0 })).toMatchObject({ kind: 'computed', name: 'open_cart.value' });
    expect(parsed({ score: 'churn', band: 'high' })).toEqual({ kind: 'score-band', name: 'churn', bands: ['high'] });
    expect(parsed({ score: 'churn', band: ['medium', 'high'] })).toEqual({ kind: 'score-band', name: 'churn', bands: ['medium', 'high'] });
    expect(parsed({ score: 'propensity', op: 'gte', value: 0.7 })).toEqual({ kind: 'score', name: 'propensity', test: { op: 'gte', value: 0.7 } });
    expect(parsed({ consent: 'marketing' })).toEqual({ kind: 'consent', category: 'marketing', granted: true });
    expect(parsed({ consent: 'analytics', granted: false })).toEqual({ kind: 'consent', category: 'analytics', granted: false });
    expect(parsed({ has: 'email' })).toEqual({ kind: 'has', identifierType: 'email' });
    expect(parsed({ event: 'Order Completed', after: 'Product Added', count: { eq: 0 } })).toEqual({
      kind: 'behaviour',
      event: 'Order Completed',
      where: [],
      after: 'Product Added',
      count: { eq: 0 },
    });
  });

  it('parses property filters: value, list and operator forms', () => {
    expect(parsed({ event: 'Order Completed', where: { currency: 'EUR', 'products.category': ['mugs', 'tees'], revenue: { gte: 50 } } })).toMatchObject({
      where: [
        { path: 'currency', test: { op: 'eq', value: 'EUR' } },
        { path: 'products.category', test: { op: 'in', value: ['mugs', 'tees'] } },
        { path: 'revenue', test: { op: 'gte', value: 50 } },
      ],
    });
  });

  it('accepts absolute and relative date bounds', () => {
    expect(parsed({ trait: 'signup', op: 'before', value: '2026-01-31' })).toEqual({
      kind: 'trait',
      name: 'signup',
      test: { op: 'before', value: { kind: 'absolute', at: new Date('2026-01-31T00:00:00.000Z') } },
    });
    expect(parsed({ trait: 'signup', op: 'after', value: 'P1M' })).toMatchObject({ test: { op: 'after', value: { kind: 'relative', ago: { months: 1 } } } });
    expect(parsed({ trait: 'last_login', op: 'within', value: 'PT12H' })).toMatchObject({ test: { op: 'within', value: { hours: 12 } } });
  });

  it.each([
    [{ trait: 'plan', op: 'gt', value: 'ten' }, 'definition.value', 'gt takes a number, got string'],
    [{ trait: 'plan', op: 'in', value: [] }, 'definition.value', 'in takes a non-empty array of strings, numbers or booleans'],
    [{ trait: 'plan', op: 'eq' }, 'definition.value', 'eq takes a string, number or boolean, got undefined'],
    [{ trait: 'plan', op: 'exists', value: 'yes' }, 'definition.value', 'exists takes true, false or no value'],
    [{ trait: 'seen', op: 'within', value: '30 days' }, 'definition.value', 'within takes an ISO 8601 duration such as P30D or PT12H'],
    [{ trait: 'seen', op: 'before', value: 'yesterday' }, 'definition.value', expect.stringContaining('before takes an ISO 8601 date')],
    [{ trait: 'plan', value: 'gold' }, 'definition.op', expect.stringContaining('missing operator')],
    [{ trait: '', op: 'exists' }, 'definition.trait', 'expected a non-empty string'],
    [{ trait: 'plan', op: 'eq', value: 'gold', extra: 1 }, 'definition.extra', 'unknown field'],
    [{ computed: 'order_total', op: 'gt', value: 1 }, 'definition.computed', expect.stringContaining('unknown computed trait')],
    [{ score: 'churn', band: 'high', op: 'eq', value: 'x' }, 'definition', 'use either band or op/value, not both'],
    [{ score: 'churn', band: [] }, 'definition.band', expect.stringContaining('expected a band name')],
    [{ consent: 'marketing', granted: 'yes' }, 'definition.granted', 'granted must be true or false'],
    [{ has: 'E-mail' }, 'definition.has', expect.stringContaining('expected an identifier type')],
    [{ event: 'Order Completed', within: 'P7' }, 'definition.within', 'within takes an ISO 8601 duration such as P7D'],
    [{ event: 'Order Completed', count: { gte: -1 } }, 'definition.count.gte', 'expected a non-negative integer'],
    [{ event: 'Order Completed', count: { most: 3 } }, 'definition.count.most', 'unknown count bound (gte, lte, eq)'],
    [{ event: 'Order Completed', count: {} }, 'definition.count', 'expected an object with gte, lte and/or eq'],
    [{ event: 'Order Completed', where: { revenue: { between: [1, 2] } } }, 'definition.where.revenue.between', 'unknown operator'],
    [{ event: 'Order Completed', where: { revenue: { gte: 1, lte: 2 } } }, 'definition.where.revenue', 'expected one operator, e.g. {"gte": 10}'],
    [{ event: 'Order Completed', where: { revenue: null } }, 'definition.where.revenue', expect.stringContaining('got null')],
    [{ event: 'Order Completed', where: 'mugs' }, 'definition.where', 'expected an object of event property filters'],
    [{ event: 'Order Completed', after: 3 }, 'definition.after', 'expected a non-empty string'],
    [{ and: [] }, 'definition.and', 'expected a non-empty array of conditions'],
    [{ or: {} }, 'definition.or', 'expected a non-empty array of conditions'],
    [{ not: 'x' }, 'definition.not', 'expected a condition object, got string'],
    [{ plan: 'gold' }, 'definition', expect.stringContaining('expected exactly one of and, or, not, trait')],
    [{ trait: 'plan', event: 'x', op: 'exists' }, 'definition', expect.stringContaining('(found trait, event)')],
    [[], 'definition', 'expected a condition object, got an array'],
    [null, 'definition', 'expected a condition object, got null'],
  ])('rejects %j at %s', (json, path, reason) => {
    expect(errorsOf(json)).toEqual([{ path, reason }]);
  });

  it('reports every error of a definition, each with its own path', () => {
    expect(
      errorsOf({
        or: [
          { trait: 'plan', op: 'like', value: 'g%' },
          {
            and: [
              { event: 'X', within: 'week' },
              { score: 'churn', band: 3 },
            ],
          },
        ],
      }).map((e) => e.path),
    ).toEqual(['definition.or[0].op', 'definition.or[1].and[0].within', 'definition.or[1].and[1].band']);
  });

  it('uses the given base path', () => {
    expect(parseSegmentDefinition({ trait: 'plan', op: 'is' }, 'body.definition')).toEqual({
      ok: false,
      errors: [{ path: 'body.definition.op', reason: 'unknown operator' }],
    });
  });

  it('bounds nesting depth and the number of conditions', () => {
    let deep: unknown = { trait: 'plan', op: 'exists' };
    for (let level = 0; level < 12; level += 1) deep = { not: deep };
    expect(errorsOf(deep)).toEqual([{ path: expect.stringMatching(/^definition(\.not)+$/), reason: 'conditions nest deeper than 10 levels' }]);
    const wide = { or: Array.from({ length: 120 }, () => ({ trait: 'plan', op: 'exists' })) };
    expect(errorsOf(wide)).toEqual([{ path: 'definition.or[99]', reason: 'a definition holds at most 100 conditions' }]);
  });

  it('definitionOf throws for a stored definition that no longer parses', () => {
    expect(() => definitionOf({ trait: 'plan', op: 'nope' })).toThrow(InvalidSegmentDefinitionError);
    expect(definitionOf({ has: 'phone' })).toEqual({ kind: 'has', identifierType: 'phone' });
  });
});

describe('ISO 8601 durations', () => {
  it.each([
    ['P30D', { days: 30 }],
    ['PT12H', { hours: 12 }],
    ['P1Y2M3W4DT5H6M7S', { years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7 }],
    ['PT90M', { minutes: 90 }],
  ])('parses %s', (text, parts) => {
    expect(parseDuration(text)).toMatchObject({ text, ...parts });
  });

  it.each(['P', 'PT', '30D', 'P1.5D', 'P-1D', 'p30d', 'P1DT', ''])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('subtracts fixed units exactly and calendar units on the UTC calendar', () => {
    const now = new Date('2026-03-31T12:00:00.000Z');
    expect(subtractDuration(now, parseDuration('P30D')!).toISOString()).toBe('2026-03-01T12:00:00.000Z');
    expect(subtractDuration(now, parseDuration('PT36H')!).toISOString()).toBe('2026-03-30T00:00:00.000Z');
    expect(subtractDuration(now, parseDuration('P1M')!).toISOString()).toBe('2026-02-28T12:00:00.000Z');
    expect(subtractDuration(now, parseDuration('P1Y1M')!).toISOString()).toBe('2025-02-28T12:00:00.000Z');
    expect(subtractDuration(new Date('2024-03-31T00:00:00Z'), parseDuration('P1M')!).toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(subtractDuration(now, parseDuration('P2W')!).toISOString()).toBe('2026-03-17T12:00:00.000Z');
  });
});
