import { loadScoringModels } from '../../../functions/adapters/model-registry';
import type { ProfileChange } from '../../../functions/domain/pipeline/messages';
import { applyMessage, newProfile, type ProfileRecord } from '../../../functions/domain/profile/profile';
import { normalizeTraits } from '../../../functions/domain/profile/traits';
import {
  checkScoreNames,
  computeProfileScores,
  scoresFingerprint,
  type PredictiveScore,
  type ProfileScores,
  type ScoringSettings,
  type SendHourScore,
} from '../../../functions/domain/scoring/profile-scores';
import { rescoreProfile, type RescoreDependencies } from '../../../functions/domain/scoring/rescore-profile';
import { DEFAULT_STATE_SCORE_RULES } from '../../../functions/domain/scoring/state-scores';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import type { ScoreStore } from '../../../functions/ports/score-store';
import { acceptedMessage } from '../../helpers/messages';

const now = new Date('2026-11-24T12:00:00.000Z');
const web = { library: { name: 'analytics.js' } };
const settings: ScoringSettings = { models: loadScoringModels({}), stateRules: DEFAULT_STATE_SCORE_RULES, topContributions: 3 };
const DAY_MS = 86_400_000;
const daysAgo = (days: number, hour = 10): string => new Date(Date.UTC(2026, 10, 24 - days, hour)).toISOString();

function reconciled(id: string, messages: readonly AcceptedMessage[]): ProfileRecord {
  return messages.reduce(
    (profile, message) => {
      const { accepted } = normalizeTraits({ ...(message.context.traits as object), ...message.traits }, { defaultPhoneRegion: 'US' });
      return { ...applyMessage(profile, message, accepted, { source: 'tracking', party: 'first' }, now), version: profile.version + 1 };
    },
    newProfile(id, now),
  );
}

/** A loyal shopper: visits every other day in the evening (Paris time, all after the DST change), orders monthly, opens emails. */
const loyal: AcceptedMessage[] = [
  acceptedMessage({
    type: 'identify',
    userId: 'u1',
    timestamp: daysAgo(120),
    traits: { email: 'ana@shop.io', firstName: 'Ana', lastName: 'Li', timezone: 'Europe/Paris' },
    context: { consent: { categoryPreferences: { marketing: true } } },
  }),
  ...Array.from({ length: 14 }, (_, i) => acceptedMessage({ type: 'page', userId: 'u1', timestamp: daysAgo(i * 2 + 1, 19), context: web })),
  ...Array.from({ length: 4 }, (_, i) =>
    acceptedMessage({
      type: 'track',
      event: 'Order Completed',
      userId: 'u1',
      timestamp: daysAgo(i * 30 + 3),
      properties: { order_id: `o${i}`, revenue: 90 },
      context: web,
    }),
  ),
  ...Array.from({ length: 4 }, (_, i) => acceptedMessage({ type: 'track', event: 'Email Opened', userId: 'u1', timestamp: daysAgo(i * 7 + 2, 19) })),
  acceptedMessage({
    type: 'track',
    event: 'Product Added',
    userId: 'u1',
    timestamp: daysAgo(1, 19),
    properties: { product_id: 'mug', price: 30 },
    context: web,
  }),
];
/** Someone who came twice half a year ago and never again. */
const lapsed: AcceptedMessage[] = [
  acceptedMessage({ type: 'page', anonymousId: 'a2', timestamp: daysAgo(170), context: web }),
  acceptedMessage({ type: 'page', anonymousId: 'a2', timestamp: daysAgo(160), context: web }),
];

describe('profile scores', () => {
  const loyalScores = computeProfileScores(reconciled('p1', loyal), [...loyal].reverse(), settings, now);
  const lapsedScores = computeProfileScores(reconciled('p2', lapsed), [...lapsed].reverse(), settings, now);
  const predictive = (scores: ProfileScores, name: string): PredictiveScore => scores[name] as PredictiveScore;

  it('puts state scores, predictive scores and the send hour under their names', () => {
    expect(Object.keys(loyalScores).sort()).toEqual(['churn', 'complaint', 'lifecycle', 'profile_completeness', 'propensity', 'send_hour', 'value_tier']);
    expect(loyalScores).toMatchObject({ lifecycle: 'customer', value_tier: 'silver', profile_completeness: 3 / 7 });
    expect(lapsedScores).toMatchObject({ lifecycle: 'prospect', value_tier: 'none', profile_completeness: 0 });
  });

  it('ranks the loyal shopper above the lapsed visitor on propensity and below on churn, with bands and versions', () => {
    const [loyalPropensity, lapsedPropensity] = [predictive(loyalScores, 'propensity'), predictive(lapsedScores, 'propensity')];
    expect(loyalPropensity.probability).toBeGreaterThan(lapsedPropensity.probability);
    expect(predictive(loyalScores, 'churn').probability).toBeLessThan(predictive(lapsedScores, 'churn').probability);
    expect(loyalPropensity.band).not.toBe('low');
    expect(lapsedPropensity.band).toBe('low');
    expect(predictive(lapsedScores, 'churn').band).not.toBe('low');
    expect(predictive(loyalScores, 'churn').band).toBe('low');
    for (const name of ['propensity', 'churn', 'complaint']) {
      const score = predictive(loyalScores, name);
      expect(score.modelVersion).toBe(settings.models.get(name)!.modelVersion);
      expect(score.computedAt).toBe(now.toISOString());
      expect(score.probability).toBeGreaterThan(0);
      expect(score.probability).toBeLessThan(1);
    }
  });

  it('explains each predictive score with its top three features in words', () => {
    const { contributions } = predictive(loyalScores, 'churn');
    expect(contributions).toHaveLength(3);
    const magnitudes = contributions.map((c) => Math.abs(c.contribution));
    expect(magnitudes).toEqual([...magnitudes].sort((a, b) => b - a));
    // Fourteen page views in 30 days is what keeps this shopper's churn risk low.
    const pageViews = contributions.find((c) => c.feature === 'page_views_30d')!;
    expect(pageViews.value).toBe(14);
    expect(pageViews.contribution).toBeLessThan(0);
    expect(pageViews.label).toMatch(/^page_views_30d high \(-0\.\d\d\)$/);
  });

  it('finds the send hour in the profile time zone from its opens and visits', () => {
    const sendHour = loyalScores.send_hour as SendHourScore;
    expect(sendHour).toMatchObject({ hour: 20, timeZone: 'Europe/Paris', computedAt: now.toISOString() }); // 19:00 UTC in November
    expect(sendHour.evidence).toBe(4 * 3 + 14 + 4 + 1); // opens weigh 3, visits (orders and the cart add included) 1
    const lapsedHour = lapsedScores.send_hour as SendHourScore;
    expect(lapsedHour.timeZone).toBe('UTC');
    expect(lapsedHour.confidence).toBeLessThan(0.05); // two visits: the population prior decides
  });

  it('fingerprints scores without their computation time and whatever the key order', () => {
    const later = computeProfileScores(reconciled('p1', loyal), [...loyal].reverse(), settings, new Date(now.getTime() + 1000));
    expect(scoresFingerprint(later)).toBe(scoresFingerprint(loyalScores));
    const reordered: ProfileScores = Object.fromEntries(
      Object.entries(loyalScores)
        .reverse()
        .map(([name, value]) => [name, typeof value === 'object' ? (Object.fromEntries(Object.entries(value).reverse()) as typeof value) : value]),
    );
    expect(scoresFingerprint(reordered)).toBe(scoresFingerprint(loyalScores));
    const monthLater = computeProfileScores(reconciled('p2', lapsed), [...lapsed].reverse(), settings, new Date(now.getTime() + 30 * DAY_MS));
    expect(scoresFingerprint(monthLater)).not.toBe(scoresFingerprint(lapsedScores));
  });

  it('refuses a state score named like a model or the send hour', () => {
    expect(() => checkScoreNames({ models: settings.models, stateRules: [{ name: 'churn', kind: 'completeness', paths: ['traits.email'] }] })).toThrow(
      /"churn" is used twice/,
    );
    expect(() => checkScoreNames(settings)).not.toThrow();
  });
});

class MemoryScoreStore implements ScoreStore {
  readonly items = new Map<string, ProfileScores>();
  writes = 0;
  versions = new Map<string, number>();
  async getScores(profileId: string): Promise<ProfileScores | undefined> {
    return this.items.get(profileId);
  }
  readonly retired = new Set<string>();
  async putScores(profile: { profileId: string; version: number }, scores: ProfileScores): Promise<'written' | 'profile-changed'> {
    if (this.retired.has(profile.profileId) || (this.versions.get(profile.profileId) ?? profile.version) !== profile.version) return 'profile-changed';
    this.writes += 1;
    this.items.set(profile.profileId, scores);
    return 'written';
  }
  async retireScores(profileIds: readonly string[]): Promise<void> {
    for (const id of profileIds) {
      this.items.delete(id);
      this.retired.add(id);
    }
  }
}

describe('rescoring a profile change', () => {
  const survivor = reconciled('p1', loyal);
  const change: ProfileChange = { kind: 'profile-change', profileId: 'p1', reason: 'event', at: now.toISOString() };

  function setup(profiles: Record<string, ProfileRecord | undefined>): { deps: RescoreDependencies; store: MemoryScoreStore; sent: ProfileChange[] } {
    const store = new MemoryScoreStore();
    const sent: ProfileChange[] = [];
    const deps: RescoreDependencies = {
      profiles: {
        getProfile: async (id) => profiles[id],
        listEvents: async (_profile, limit) =>
          [...loyal]
            .reverse()
            .slice(0, limit)
            .map((message) => ({ message })),
      },
      scores: store,
      evaluateSegments: async (sent_) => {
        sent.push(sent_);
      },
      settings,
      eventLimit: 200,
      now: () => now,
    };
    return { deps, store, sent };
  }

  it('writes new scores, then forwards the change to segment evaluation', async () => {
    const { deps, store, sent } = setup({ p1: survivor });
    await expect(rescoreProfile(change, deps)).resolves.toMatchObject({ outcome: 'written' });
    expect(store.items.get('p1')).toHaveProperty('propensity.band');
    expect(sent).toEqual([change]);
  });

  it('skips the write when nothing changed but still forwards (the profile itself changed)', async () => {
    const { deps, store, sent } = setup({ p1: survivor });
    await rescoreProfile(change, deps);
    await expect(rescoreProfile({ ...change, reason: 'recompute' }, { ...deps, now: () => new Date(now.getTime() + 60_000) })).resolves.toMatchObject({
      outcome: 'unchanged',
    });
    expect(store.writes).toBe(1);
    expect(sent).toHaveLength(2);
  });

  it('drops the scores of merged-away and erased profiles and forwards nothing for them', async () => {
    const { deps, store, sent } = setup({ p1: survivor, p9: survivor });
    store.items.set('p9', { lifecycle: 'prospect' });
    store.items.set('p8', { lifecycle: 'prospect' });
    await expect(rescoreProfile({ ...change, profileId: 'p9' }, deps)).resolves.toEqual({ outcome: 'skipped', reason: 'merged' });
    await expect(rescoreProfile({ ...change, profileId: 'p8' }, deps)).resolves.toEqual({ outcome: 'skipped', reason: 'erased' });
    expect(store.items.size).toBe(0);
    expect(sent).toEqual([]);
  });

  it('deletes the scores of profiles absorbed by a merge', async () => {
    const { deps, store } = setup({ p1: survivor });
    store.items.set('p7', { lifecycle: 'prospect' });
    await rescoreProfile({ ...change, reason: 'merge', absorbedProfileIds: ['p7'] }, deps);
    expect([...store.items.keys()]).toEqual(['p1']);
  });

  it('withholds scores from a person who denied analytics, and removes those they had; not deciding is no denial', async () => {
    const denied: ProfileRecord = {
      ...survivor,
      consent: { categories: { Analytics: { granted: false, at: now.toISOString(), source: 'tracking' } } },
    };
    const { deps, store, sent } = setup({ p1: denied });
    store.items.set('p1', { lifecycle: 'customer' });
    await expect(rescoreProfile(change, deps)).resolves.toEqual({ outcome: 'withheld' });
    expect(store.items.get('p1')).toEqual({});
    expect(sent).toEqual([change]);
    const undecided = setup({ p1: survivor });
    await expect(rescoreProfile(change, undecided.deps)).resolves.toMatchObject({ outcome: 'written' });
  });

  it('leaves a profile that changed meanwhile to its newer change', async () => {
    const { deps, store, sent } = setup({ p1: survivor });
    store.versions.set('p1', survivor.version + 1);
    await expect(rescoreProfile(change, deps)).resolves.toEqual({ outcome: 'superseded' });
    expect(sent).toEqual([]);
  });
});
