import type { ErasureCounts, ErasureJob, ErasureJobs } from '../../ports/erasure-jobs';
import type { AudienceTransition } from '../pipeline/messages';
import { noticeIdOf } from '../segments/membership';
import type { JourneyStore } from '../../ports/journey-store';
import type { ProfileStore } from '../../ports/profile-store';
import type { SegmentRecord, SegmentStore } from '../../ports/segment-store';
import type { WorkflowRuns } from '../../ports/workflow-runs';
import type { ProfileReference } from '../profile/profile-reference';
import { finishInterruptedUnmerges } from '../reconcile/unmerge-profile';

/**
 * An erasure (GDPR art. 17) as a sequence of idempotent steps, each one task of the Erasure state
 * machine, so that a crash or a timeout resumes where it stopped and a retried step does no harm:
 * 1. `suppress`: the identifiers are suppressed first (no later event can re-create the person)
 *    and the profile is marked erased (reads stop finding it);
 * 2. `journeys`: the journey runs the person entered (cart, promotions, audience emails) are
 *    stopped and their send records, which name the profile, deleted;
 * 3. `notify`: every webhook of the segments the person is in is sent a `Profile Deleted` (GDPR
 *    art. 19: the recipients of their data are told), through the Activation queue;
 * 4. `data`: identity links, events, merge log, journey items, of the profile and of every profile
 *    merged into it, the profile item last (repeated while time runs short);
 * 5. `memberships`: segment memberships of all those profiles;
 * 6. `quarantine`: values refused from their messages;
 * 7. `complete`: the job records its counts.
 */
export const ERASURE_STEPS = ['suppress', 'journeys', 'notify', 'data', 'memberships', 'quarantine', 'complete'] as const;
export type ErasureStep = (typeof ERASURE_STEPS)[number];

export interface ErasureState {
  readonly jobId: string;
  readonly profileId: string;
  readonly step: ErasureStep;
  readonly counts: ErasureCounts;
  /** The profile and the profiles merged into it, learned by the `data` step. */
  readonly profileIds: readonly string[];
  readonly done: boolean;
}

export interface ErasureDependencies {
  readonly profiles: Pick<ProfileStore, 'beginErasure' | 'eraseProfileData' | 'deleteQuarantineOf'>;
  readonly segments: Pick<SegmentStore, 'removeProfile' | 'segmentIdsOf' | 'getSegment'>;
  /** Sends `Profile Deleted` notices to the Activation queue (which delivers them to the webhooks). */
  readonly notify: (notices: readonly AudienceTransition[]) => Promise<void>;
  readonly journeys: Pick<JourneyStore, 'cartState' | 'runsOf' | 'forgetRuns'>;
  readonly cartRuns: Pick<WorkflowRuns, 'stop'>;
  /** The runs of the journey a journey key names (cart, promotion, audience email). */
  readonly journeyRuns: (journeyKey: string) => Pick<WorkflowRuns, 'stop' | 'runIdOf'>;
  readonly jobs: Pick<ErasureJobs, 'finish'>;
  /** Whether another partition fits in the invocation's remaining time. */
  readonly hasTime: () => boolean;
  readonly now: () => Date;
}

const NO_COUNTS: ErasureCounts = {
  identitiesSuppressed: 0,
  eventsDeleted: 0,
  profilesErased: 0,
  membershipsRemoved: 0,
  quarantineEntriesRemoved: 0,
  journeyRunsStopped: 0,
  webhookNotices: 0,
};

/** The state an erasure starts from (the state machine's input). */
export const startingState = (jobId: string, profileId: string): ErasureState => ({
  jobId,
  profileId,
  step: 'suppress',
  counts: NO_COUNTS,
  profileIds: [profileId],
  done: false,
});

const after = (step: ErasureStep): ErasureStep => ERASURE_STEPS[Math.min(ERASURE_STEPS.indexOf(step) + 1, ERASURE_STEPS.length - 1)] as ErasureStep;

/** Runs the state's step and answers the next state (`done` once the job is recorded completed). */
export async function runErasureStep(state: ErasureState, deps: ErasureDependencies): Promise<ErasureState> {
  const { counts } = state;
  const next = (changes: Partial<ErasureState>): ErasureState => ({ ...state, step: after(state.step), ...changes });
  switch (state.step) {
    case 'suppress': {
      const begun = await deps.profiles.beginErasure(state.profileId, state.jobId, deps.now());
      // Undefined: the profile item is gone, a previous attempt got further; the next steps are idempotent.
      return next({ counts: { ...counts, identitiesSuppressed: begun?.identitiesSuppressed ?? counts.identitiesSuppressed } });
    }
    case 'journeys': {
      // Every run the person entered is stopped (one that ended stays as it ended), then its
      // records, which name the profile, are deleted: no step of theirs writes after this.
      const [cart, entered] = await Promise.all([deps.journeys.cartState(state.profileId), deps.journeys.runsOf(state.profileId)]);
      if (cart) await deps.cartRuns.stop(cart.executionArn, 'the person was erased');
      for (const { runId, journeyKey } of entered) {
        const runs = deps.journeyRuns(journeyKey);
        await runs.stop(runs.runIdOf(runId), 'the person was erased');
      }
      await deps.journeys.forgetRuns([...new Set([...entered.map(({ runId }) => runId), ...(cart ? [cart.runId] : [])])]);
      return next({ counts: { ...counts, journeyRunsStopped: counts.journeyRunsStopped + (cart ? 1 : 0) + entered.length } });
    }
    case 'notify': {
      const segmentIds = await deps.segments.segmentIdsOf(state.profileId);
      const segments = (await Promise.all(segmentIds.map((segmentId) => deps.segments.getSegment(segmentId)))).filter(
        // A dialer that was handed the person is told too.
        (segment): segment is SegmentRecord =>
          segment?.destinations.some((destination) => destination.type === 'webhook' || destination.type === 'call_center') === true,
      );
      const at = deps.now().toISOString();
      const notices = segments.map((segment): AudienceTransition => ({
        kind: 'audience-transition',
        event: 'Profile Deleted',
        segmentId: segment.id,
        segmentName: segment.name,
        profileId: state.profileId,
        at,
        // One notice per job and segment, whatever the retries: receivers dedupe on it.
        transitionId: noticeIdOf('erased', state.jobId, segment.id),
      }));
      if (notices.length > 0) await deps.notify(notices);
      return next({ counts: { ...counts, webhookNotices: counts.webhookNotices + notices.length } });
    }
    case 'data': {
      const progress = await deps.profiles.eraseProfileData(state.profileId, deps.now(), deps.hasTime);
      const profileIds = [...new Set([...state.profileIds, ...progress.profileIds])];
      const advanced = { counts: { ...counts, eventsDeleted: counts.eventsDeleted + progress.eventsDeleted, profilesErased: profileIds.length }, profileIds };
      return progress.done ? next(advanced) : { ...state, ...advanced };
    }
    case 'memberships': {
      let removed = 0;
      for (const profileId of state.profileIds) removed += (await deps.segments.removeProfile(profileId)).memberships;
      return next({ counts: { ...counts, membershipsRemoved: counts.membershipsRemoved + removed } });
    }
    case 'quarantine': {
      const removed = await deps.profiles.deleteQuarantineOf(state.profileIds);
      return next({ counts: { ...counts, quarantineEntriesRemoved: counts.quarantineEntriesRemoved + removed } });
    }
    case 'complete':
      await deps.jobs.finish(state.jobId, { status: 'completed', counts }, deps.now());
      return { ...state, done: true };
  }
}

export interface ErasureRequestDependencies {
  readonly profiles: Pick<ProfileStore, 'getProfile' | 'findProfile' | 'erasureJobOf' | 'listMergeLog' | 'finishUnmerges'>;
  readonly jobs: Pick<ErasureJobs, 'create' | 'get' | 'jobOfProfile'>;
  readonly runs: Pick<WorkflowRuns, 'start'>;
  readonly now: () => Date;
}

/**
 * `DELETE /v1/profiles/{ref}`: starts the erasure of the person the reference resolves to, or
 * answers the job that erased them already (the reference no longer resolves then: the job is
 * found from the suppression record of the identifier, or the erased profile's pointer).
 * Undefined when nobody was ever known by that reference.
 */
export async function requestErasure(reference: ProfileReference, deps: ErasureRequestDependencies): Promise<ErasureJob | undefined> {
  const profile = reference.kind === 'profile' ? await deps.profiles.getProfile(reference.profileId) : await deps.profiles.findProfile(reference.identifier);
  if (!profile) {
    if (reference.kind === 'profile') return deps.jobs.jobOfProfile(reference.profileId);
    const jobId = await deps.profiles.erasureJobOf(reference.identifier);
    return jobId === undefined ? undefined : deps.jobs.get(jobId);
  }
  // An un-merge of this person interrupted half way leaves copies of their events with the other profile: finish it first.
  await finishInterruptedUnmerges(deps.profiles, profile);
  // One job per profile: a repeated request, even a concurrent one, names the same job and the same run.
  const job = await deps.jobs.create(profile.profileId, deps.now());
  if (job.status === 'running') await deps.runs.start(job.jobId, startingState(job.jobId, profile.profileId));
  return job;
}
