import { compactScores, crmIdOf, webhookProfile, type ProfileSnapshot } from '../../../functions/domain/activation/profile-payload';
import type { ProfileScores } from '../../../functions/domain/scoring/profile-scores';

const seen = (day: number): string => `2026-02-${String(day).padStart(2, '0')}T00:00:00.000Z`;

const scores: ProfileScores = {
  propensity: {
    probability: 0.12,
    band: 'low',
    modelVersion: 'gbt-a',
    computedAt: seen(1),
    contributions: [{ feature: 'recency_days', value: 60, contribution: 0.3, label: 'last visit 60 days ago' }],
  },
  churn: { probability: 0.8312, band: 'high', modelVersion: 'gbt-b', computedAt: seen(1), contributions: [] },
  send_hour: { hour: 19, confidence: 0.4, timeZone: 'Europe/Paris', evidence: 3, computedAt: seen(1) },
  lifecycle: 'customer',
  profile_completeness: 0.25,
};

describe('crmIdOf', () => {
  it('prefers the crm_id identifier, the most recently seen of several', () => {
    expect(
      crmIdOf([
        { type: 'user_id', value: 'u-1', lastSeen: seen(9) },
        { type: 'crm_id', value: 'C-old', lastSeen: seen(2) },
        { type: 'crm_id', value: 'C-new', lastSeen: seen(5) },
      ]),
    ).toBe('C-new');
  });

  it('falls back to the user id, then to null', () => {
    expect(
      crmIdOf([
        { type: 'email', value: 'ana@shop.io', lastSeen: seen(1) },
        { type: 'user_id', value: 'u-1', lastSeen: seen(1) },
      ]),
    ).toBe('u-1');
    expect(crmIdOf([{ type: 'anonymous_id', value: 'a-1', lastSeen: seen(1) }])).toBeNull();
  });
});

describe('compactScores', () => {
  it('keeps probability and band of predictive scores, hour and zone of the send hour, state scores as they are', () => {
    expect(compactScores(scores)).toEqual({
      churn: { score: 0.8312, band: 'high' },
      lifecycle: 'customer',
      profile_completeness: 0.25,
      propensity: { score: 0.12, band: 'low' },
      send_hour: { hour: 19, timeZone: 'Europe/Paris' },
    });
  });

  it('orders scores by name, so the body does not depend on the stored key order', () => {
    expect(Object.keys(compactScores({ b: 1, a: 2 }))).toEqual(['a', 'b']);
  });
});

describe('webhookProfile', () => {
  const snapshot: ProfileSnapshot = { identities: [{ type: 'crm_id', value: 'C-7', lastSeen: seen(1) }], scores: { churn: scores.churn! } };

  it('holds exactly the included fields', () => {
    expect(webhookProfile(['crmId'], snapshot)).toEqual({ crmId: 'C-7' });
    expect(webhookProfile(['scores'], snapshot)).toEqual({ scores: { churn: { score: 0.8312, band: 'high' } } });
    expect(webhookProfile(['crmId', 'scores'], { identities: [], scores: {} })).toEqual({ crmId: null, scores: {} });
  });

  it('is null for a profile that no longer exists', () => {
    expect(webhookProfile(['crmId', 'scores'], undefined)).toBeNull();
  });
});
