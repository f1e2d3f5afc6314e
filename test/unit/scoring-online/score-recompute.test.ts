import { Template } from 'aws-cdk-lib/assertions';
import { SCORE_RECOMPUTE_STATE_MACHINE } from '../../../lib/definitions/state-machines';
import { definePlatform } from '../../../lib/stacks/platform';
import type { ProfileChange } from '../../../functions/domain/pipeline/messages';
import { recomputeSlice, type RecomputeSlice } from '../../../functions/domain/scoring/recompute-slice';
import { newTestApp } from '../../infra/platform-fixture';

describe('a recompute slice', () => {
  const pages: Record<string, { profileIds: string[]; cursor?: string }> = {
    start: { profileIds: ['p1', 'p2'], cursor: 'c1' },
    c1: { profileIds: ['p3'], cursor: 'c2' },
    c2: { profileIds: [] },
  };
  const now = new Date('2026-11-24T03:00:00.000Z');

  function run(slice: RecomputeSlice, pagesThatFit: number): Promise<{ progress: Awaited<ReturnType<typeof recomputeSlice>>; queued: ProfileChange[] }> {
    const queued: ProfileChange[] = [];
    let pagesLeft = pagesThatFit;
    return recomputeSlice(slice, {
      scanPage: async ({ cursor }) => pages[cursor ?? 'start']!,
      queueChanges: async (changes) => {
        queued.push(...changes);
      },
      hasTimeForAnotherPage: () => (pagesLeft -= 1) > 0,
      now: () => now,
    }).then((progress) => ({ progress, queued }));
  }

  it('queues a recompute change per profile until the scan ends', async () => {
    const { progress, queued } = await run({ segment: 2, totalSegments: 8 }, 10);
    expect(progress).toEqual({ segment: 2, totalSegments: 8, done: true, queued: 3 });
    expect(queued).toEqual(['p1', 'p2', 'p3'].map((profileId) => ({ kind: 'profile-change', profileId, reason: 'recompute', at: now.toISOString() })));
  });

  it('returns a cursor when time runs short, and resumes from it', async () => {
    const first = await run({ segment: 0, totalSegments: 8 }, 1);
    expect(first.progress).toEqual({ segment: 0, totalSegments: 8, cursor: 'c1', done: false, queued: 2 });
    const second = await run(first.progress, 10);
    expect(second.progress).toMatchObject({ done: true, queued: 1 });
    expect(second.queued.map((change) => change.profileId)).toEqual(['p3']);
  });
});

describe('the ScoreRecompute state machine', () => {
  // As definePlatform wires it: in the processing stack, beside its task function.
  const app = newTestApp();
  const platform = definePlatform(app);
  const template = Template.fromStack(platform.processing);

  it('is started every night at 03:00 UTC by a static schedule', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 3 * * ? *)', State: 'ENABLED' });
  });

  it('maps over eight scan slices, looping on a slice until it is done', () => {
    const machine = template.toJSON().Resources[SCORE_RECOMPUTE_STATE_MACHINE.id];
    expect(machine?.Type).toBe('AWS::StepFunctions::StateMachine');
    const definition = JSON.stringify(machine.Properties.DefinitionString);
    expect(definition).toContain('\\"segment\\":7,\\"totalSegments\\":8');
    expect(definition).toContain('\\"MoreToScan\\"');
    expect(definition).toContain('\\"ItemsPath\\":\\"$.slices\\"');
  });

  it('passes the security checks of every synth', () => {
    expect(() => app.synth()).not.toThrow();
  });
});
