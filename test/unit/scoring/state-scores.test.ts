import { DEFAULT_STATE_SCORE_RULES, evaluateStateScores, parseStateScoreRules, StateScoreRuleError } from '../../../functions/domain/scoring/state-scores';

describe('state scores', () => {
  const prospect = { traits: { email: 'a@example.com', firstName: 'Ada', phone: '' }, computed: { orders_total: 0, total_revenue: 0 } };
  const customer = {
    traits: {
      email: 'b@example.com',
      phone: '+33612345678',
      firstName: 'Bo',
      lastName: 'Li',
      birthday: '1990-02-03',
      address: { city: 'Lyon' },
      country: 'FR',
    },
    computed: { orders_total: 3, total_revenue: 420.5 },
  };

  it('tells customers from prospects, measures completeness and tiers value with the default rules', () => {
    expect(evaluateStateScores(DEFAULT_STATE_SCORE_RULES, prospect)).toEqual({
      lifecycle: 'prospect',
      profile_completeness: 2 / 7, // an empty phone is not a value
      value_tier: 'none',
    });
    expect(evaluateStateScores(DEFAULT_STATE_SCORE_RULES, customer)).toEqual({
      lifecycle: 'customer',
      profile_completeness: 1,
      value_tier: 'silver',
    });
    expect(evaluateStateScores(DEFAULT_STATE_SCORE_RULES, {})).toEqual({ lifecycle: 'prospect', profile_completeness: 0, value_tier: 'none' });
  });

  it('evaluates combinators and every operator, cases in order', () => {
    const rules = parseStateScoreRules([
      {
        name: 'segment',
        kind: 'classify',
        cases: [
          {
            when: { all: [{ path: 'computed.orders_total', op: 'gte', value: 3 }, { not: { path: 'traits.country', op: 'in', value: ['US', 'CA'] } }] },
            value: 'loyal-eu',
          },
          {
            when: {
              any: [
                { path: 'traits.plan', op: 'eq', value: 'gold' },
                { path: 'computed.total_revenue', op: 'gt', value: 1000 },
              ],
            },
            value: 'vip',
          },
          { when: { path: 'traits.email', op: 'exists' }, value: 'reachable' },
        ],
        otherwise: 'unknown',
      },
      { name: 'lapsed', kind: 'classify', cases: [{ when: { path: 'computed.total_revenue', op: 'lt', value: 1 }, value: 'yes' }], otherwise: 'no' },
      {
        name: 'tier',
        kind: 'tiers',
        path: 'computed.total_revenue',
        tiers: [
          { min: 100, value: 'mid' },
          { min: 400, value: 'top' },
        ],
        otherwise: 'low',
      },
    ]);
    expect(evaluateStateScores(rules, customer)).toEqual({ segment: 'loyal-eu', lapsed: 'no', tier: 'top' });
    expect(evaluateStateScores(rules, { ...customer, traits: { ...customer.traits, country: 'US' } }).segment).toBe('reachable');
    expect(evaluateStateScores(rules, { traits: { plan: 'gold' } })).toEqual({ segment: 'vip', lapsed: 'no', tier: 'low' });
    expect(evaluateStateScores(rules, prospect)).toEqual({ segment: 'reachable', lapsed: 'yes', tier: 'low' });
  });

  it('accepts the default rules through validation', () => {
    expect(parseStateScoreRules(JSON.parse(JSON.stringify(DEFAULT_STATE_SCORE_RULES)))).toEqual(DEFAULT_STATE_SCORE_RULES);
  });

  it('rejects invalid rules naming the JSON path of every problem', () => {
    const invalid = [
      { name: 'a', kind: 'classify', cases: [{ when: { path: 'x', op: 'like', value: 1 }, value: 'v' }], otherwise: 'o' },
      { name: 'a', kind: 'tiers', path: 'x', tiers: [{ min: 'ten', value: 't' }], otherwise: 'o' },
      { name: 'c', kind: 'completeness', paths: [] },
      { name: 'd', kind: 'magic' },
      { name: 'e', kind: 'classify', cases: [{ when: { all: [{ path: 'x', op: 'gt', value: 'big' }] }, value: '' }] },
    ];
    let error: unknown;
    try {
      parseStateScoreRules(invalid);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(StateScoreRuleError);
    expect((error as StateScoreRuleError).problems).toEqual([
      { path: 'rules[0].cases[0].when.op', reason: 'unknown operator' },
      { path: 'rules[1].name', reason: 'duplicate score name "a"' },
      { path: 'rules[1].tiers[0].min', reason: 'expected a number' },
      { path: 'rules[2].paths', reason: 'expected a non-empty array of paths' },
      { path: 'rules[3].kind', reason: 'unknown rule kind (expected classify, completeness or tiers)' },
      { path: 'rules[4].cases[0].when.all[0].value', reason: 'expected a number' },
      { path: 'rules[4].cases[0].value', reason: 'expected a non-empty string' },
      { path: 'rules[4].otherwise', reason: 'expected a non-empty string' },
    ]);
    expect(() => parseStateScoreRules({ rules: [] })).toThrow('invalid state score rules: rules: expected an array of rules');
  });
});
