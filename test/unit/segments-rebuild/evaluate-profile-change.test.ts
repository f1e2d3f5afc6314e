import type { ProfileChange } from '../../../functions/domain/pipeline/messages';
import type { ProfileRecord } from '../../../functions/domain/profile/profile';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { definitionOf } from '../../../functions/domain/segments/definition';
import { evaluateProfileChange, type ProfileChangeDependencies } from '../../../functions/domain/segments/rebuild/evaluate-profile-change';
import type { EvaluableSegment } from '../../../functions/domain/segments/rebuild/membership-diff';
import { evaluationNeeds, planSlices, ratePeriodSeconds, sliceCount } from '../../../functions/domain/segments/rebuild/plan';
import { FakeMemberships, GOLD, profileWithPlan } from './fakes';

const NOW = new Date('2026-02-01T12:00:00.000Z');
const MUG_BUYERS: EvaluableSegment = {
  id: 'mugs',
  name: 'Mug buyers',
  definition: definitionOf({ event: 'Product Added', where: { category: 'mugs' }, within: 'P7D' }),
};

function change(profileId: string, extra: Partial<ProfileChange> = {}): ProfileChange {
  return { kind: 'profile-change', profileId, reason: 'event', at: '2026-02-01T11:59:00.000Z', ...extra };
}

function track(event: string, category: string, timestamp: string): AcceptedMessage {
  return {
    type: 'track',
    messageId: `${event}-${timestamp}`,
    userId: 'u',
    event,
    properties: { category },
    traits: {},
    context: {},
    timestamp,
    receivedAt: timestamp,
  };
}

function harness(profiles: ReadonlyMap<string, ProfileRecord>, events: readonly AcceptedMessage[] = []) {
  const memberships = new FakeMemberships();
  let eventReads = 0;
  const deps: ProfileChangeDependencies = {
    segments: async () => [GOLD, MUG_BUYERS],
    getProfile: async (id) => profiles.get(id),
    getScores: async () => undefined,
    listEvents: async () => {
      eventReads += 1;
      return events;
    },
    segmentIdsOf: async (profileId) => [...(memberships.memberships(['gold', 'mugs'], [profileId]).get(profileId) ?? [])],
    applyMembership: (segment, profileId, shouldBeMember, at) => memberships.applyMembership(segment, profileId, shouldBeMember, at),
    now: () => NOW,
  };
  return { deps, memberships, eventReads: () => eventReads };
}

describe('evaluateProfileChange (real time)', () => {
  it('tells a withdrawal to the segments the person stays in whose webhooks serve the purpose, once per change', async () => {
    const h = harness(new Map([['p1', profileWithPlan('p1', 'gold')]]));
    h.deps = { ...h.deps, segments: async () => [{ ...GOLD, webhookPurposes: ['analytics'] }, MUG_BUYERS] };
    await evaluateProfileChange(change('p1'), false, h.deps);
    const withdrawal = change('p1', { at: '2026-02-01T11:59:30.000Z', withdrawnPurposes: ['analytics', 'ad_user_data'] });
    const transitions = await evaluateProfileChange(withdrawal, false, h.deps);
    expect(transitions).toEqual([expect.objectContaining({ segmentId: 'gold', event: 'Audience Exited', profileId: 'p1', withdrawnPurposes: ['analytics'] })]);
    // The person is still a member: only the webhook hears of the withdrawal. Redelivered, the same notice (same id).
    expect(await h.deps.segmentIdsOf('p1')).toEqual(['gold']);
    const again = await evaluateProfileChange(withdrawal, true, h.deps);
    expect(again.map((transition) => transition.transitionId)).toEqual(transitions.map((transition) => transition.transitionId));
  });

  it('enters the segments a changed profile now qualifies for, using events only as far back as needed', async () => {
    const events = [track('Product Added', 'mugs', '2026-01-30T00:00:00.000Z'), track('Product Added', 'mugs', '2025-12-01T00:00:00.000Z')];
    const h = harness(new Map([['p1', profileWithPlan('p1', 'gold')]]), events);
    const transitions = await evaluateProfileChange(change('p1'), false, h.deps);
    expect(transitions.map((t) => [t.segmentId, t.event, t.at])).toEqual([
      ['gold', 'Audience Entered', '2026-02-01T11:59:00.000Z'],
      ['mugs', 'Audience Entered', '2026-02-01T11:59:00.000Z'],
    ]);
    expect(h.eventReads()).toBe(1);
    // Evaluated again without a change: nothing to emit.
    expect(await evaluateProfileChange(change('p1', { at: '2026-02-01T12:00:00.000Z' }), false, h.deps)).toEqual([]);
  });

  it('exits when the profile no longer qualifies', async () => {
    const profiles = new Map([['p1', profileWithPlan('p1', 'gold')]]);
    const h = harness(profiles);
    await evaluateProfileChange(change('p1'), false, h.deps);
    profiles.set('p1', profileWithPlan('p1', 'silver'));
    const transitions = await evaluateProfileChange(change('p1', { at: '2026-02-01T12:30:00.000Z' }), false, h.deps);
    expect(transitions.map((t) => [t.segmentId, t.event])).toEqual([['gold', 'Audience Exited']]);
  });

  it('on redelivery gives back the transitions a crashed first attempt wrote (same ids), and no others', async () => {
    const h = harness(new Map([['p1', profileWithPlan('p1', 'gold')]]));
    const first = await evaluateProfileChange(change('p1'), false, h.deps);
    const again = await evaluateProfileChange(change('p1'), true, h.deps);
    expect(again.map((t) => t.transitionId)).toEqual(first.map((t) => t.transitionId));
  });

  it('closes the memberships of profiles merged into the changed one', async () => {
    const h = harness(new Map([['survivor', profileWithPlan('survivor', 'gold')]]));
    h.memberships.set('gold', 'absorbed', true);
    const transitions = await evaluateProfileChange(change('survivor', { reason: 'merge', absorbedProfileIds: ['absorbed'] }), false, h.deps);
    expect(transitions.map((t) => [t.profileId, t.event])).toEqual([
      ['absorbed', 'Audience Exited'],
      ['survivor', 'Audience Entered'],
    ]);
    expect(h.memberships.membersOf('gold')).toEqual(['survivor']);
  });

  it('does nothing for an erased profile', async () => {
    const h = harness(new Map());
    expect(await evaluateProfileChange(change('gone'), false, h.deps)).toEqual([]);
  });
});

describe('rebuild planning', () => {
  it('splits the table into scan slices, within bounds', () => {
    const bounds = { profilesPerSlice: 25_000, min: 4, max: 1_000 };
    expect(sliceCount(100, bounds)).toBe(4);
    expect(sliceCount(10_000_000, bounds)).toBe(400);
    expect(sliceCount(1e9, bounds)).toBe(1_000);
    const run = { runId: 'r', segmentIds: ['a'], at: NOW.toISOString() };
    expect(planSlices(run, 3).map((slice) => [slice.segment, slice.totalSegments, slice.done])).toEqual([
      [0, 3, false],
      [1, 3, false],
      [2, 3, false],
    ]);
  });

  it('reads EventBridge Scheduler rate expressions', () => {
    expect(ratePeriodSeconds('rate(1 hour)')).toBe(3_600);
    expect(ratePeriodSeconds('rate(15 minutes)')).toBe(900);
    expect(ratePeriodSeconds('rate(2 days)')).toBe(172_800);
    expect(ratePeriodSeconds('rate(0 hours)')).toBeUndefined();
    expect(ratePeriodSeconds('cron(0 * * * ? *)')).toBeUndefined();
  });

  it('loads scores only for definitions that use them', () => {
    expect(evaluationNeeds([GOLD.definition]).scores).toBe(false);
    expect(evaluationNeeds([GOLD.definition, definitionOf({ not: { score: 'churn', band: 'high' } })]).scores).toBe(true);
  });
});
