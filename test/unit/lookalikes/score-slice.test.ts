import type { AudienceTransition } from '../../../functions/domain/pipeline/messages';
import { bandOfScore } from '../../../functions/domain/lookalikes/audience';
import {
  scoreSlice,
  totalTallies,
  type LookalikeRunPlan,
  type LookalikeSlice,
  type LookalikeSliceDependencies,
} from '../../../functions/domain/lookalikes/score-slice';
import type { ProfileRecord } from '../../../functions/domain/profile/profile';
import type { ScanCursor, SliceProgress } from '../../../functions/domain/segments/rebuild/evaluate-slice';
import { FakeMemberships, FakeOutbox, profileWithPlan } from '../segments-rebuild/fakes';

const AT = '2026-12-03T10:00:00.000Z';
const PLAN: LookalikeRunPlan = {
  lookalikeId: 'buyers',
  runId: 'run-1',
  at: AT,
  seed: 'seed',
  audience: { id: 'lookalike-buyers', name: 'Lookalike: buyers' },
  rule: { minScore: 0.9 },
};
const SLICE: LookalikeSlice = { lookalikeId: 'buyers', runId: 'run-1', segment: 0, totalSegments: 1, done: false };

/** Profile i scores i / 10 (its `plan` trait holds the number); p9 objects to analytics. */
const PROFILES: ProfileRecord[] = Array.from({ length: 10 }, (_, i) => profileWithPlan(`p${i}`, String(i)));
const PAGE_SIZE = 3;

function harness(options: { pagesPerInvocation?: number; candidates?: string } = {}) {
  const memberships = new FakeMemberships();
  const outbox = new FakeOutbox();
  const emitted: AudienceTransition[] = [];
  const written: Array<{ startPage: number; scores: ReadonlyArray<readonly [string, number]> }> = [];
  let progress: SliceProgress | undefined;
  let pagesThisInvocation = 0;
  let failWrite = false;
  const plan = { ...PLAN, ...(options.candidates && { candidates: options.candidates }) };
  const deps: LookalikeSliceDependencies = {
    outbox,
    applyMembership: (segment, profileId, shouldBeMember, at, runId) => memberships.applyMembership(segment, profileId, shouldBeMember, at, runId),
    emit: async (transitions) => {
      emitted.push(...transitions);
    },
    loadProgress: async () => progress,
    saveProgress: async (previousPages, next) => {
      if ((progress?.pages ?? 0) !== previousPages) throw new Error('progress conflict');
      progress = next;
    },
    scanPage: async (cursor: ScanCursor | undefined) => {
      pagesThisInvocation++;
      const start = (cursor?.next as number | undefined) ?? 0;
      const next = start + PAGE_SIZE;
      return { profiles: PROFILES.slice(start, next), ...(next < PROFILES.length && { next: { next } }) };
    },
    memberships: async (segmentIds, profileIds) => memberships.memberships(segmentIds, profileIds),
    scores: async () => new Map(),
    readsScores: false,
    score: (row) => {
      const score = Number(row['trait:plan']) / 10;
      return { score, band: bandOfScore(score), modelVersion: 'lal-1' };
    },
    mayBeScored: (profile) => profile.profileId !== 'p9',
    writeScores: async (startPage, scores) => {
      if (failWrite) {
        failWrite = false;
        throw new Error('injected failure writing scores');
      }
      written.push({ startPage, scores });
    },
    hasTimeForAnotherPage: () => pagesThisInvocation < (options.pagesPerInvocation ?? Number.POSITIVE_INFINITY),
  };
  const run = async (): Promise<LookalikeSlice> => {
    pagesThisInvocation = 0;
    return scoreSlice(SLICE, plan, deps);
  };
  return { memberships, emitted, written, run, progress: () => progress, failNextWrite: () => (failWrite = true) };
}

const scoredIds = (written: ReadonlyArray<{ scores: ReadonlyArray<readonly [string, number]> }>) =>
  written.flatMap((item) => item.scores.map(([id]) => id)).sort();

describe('scoreSlice', () => {
  test('scores every candidate, keeps the top in the audience and the seed and objectors out', async () => {
    const { memberships, emitted, written, run, progress } = harness();
    memberships.set('seed', 'p8', true);
    memberships.set('lookalike-buyers', 'p8', true);
    memberships.set('lookalike-buyers', 'p9', true);
    expect(await run()).toMatchObject({ done: true });
    expect(scoredIds(written)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']);
    // Nobody scored 0.9 or more: p8 (now seed) and p9 (objects to analytics) leave the audience.
    expect(memberships.membersOf('lookalike-buyers')).toEqual([]);
    expect(emitted.map((transition) => `${transition.event} ${transition.profileId}`).sort()).toEqual(['Audience Exited p8', 'Audience Exited p9']);
    expect(progress()?.counts['lookalike-buyers']).toEqual({ evaluated: 10, entered: 0, exited: 2 });
    expect(totalTallies([progress() as SliceProgress])).toEqual({ high: 0, medium: 1, low: 7, withheld: 1 });
  });

  test('a candidate segment limits who is scored', async () => {
    const { memberships, written, run } = harness({ candidates: 'visitors' });
    for (const id of ['p1', 'p2', 'p7']) memberships.set('visitors', id, true);
    await run();
    expect(scoredIds(written)).toEqual(['p1', 'p2', 'p7']);
  });

  test('in several invocations, each writes the scores of its pages from its first page', async () => {
    const { written, run } = harness({ pagesPerInvocation: 2 });
    expect(await run()).toMatchObject({ done: false });
    expect(await run()).toMatchObject({ done: true });
    expect(written.map((item) => item.startPage)).toEqual([0, 2]);
    expect(scoredIds(written)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8']);
  });

  test('a retried invocation scores the same pages again and emits each change once', async () => {
    const { memberships, emitted, written, run, failNextWrite, progress } = harness();
    memberships.set('lookalike-buyers', 'p9', true);
    failNextWrite();
    await expect(run()).rejects.toThrow('injected failure writing scores');
    expect(progress()).toBeUndefined();
    await run();
    expect(written.map((item) => item.startPage)).toEqual([0]);
    expect(scoredIds(written)).toHaveLength(9);
    expect(emitted.map((transition) => `${transition.event} ${transition.profileId}`)).toEqual(['Audience Exited p9']);
    expect(memberships.membersOf('lookalike-buyers')).toEqual([]);
  });
});
