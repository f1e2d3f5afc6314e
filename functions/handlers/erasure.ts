import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { erasureDependencies, erasureJobsFromEnvironment } from '../composition/erasure';
import { runErasureStep, type ErasureState } from '../domain/privacy/erasure';

const logger = new Logger({ serviceName: 'erasure' });

/** A partition of events takes well under this: no new one is started with less time left. */
const TIME_RESERVE_MS = 20_000;

/** The Erasure state machine's input to its failure task: the job and the error Step Functions caught. */
export interface ErasureFailure {
  readonly failed: { readonly jobId: string; readonly error?: { readonly Error?: string } };
}

/** Task of the Erasure state machine (lib/constructs/erasure-state-machine.ts): one step of the job, or its failure. */
export const handler = async (event: ErasureState | ErasureFailure, context: Context): Promise<ErasureState | { readonly status: 'failed' }> => {
  logger.addContext(context);
  if ('failed' in event) {
    const error = event.failed.error?.Error ?? 'unknown';
    await erasureJobsFromEnvironment().finish(event.failed.jobId, { status: 'failed', error }, new Date());
    logger.error('erasure failed', { jobId: event.failed.jobId, error });
    return { status: 'failed' };
  }
  const state = await runErasureStep(event, { ...erasureDependencies(), hasTime: () => context.getRemainingTimeInMillis() > TIME_RESERVE_MS });
  // Ids, step and counts only.
  logger.info('erasure step', { jobId: state.jobId, profileId: state.profileId, step: event.step, next: state.step, done: state.done, ...state.counts });
  return state;
};
