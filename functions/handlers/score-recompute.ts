import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { createDynamoDbClient } from '../adapters/dynamodb-client';
import { scanLiveProfilePage } from '../adapters/dynamodb-profile-store';
import type { SqsJsonQueue } from '../adapters/sqs-message-queue';
import { profileChangesQueue } from '../adapters/pipeline-queues';
import type { ProfileChange } from '../domain/pipeline/messages';
import { recomputeSlice, type RecomputeSlice, type RecomputeSliceProgress } from '../domain/scoring/recompute-slice';

/**
 * Task of the ScoreRecompute state machine (one Map item = one scan slice). Needs
 * `PROFILES_TABLE_NAME` and `PROFILE_CHANGES_QUEUE_URL`.
 */
const logger = new Logger({ serviceName: 'scoreRecompute' });
/** Stop paging with this much time left: a page and its sends take well under it. */
const TIME_RESERVE_MS = 30_000;
const PAGE_SIZE = 500;

let clients: { doc: DynamoDBDocumentClient; queue: SqsJsonQueue<ProfileChange>; tableName: string } | undefined;

function recomputeClients(): NonNullable<typeof clients> {
  if (clients) return clients;
  const tableName = process.env.PROFILES_TABLE_NAME;
  if (!tableName) throw new Error('PROFILES_TABLE_NAME must be set');
  clients = {
    doc: DynamoDBDocumentClient.from(createDynamoDbClient()),
    queue: profileChangesQueue(),
    tableName,
  };
  return clients;
}

export const handler = async (slice: RecomputeSlice, context: Context): Promise<RecomputeSliceProgress> => {
  logger.addContext(context);
  const { doc, queue, tableName } = recomputeClients();
  const progress = await recomputeSlice(slice, {
    scanPage: async ({ segment, totalSegments, cursor }) => {
      const page = await scanLiveProfilePage(doc, tableName, {
        segment,
        totalSegments,
        pageSize: PAGE_SIZE,
        projection: 'profileId',
        ...(cursor !== undefined && { from: JSON.parse(cursor) as Record<string, unknown> }),
      });
      return {
        profileIds: page.items.map((item) => item.profileId as string),
        ...(page.next && { cursor: JSON.stringify(page.next) }),
      };
    },
    queueChanges: (changes) => queue.send(changes),
    hasTimeForAnotherPage: () => context.getRemainingTimeInMillis() > TIME_RESERVE_MS,
    now: () => new Date(),
  });
  logger.info('recompute slice progressed', { segment: progress.segment, totalSegments: progress.totalSegments, queued: progress.queued, done: progress.done });
  return progress;
};
