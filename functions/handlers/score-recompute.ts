import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { recomputeEnvironment } from '../composition/scoring';
import { recomputeSlice, type RecomputeSlice, type RecomputeSliceProgress } from '../domain/scoring/recompute-slice';

/** Task of the ScoreRecompute state machine (one Map item = one scan slice). */
const logger = new Logger({ serviceName: 'scoreRecompute' });
/** Stop paging with this much time left: a page and its sends take well under it. */
const TIME_RESERVE_MS = 30_000;
const PAGE_SIZE = 500;

export const handler = async (slice: RecomputeSlice, context: Context): Promise<RecomputeSliceProgress> => {
  logger.addContext(context);
  const { liveProfiles, profileChanges } = recomputeEnvironment();
  const progress = await recomputeSlice(slice, {
    scanPage: async ({ segment, totalSegments, cursor }) => liveProfiles.profileIdPage({ segment, totalSegments }, cursor, PAGE_SIZE),
    queueChanges: (changes) => profileChanges.send(changes),
    hasTimeForAnotherPage: () => context.getRemainingTimeInMillis() > TIME_RESERVE_MS,
    now: () => new Date(),
  });
  logger.info('recompute slice progressed', { segment: progress.segment, totalSegments: progress.totalSegments, queued: progress.queued, done: progress.done });
  return progress;
};
