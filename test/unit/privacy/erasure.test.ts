import {
  ERASURE_STEPS,
  requestErasure,
  runErasureStep,
  startingState,
  type ErasureDependencies,
  type ErasureState,
} from '../../../functions/domain/privacy/erasure';
import { newProfile } from '../../../functions/domain/profile/profile';
import type { ErasureJob } from '../../../functions/ports/erasure-jobs';

/** The erasure job's steps and its request, on fakes (DynamoDB Local: test/integration/erasure-job.test.ts). */
function fakes(dataCalls: Array<{ eventsDeleted: number; done: boolean }>) {
  const calls: string[] = [];
  const deps: ErasureDependencies = {
    profiles: {
      beginErasure: async (profileId, jobId) => {
        calls.push(`suppress ${profileId} ${jobId}`);
        return { identitiesSuppressed: 3 };
      },
      eraseProfileData: async () => {
        calls.push('data');
        const next = dataCalls.shift() ?? { eventsDeleted: 0, done: true };
        return { ...next, profileIds: ['p1', 'p0'] };
      },
      deleteQuarantineOf: async (ids) => {
        calls.push(`quarantine ${ids.join(',')}`);
        return 2;
      },
    },
    segments: {
      segmentIdsOf: async () => ['s-hooked', 's-plain'],
      getSegment: async (segmentId) =>
        ({
          id: segmentId,
          name: segmentId,
          destinations: segmentId === 's-hooked' ? [{ type: 'webhook', url: 'https://crm.example.com/hook' }] : [],
        }) as unknown as Awaited<ReturnType<ErasureDependencies['segments']['getSegment']>>,
      removeProfile: async (id) => {
        calls.push(`memberships ${id}`);
        return { memberships: 1 };
      },
    },
    journeys: {
      cartState: async () => ({ runId: 'r', executionArn: 'arn:cart:r', cartChangedAt: '2026-01-01T00:00:00.000Z' }),
      runsOf: async () => [{ runId: 'promo-1', journeyKey: 'product-view' }],
      forgetRuns: async (runIds) => {
        calls.push(`forget ${runIds.join(',')}`);
        return 3;
      },
    },
    cartRuns: { stop: async (runId) => void calls.push(`stop ${runId}`) },
    journeyRuns: (journeyKey) => ({ stop: async (runId) => void calls.push(`stop ${runId}`), runIdOf: (name) => `arn:${journeyKey}:${name}` }),
    notify: async (notices) => void calls.push(...notices.map((notice) => `notify ${notice.event} ${notice.segmentId} ${notice.profileId}`)),
    jobs: { finish: async (jobId, outcome) => void calls.push(`finish ${jobId} ${outcome.status}`) },
    hasTime: () => true,
    now: () => new Date('2026-12-01T00:00:00.000Z'),
  };
  return { deps, calls };
}

describe('the erasure job', () => {
  it('suppresses first, stops the cart journey, erases the data until done, then memberships and quarantine of every merged profile, then records the counts', async () => {
    const { deps, calls } = fakes([
      { eventsDeleted: 700, done: false },
      { eventsDeleted: 300, done: true },
    ]);
    let state: ErasureState = startingState('job-1', 'p1');
    const seen: string[] = [];
    while (!state.done) {
      seen.push(state.step);
      state = await runErasureStep(state, deps);
    }
    expect(seen).toEqual(['suppress', 'journeys', 'notify', 'data', 'data', 'memberships', 'quarantine', 'complete']);
    expect(new Set(seen)).toEqual(new Set(ERASURE_STEPS));
    expect(calls).toEqual([
      'suppress p1 job-1',
      'stop arn:cart:r',
      'stop arn:product-view:promo-1',
      'forget promo-1,r',
      'notify Profile Deleted s-hooked p1',
      'data',
      'data',
      'memberships p1',
      'memberships p0',
      'quarantine p1,p0',
      'finish job-1 completed',
    ]);
    expect(state.counts).toEqual({
      identitiesSuppressed: 3,
      eventsDeleted: 1_000,
      profilesErased: 2,
      membershipsRemoved: 2,
      quarantineEntriesRemoved: 2,
      journeyRunsStopped: 2,
      webhookNotices: 1,
    });
  });
});

describe('the erasure notice', () => {
  it('tells a call center (a dialer handed the person) too, not a segment without webhooks', async () => {
    const { deps, calls } = fakes([]);
    const segments: Record<string, unknown[]> = {
      's-dialer': [{ type: 'call_center', url: 'https://dialer.example/contacts', reason: 'Churn risk' }],
      's-email': [{ type: 'journey', journey: 'audience-email', template: {} }],
    };
    const withDialer: ErasureDependencies = {
      ...deps,
      segments: {
        ...deps.segments,
        segmentIdsOf: async () => Object.keys(segments),
        getSegment: async (segmentId) =>
          ({ id: segmentId, name: segmentId, destinations: segments[segmentId] }) as unknown as Awaited<
            ReturnType<ErasureDependencies['segments']['getSegment']>
          >,
      },
    };
    const state = await runErasureStep({ ...startingState('job-2', 'p1'), step: 'notify' }, withDialer);
    expect(calls).toEqual(['notify Profile Deleted s-dialer p1']);
    expect(state.counts.webhookNotices).toBe(1);
  });
});

describe('an erasure request', () => {
  const running: ErasureJob = { jobId: 'job-9', status: 'running', requestedAt: '2026-12-01T00:00:00.000Z' };
  const profile = newProfile('p9', new Date('2026-11-01T00:00:00.000Z'));
  const base = {
    profiles: {
      getProfile: async () => undefined,
      findProfile: async () => undefined,
      erasureJobOf: async () => undefined,
      listMergeLog: async () => [],
      finishUnmerges: async () => [],
    },
    jobs: { create: async () => running, get: async () => undefined, jobOfProfile: async () => undefined },
    now: () => new Date('2026-12-01T00:00:00.000Z'),
  };

  it('starts one run named after the job for a live person, and starts nothing for a finished job', async () => {
    const started: string[] = [];
    const runs = {
      start: async (name: string) => {
        started.push(name);
        return name;
      },
    };
    const live = { ...base, profiles: { ...base.profiles, findProfile: async () => profile }, runs };
    expect(await requestErasure({ kind: 'identifier', identifier: { type: 'email', value: 'a@b.io' } }, live)).toBe(running);
    expect(started).toEqual(['job-9']);
    const completed: ErasureJob = { ...running, status: 'completed' };
    await requestErasure(
      { kind: 'identifier', identifier: { type: 'email', value: 'a@b.io' } },
      { ...live, jobs: { ...base.jobs, create: async () => completed } },
    );
    expect(started).toEqual(['job-9']);
  });

  it('answers the job that erased a person no longer found, by identifier or profile id, and nothing for a stranger', async () => {
    const runs = { start: async () => Promise.reject(new Error('nothing to start')) };
    const erased = {
      ...base,
      runs,
      profiles: { ...base.profiles, erasureJobOf: async () => 'job-9' },
      jobs: { ...base.jobs, get: async (jobId: string) => (jobId === 'job-9' ? running : undefined), jobOfProfile: async () => running },
    };
    expect(await requestErasure({ kind: 'identifier', identifier: { type: 'email', value: 'a@b.io' } }, erased)).toBe(running);
    expect(await requestErasure({ kind: 'profile', profileId: 'p9' }, erased)).toBe(running);
    expect(await requestErasure({ kind: 'identifier', identifier: { type: 'email', value: 'x@y.io' } }, { ...base, runs })).toBeUndefined();
  });
});
