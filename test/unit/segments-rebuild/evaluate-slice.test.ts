import type { AudienceTransition } from '../../../functions/domain/pipeline/messages';
import type { ProfileRecord } from '../../../functions/domain/profile/profile';
import { evaluateSlice, type SliceDependencies, type SliceProgress } from '../../../functions/domain/segments/rebuild/evaluate-slice';
import { finishRun } from '../../../functions/domain/segments/rebuild/finish-run';
import { planSlices, type RebuildRun } from '../../../functions/domain/segments/rebuild/plan';
import { FakeMemberships, FakeOutbox, GOLD, profileWithPlan } from './fakes';

const RUN: RebuildRun = { runId: 'run-1', segmentIds: ['gold'], at: '2026-02-01T00:00:00.000Z' };
const PAGE = 10;

/** 25 profiles: every third one is gold. */
const PROFILES: ProfileRecord[] = Array.from({ length: 25 }, (_, index) =>
  profileWithPlan(`p${String(index).padStart(2, '0')}`, index % 3 === 0 ? 'gold' : 'silver'),
);
const GOLD_IDS = PROFILES.filter((_, index) => index % 3 === 0).map((profile) => profile.profileId);

function harness(options: { pagesPerInvocation?: number } = {}) {
  const memberships = new FakeMemberships();
  const outbox = new FakeOutbox();
  const emitted: AudienceTransition[] = [];
  let progress: SliceProgress | undefined;
  let emitFailures = 0;
  let saveFailures = 0;
  let pagesThisInvocation = 0;
  const deps: SliceDependencies = {
    outbox,
    applyMembership: (segment, profileId, shouldBeMember, at, runId) => memberships.applyMembership(segment, profileId, shouldBeMember, at, runId),
    emit: async (transitions) => {
      if (emitFailures > 0) {
        emitFailures -= 1;
        throw new Error('injected SQS failure');
      }
      emitted.push(...transitions);
    },
    loadProgress: async () => progress,
    saveProgress: async (previousPages, next) => {
      if ((progress?.pages ?? 0) !== previousPages) throw new Error('progress conflict');
      if (saveFailures > 0) {
        saveFailures -= 1;
        throw new Error('injected DynamoDB failure');
      }
      progress = next;
    },
    scanPage: async (cursor) => {
      pagesThisInvocation += 1;
      const start = Number(cursor?.offset ?? 0);
      const profiles = PROFILES.slice(start, start + PAGE);
      return { profiles, ...(start + PAGE < PROFILES.length && { next: { offset: start + PAGE } }) };
    },
    memberships: async (segmentIds, profileIds) => memberships.memberships(segmentIds, profileIds),
    scores: async () => new Map(),
    listEvents: async () => [],
    hasTimeForAnotherPage: () => pagesThisInvocation < (options.pagesPerInvocation ?? Number.POSITIVE_INFINITY),
  };
  return {
    deps,
    memberships,
    outbox,
    emitted,
    progress: () => progress,
    failNextEmits: (count: number) => (emitFailures = count),
    failNextSaves: (count: number) => (saveFailures = count),
    newInvocation: () => (pagesThisInvocation = 0),
  };
}

const [SLICE] = planSlices(RUN, 1);
if (!SLICE) throw new Error('no slice planned');

describe('evaluateSlice', () => {
  it('enters qualifying profiles and exits members that no longer qualify, once each', async () => {
    const h = harness();
    h.memberships.set('gold', 'p01', true); // silver now: must exit
    h.memberships.set('gold', 'p00', true); // still gold: untouched
    const result = await evaluateSlice(SLICE, [GOLD], h.deps);
    expect(result.done).toBe(true);
    expect(h.memberships.membersOf('gold')).toEqual(GOLD_IDS);
    const entered = h.emitted
      .filter((t) => t.event === 'Audience Entered')
      .map((t) => t.profileId)
      .sort();
    expect(entered).toEqual(GOLD_IDS.filter((id) => id !== 'p00'));
    expect(h.emitted.filter((t) => t.event === 'Audience Exited').map((t) => t.profileId)).toEqual(['p01']);
    expect(h.emitted.every((t) => t.runId === 'run-1' && t.at === RUN.at)).toBe(true);
    expect(h.progress()?.counts.gold).toEqual({ evaluated: 25, entered: GOLD_IDS.length - 1, exited: 1 });
  });

  it('stops when out of time and resumes from the next page in the next invocation', async () => {
    const h = harness({ pagesPerInvocation: 1 });
    const first = await evaluateSlice(SLICE, [GOLD], h.deps);
    expect(first.done).toBe(false);
    expect(h.progress()?.pages).toBe(1);
    let slice = first;
    while (!slice.done) {
      h.newInvocation();
      slice = await evaluateSlice(slice, [GOLD], h.deps);
    }
    expect(h.progress()?.pages).toBe(3);
    expect(h.emitted.map((t) => t.profileId).sort()).toEqual(GOLD_IDS);
  });

  it('after a failure between writing and emitting, the retry emits every transition exactly once', async () => {
    const h = harness();
    h.failNextEmits(1);
    await expect(evaluateSlice(SLICE, [GOLD], h.deps)).rejects.toThrow('injected SQS failure');
    expect(h.emitted).toHaveLength(0);
    expect(h.outbox.entries.size).toBeGreaterThan(0);
    const result = await evaluateSlice(SLICE, [GOLD], h.deps);
    expect(result.done).toBe(true);
    const ids = h.emitted.map((t) => t.transitionId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(h.emitted.map((t) => t.profileId).sort()).toEqual(GOLD_IDS);
    expect(h.outbox.entries.size).toBe(0);
  });

  it('after a failure while committing progress or mid-way through applying, the retry neither repeats nor loses a transition', async () => {
    const h = harness();
    h.failNextSaves(1);
    await expect(evaluateSlice(SLICE, [GOLD], h.deps)).rejects.toThrow('injected DynamoDB failure');
    h.memberships.failOn = { call: 2, afterWrite: true };
    await expect(evaluateSlice(SLICE, [GOLD], h.deps)).rejects.toThrow('injected failure after the write');
    h.memberships.failOn = undefined;
    const result = await evaluateSlice(SLICE, [GOLD], h.deps);
    expect(result.done).toBe(true);
    const perProfile = new Map<string, number>();
    for (const t of h.emitted) perProfile.set(t.profileId, (perProfile.get(t.profileId) ?? 0) + 1);
    expect([...perProfile.keys()].sort()).toEqual(GOLD_IDS);
    expect([...perProfile.values()].every((count) => count === 1)).toBe(true);
    expect(h.memberships.membersOf('gold')).toEqual(GOLD_IDS);
  });

  it('does nothing for a run whose segments were all deleted', async () => {
    const h = harness();
    expect(await evaluateSlice(SLICE, [], h.deps)).toMatchObject({ done: true });
    expect(h.emitted).toHaveLength(0);
  });
});

describe('finishRun', () => {
  it('exits members whose profile vanished, adds up the counts and records the size once per segment', async () => {
    const h = harness();
    await evaluateSlice(SLICE, [GOLD], h.deps);
    h.memberships.set('gold', 'erased', true);
    const completed: Array<{ segmentId: string; size: number; counts: unknown }> = [];
    const finished = await finishRun(RUN, [GOLD], {
      applyMembership: h.deps.applyMembership,
      emit: h.deps.emit,
      outbox: new FakeOutbox(),
      listProgress: async () => [h.progress() as SliceProgress],
      async *members(segmentId) {
        yield h.memberships.membersOf(segmentId);
      },
      liveProfileIds: async (ids) => new Set(ids.filter((id) => PROFILES.some((profile) => profile.profileId === id))),
      countMembers: async (segmentId) => h.memberships.membersOf(segmentId).length,
      completeRun: async (segmentId, counts, size) => {
        completed.push({ segmentId, size, counts });
      },
    });
    expect(h.emitted.filter((t) => t.profileId === 'erased').map((t) => t.event)).toEqual(['Audience Exited']);
    expect(finished).toEqual([{ segmentId: 'gold', size: GOLD_IDS.length, counts: { evaluated: 25, entered: GOLD_IDS.length, exited: 1 } }]);
    expect(completed).toHaveLength(1);
  });
});
