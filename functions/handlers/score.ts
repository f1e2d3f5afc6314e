import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createDynamoDbClient } from '../adapters/dynamodb-client';
import { DynamoScoreStore } from '../adapters/dynamodb-score-store';
import type { DynamoProfileStore } from '../adapters/dynamodb-profile-store';
import { loadScoringModels } from '../adapters/model-registry';
import { profileEnvironment } from '../adapters/profile-environment';
import { segmentEvaluationQueue } from '../adapters/pipeline-queues';
import type { SqsJsonQueue } from '../adapters/sqs-message-queue';
import { quarantinePoisonMessages } from '../adapters/poison-message-quarantine';
import { PoisonMessageError } from '../domain/shared/poison-message';
import type { ProfileChange } from '../domain/pipeline/messages';
import { checkScoreNames, type ScoringSettings } from '../domain/scoring/profile-scores';
import { rescoreProfile, type RescoreDependencies } from '../domain/scoring/rescore-profile';
import { DEFAULT_STATE_SCORE_RULES, parseStateScoreRules } from '../domain/scoring/state-scores';

/**
 * Settings (environment):
 * - `PROFILES_TABLE_NAME`, `SEGMENT_EVALUATION_QUEUE_URL` (required);
 * - `DMP_STATE_SCORE_RULES`: JSON rule set replacing the default state scores;
 * - `DMP_SEND_HOUR_POPULATION`: JSON array of 24 numbers, engagement by local hour over all profiles;
 * - `DMP_SCORING_EVENT_LIMIT`: newest events read per profile for the send hour (default 200);
 * - `DMP_SCORING_MODEL_FILES`, `DMP_SCORING_BANDS`: see functions/adapters/model-registry.ts.
 */
const logger = new Logger({ serviceName: 'score' });
const processor = new BatchProcessor(EventType.SQS);

/** What every invocation shares; `evaluateSegments` is per invocation (it collects the batch's changes). */
interface ScoringEnvironment {
  readonly dependencies: Omit<RescoreDependencies, 'evaluateSegments' | 'profiles' | 'scores'>;
  readonly profiles: DynamoProfileStore;
  readonly scores: DynamoScoreStore;
  readonly segmentEvaluation: SqsJsonQueue<ProfileChange>;
}

let environment: ScoringEnvironment | undefined;

function positiveInteger(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

function scoringEnvironment(env: NodeJS.ProcessEnv = process.env): ScoringEnvironment {
  if (environment) return environment;
  const tableName = env.PROFILES_TABLE_NAME;
  if (!tableName) throw new Error('PROFILES_TABLE_NAME must be set');
  const settings: ScoringSettings = {
    models: loadScoringModels(env),
    stateRules: env.DMP_STATE_SCORE_RULES ? parseStateScoreRules(JSON.parse(env.DMP_STATE_SCORE_RULES)) : DEFAULT_STATE_SCORE_RULES,
    ...(env.DMP_SEND_HOUR_POPULATION && { sendHourPopulation: JSON.parse(env.DMP_SEND_HOUR_POPULATION) as number[] }),
    topContributions: 3,
  };
  checkScoreNames(settings);
  environment = {
    profiles: profileEnvironment(env).store,
    scores: new DynamoScoreStore(createDynamoDbClient(), tableName),
    dependencies: {
      settings,
      eventLimit: positiveInteger(env.DMP_SCORING_EVENT_LIMIT, 200, 'DMP_SCORING_EVENT_LIMIT'),
      now: () => new Date(),
    },
    segmentEvaluation: segmentEvaluationQueue(env),
  };
  return environment;
}

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
  const reads = await batchReads(shared, changedProfileIds(event.Records));
  const deps: RescoreDependencies = { ...shared.dependencies, ...reads, evaluateSegments: async (change) => void evaluations.push(change) };
  // A message that can never be scored is quarantined instead of being retried into the DLQ.
  const record = quarantinePoisonMessages({ consumer: 'score', logger, sink: () => profileEnvironment().store }, (sqsRecord) => scoreRecord(sqsRecord, deps));
  const response = await processPartialResponse(event, record, processor, { context });
  // If it cannot be sent the batch fails and is retried: rescoring is idempotent.
  if (evaluations.length > 0) await shared.segmentEvaluation.send(evaluations);
  return response;
};
