import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DynamoScoreStore } from '../adapters/dynamodb-score-store';
import { loadScoringModels } from '../adapters/model-registry';
import { profileEnvironment } from '../adapters/profile-environment';
import { SqsJsonQueue } from '../adapters/sqs-message-queue';
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

let dependencies: RescoreDependencies | undefined;

function positiveInteger(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

function scoringDependencies(env: NodeJS.ProcessEnv = process.env): RescoreDependencies {
  if (dependencies) return dependencies;
  const tableName = env.PROFILES_TABLE_NAME;
  const queueUrl = env.SEGMENT_EVALUATION_QUEUE_URL;
  if (!tableName || !queueUrl) throw new Error('PROFILES_TABLE_NAME and SEGMENT_EVALUATION_QUEUE_URL must be set');
  const settings: ScoringSettings = {
    models: loadScoringModels(env),
    stateRules: env.DMP_STATE_SCORE_RULES ? parseStateScoreRules(JSON.parse(env.DMP_STATE_SCORE_RULES)) : DEFAULT_STATE_SCORE_RULES,
    ...(env.DMP_SEND_HOUR_POPULATION && { sendHourPopulation: JSON.parse(env.DMP_SEND_HOUR_POPULATION) as number[] }),
    topContributions: 3,
  };
  checkScoreNames(settings);
  const segmentEvaluation = new SqsJsonQueue<ProfileChange>({
    client: new SQSClient({}),
    queueUrl,
    attributesOf: (change) => ({ kind: change.kind, reason: change.reason }),
  });
  dependencies = {
    profiles: profileEnvironment(env).store,
    scores: new DynamoScoreStore(new DynamoDBClient({}), tableName),
    evaluateSegments: (change) => segmentEvaluation.send([change]),
    settings,
    eventLimit: positiveInteger(env.DMP_SCORING_EVENT_LIMIT, 200, 'DMP_SCORING_EVENT_LIMIT'),
    now: () => new Date(),
  };
  return dependencies;
}

async function scoreRecord(record: SQSRecord): Promise<void> {
  const change = JSON.parse(record.body) as ProfileChange;
  if (change.kind !== 'profile-change' || typeof change.profileId !== 'string') throw new Error('not a profile change');
  const result = await rescoreProfile(change, scoringDependencies());
  // Ids, reasons and timings only: scores are personal data.
  logger.info('profile scored', { profileId: change.profileId, reason: change.reason, sqsMessageId: record.messageId, ...result });
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  return processPartialResponse(event, scoreRecord, processor, { context });
};
