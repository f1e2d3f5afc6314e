/**
 * What a run that changes memberships in bulk needs from the stores (the segment rebuild, and a
 * lookalike's run for its audience): the membership writer and the finishing step's dependencies.
 */
import type { FinishDependencies } from '../domain/segments/rebuild/finish-run';
import type { MembershipWriter } from '../domain/segments/rebuild/evaluate-slice';
import type { RebuildRun } from '../domain/segments/rebuild/plan';
import type { SegmentEvaluationEnvironment } from './segment-evaluation-environment';

/**
 * How a run writes memberships: one change at a time in a transaction that keeps the size (a
 * rebuild, racing real-time evaluation), or in bulk when the run alone writes them (`bulk`: a
 * lookalike's audience, whose size the run sets when it finishes).
 */
export function membershipWriter(environment: SegmentEvaluationEnvironment, options: { readonly bulk?: boolean } = {}): MembershipWriter {
  const { segments } = environment;
  return {
    applyMembership: (segment, profileId, shouldBeMember, at, runId) => segments.applyMembership(segment, profileId, shouldBeMember, at, runId),
    ...(options.bulk && { applyMembershipsInBulk: (segment, intents, at, runId) => segments.applyMembershipsInBulk(segment, intents, at, runId) }),
    emit: (transitions) => environment.activation.send(transitions),
  };
}

async function* membersOf(environment: SegmentEvaluationEnvironment, segmentId: string): AsyncIterable<readonly string[]> {
  let cursor: string | undefined;
  do {
    const page = await environment.segments.listMembers(segmentId, { limit: 100, ...(cursor && { cursor }) });
    yield page.members.map((member) => member.profileId);
    cursor = page.next;
  } while (cursor);
}

/** The finishing sweep, counts and run record of `run`, through the run's own outbox partition (`bulk` as membershipWriter). */
export function finishDependencies(environment: SegmentEvaluationEnvironment, run: RebuildRun, options: { readonly bulk?: boolean } = {}): FinishDependencies {
  const { rebuild, segments } = environment;
  return {
    ...membershipWriter(environment, options),
    outbox: rebuild.outbox(run.runId, 'sweep', () => new Date()),
    listProgress: () => rebuild.listProgress(run.runId),
    members: (segmentId) => membersOf(environment, segmentId),
    liveProfileIds: (profileIds) => rebuild.liveProfileIds(profileIds),
    countMembers: (segmentId) => segments.countMembers(segmentId),
    completeRun: async (segmentId, counts, size) => {
      // A repeated finish (after a crash) must not add the counts twice.
      const current = await segments.getRun(segmentId, run.runId);
      if (current?.status !== 'running') return;
      const finishedAt = new Date().toISOString();
      await segments.addRunCounts(segmentId, run.runId, counts);
      await segments.recordSize(segmentId, { at: finishedAt, size, runId: run.runId });
      if (options.bulk) await segments.setSize(segmentId, size);
      await segments.finishRun(segmentId, run.runId, {
        status: 'succeeded',
        finishedAt,
        size,
        audience: { entered: counts.entered, exited: counts.exited },
      });
    },
  };
}
