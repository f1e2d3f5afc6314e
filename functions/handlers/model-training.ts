import { Logger } from '@aws-lambda-powertools/logger';
import { failureReason, type StepFailure } from '../adapters/step-functions-failure';
import type { Context } from 'aws-lambda';
import { modelEnvironment } from '../composition/model-environment';
import {
  type ExportProgress,
  type ExportSlice,
  exportExamplesSlice,
  failTrainingJob,
  type JobRef,
  keepCurrentModel,
  type PlannedJob,
  planTrainingJob,
  promoteCandidate,
  trainCandidate,
  type TrainingRequest,
} from '../domain/scoring/training-job';
import type { TrainingJobStatus } from '../domain/scoring/model-versions';

const logger = new Logger({ serviceName: 'modelTraining' });

/** Parallel scan slices of the export. */
const EXPORT_SLICES = 8;
/** Profiles per scan page (each costs an events query). */
const EXPORT_PAGE_SIZE = 200;
/** An invocation starts no new page with less time than this left. */
const PAGE_TIME_RESERVE_MS = 60_000;

export type ModelTrainingTask =
  | { readonly action: 'plan'; readonly request: TrainingRequest; readonly executionName: string }
  | { readonly action: 'export-slice'; readonly slice: ExportSlice }
  | { readonly action: 'train'; readonly job: JobRef }
  | { readonly action: 'promote'; readonly job: JobRef }
  | { readonly action: 'keep'; readonly job: JobRef }
  | {
      readonly action: 'fail';
      readonly state: { readonly job?: JobRef; readonly failure?: StepFailure } & Partial<TrainingRequest>;
    };

const now = () => new Date();

async function plan(task: Extract<ModelTrainingTask, { action: 'plan' }>): Promise<PlannedJob> {
  const { store, models } = modelEnvironment();
  const planned = await planTrainingJob(task.request, task.executionName, EXPORT_SLICES, { store, models, now });
  logger.info('training job planned', { ...planned.job, trigger: task.request.trigger });
  return planned;
}

async function exportSlice(task: Extract<ModelTrainingTask, { action: 'export-slice' }>, context: Context): Promise<ExportProgress> {
  const { store, liveProfiles, profiles, purposeConfig } = modelEnvironment();
  const progress = await exportExamplesSlice(task.slice, {
    profilePage: (slice) => liveProfiles.profilePage(slice, slice.cursor, EXPORT_PAGE_SIZE),
    listEvents: async (profile) => (await profiles.listEvents(profile, Number.MAX_SAFE_INTEGER)).map((event) => event.message),
    store,
    hasTimeForAnotherPage: () => context.getRemainingTimeInMillis() > PAGE_TIME_RESERVE_MS,
    purposeConfig,
    now,
  });
  logger.info('training examples exported', {
    score: progress.score,
    jobId: progress.jobId,
    segment: progress.segment,
    exported: progress.exported,
    done: progress.done,
  });
  return progress;
}

async function finished(job: { readonly score: string; readonly jobId: string; readonly status: TrainingJobStatus; readonly reason?: string }) {
  logger.info('training job finished', { score: job.score, jobId: job.jobId, status: job.status, reason: job.reason });
  return { score: job.score, jobId: job.jobId, status: job.status };
}

/** The tasks of the ModelTraining state machine (lib/constructs/model-training-state-machine.ts). */
export const handler = async (task: ModelTrainingTask, context: Context): Promise<unknown> => {
  logger.addContext(context);
  const environment = modelEnvironment();
  switch (task.action) {
    case 'plan':
      return plan(task);
    case 'export-slice':
      return exportSlice(task, context);
    case 'train': {
      const trained = await trainCandidate(task.job, { ...environment, now });
      logger.info('candidate trained', { ...trained });
      return trained;
    }
    case 'promote':
      return finished(
        await promoteCandidate(task.job, {
          ...environment,
          startRescore: async (reason) => void (await environment.rescore.start(`model-${task.job.jobId}`, { trigger: 'model-promotion', reason })),
          now,
        }),
      );
    case 'keep':
      return finished(await keepCurrentModel(task.job, { store: environment.store, now }));
    case 'fail': {
      const reason = failureReason(task.state.failure, 'ModelTrainingRefusal', 'job');
      const failed = await failTrainingJob(
        task.state.job ?? { ...(task.state.score && { score: task.state.score }), ...(task.state.jobId && { jobId: task.state.jobId }) },
        reason,
        {
          store: environment.store,
          now,
        },
      );
      logger.warn('training job failed', { score: task.state.job?.score ?? task.state.score, jobId: task.state.job?.jobId ?? task.state.jobId, reason });
      return { status: failed?.status ?? 'failed' };
    }
  }
};
