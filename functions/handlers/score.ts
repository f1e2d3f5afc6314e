import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { quarantinePoisonMessages } from '../adapters/poison-message-quarantine';
import { profileEnvironment } from '../composition/profile-environment';
import { scoringEnvironment, type ScoringEnvironment } from '../composition/scoring';
import type { ProfileChange } from '../domain/pipeline/messages';
import { rescoreProfile, type RescoreDependencies } from '../domain/scoring/rescore-profile';
import { PoisonMessageError } from '../domain/shared/poison-message';

/** Scores each ProfileChange (settings: functions/composition/scoring.ts) and passes it on to segment evaluation. */
const logger = new Logger({ serviceName: 'score' });
const processor = new BatchProcessor(EventType.SQS);

/** The profile ids a batch's records name (a record that is not a change is left to scoreRecord). */
function changedProfileIds(records: readonly SQSRecord[]): string[] {
  return records.flatMap((record) => {
    try {
      const change = JSON.parse(record.body) as Partial<ProfileChange> | null;
      return change?.kind === 'profile-change' && typeof change.profileId === 'string' ? [change.profileId] : [];
    } catch {
      return [];
    }
  });
}

/**
 * The batch's profiles and scores read together (two BatchGetItem calls instead of two reads per
 * change), then served to each change; anything else (a survivor's events, writes) as before.
 */
async function batchReads({ profiles, scores }: ScoringEnvironment, profileIds: readonly string[]): Promise<Pick<RescoreDependencies, 'profiles' | 'scores'>> {
  const requested = new Set(profileIds);
  const [found, scored] = await Promise.all([profiles.getProfiles(profileIds), scores.getScoresOf(profileIds)]);
  return {
    profiles: {
      getProfile: async (profileId) => (requested.has(profileId) ? found.get(profileId) : profiles.getProfile(profileId)),
      listEvents: (profile, limit) => profiles.listEvents(profile, limit),
    },
    scores: {
      getScores: async (profileId) => (requested.has(profileId) ? scored.get(profileId) : scores.getScores(profileId)),
      putScores: (profile, values, now) => scores.putScores(profile, values, now),
      retireScores: (ids, now) => scores.retireScores(ids, now),
    },
  };
}

/** Scores one record; its change goes on to segment evaluation through `evaluateSegments`. */
async function scoreRecord(record: SQSRecord, deps: RescoreDependencies): Promise<void> {
  const change = JSON.parse(record.body) as ProfileChange;
  if (change?.kind !== 'profile-change' || typeof change.profileId !== 'string') throw new PoisonMessageError('not a profile change');
  const result = await rescoreProfile(change, deps);
  // Ids, reasons and timings only: scores are personal data.
  logger.info('profile scored', { profileId: change.profileId, reason: change.reason, sqsMessageId: record.messageId, ...result });
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  const shared = scoringEnvironment();
  // The batch's changes go on to segment evaluation in one send (up to 10 per SQS request), not one request per profile.
  const evaluations: ProfileChange[] = [];
  // The models in service at this batch: a promotion or rollback reaches every profile scored after it.
  const [reads, { models }] = await Promise.all([batchReads(shared, changedProfileIds(event.Records)), shared.modelsInService.current()]);
  const deps: RescoreDependencies = {
    ...shared.dependencies,
    settings: { ...shared.dependencies.settings, models },
    ...reads,
    evaluateSegments: async (change) => void evaluations.push(change),
  };
  // A message that can never be scored is quarantined instead of being retried into the DLQ.
  const record = quarantinePoisonMessages({ consumer: 'score', logger, sink: () => profileEnvironment().store }, (sqsRecord) => scoreRecord(sqsRecord, deps));
  const response = await processPartialResponse(event, record, processor, { context });
  // If it cannot be sent the batch fails and is retried: rescoring is idempotent.
  if (evaluations.length > 0) await shared.segmentEvaluation.send(evaluations);
  return response;
};
