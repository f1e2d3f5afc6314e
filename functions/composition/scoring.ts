import { DynamoLiveProfiles } from '../adapters/dynamodb-live-profiles';
import { DynamoScoreStore } from '../adapters/dynamodb-score-store';
import { DynamoModelStore } from '../adapters/dynamodb-model-store';
import { loadScoringModels } from '../adapters/model-registry';
import { ModelsInService } from '../domain/scoring/models-in-service';
import type { SqsJsonQueue } from '../adapters/sqs-message-queue';
import type { ProfileChange } from '../domain/pipeline/messages';
import { checkScoreNames, type ScoringSettings } from '../domain/scoring/profile-scores';
import type { RescoreDependencies } from '../domain/scoring/rescore-profile';
import { stateScoreRulesOf } from '../domain/scoring/state-scores';
import type { LiveProfiles } from '../ports/live-profiles';
import type { ProfileStore } from '../ports/profile-store';
import type { BatchScoreStore } from '../ports/score-store';
import { profileChangesQueue, segmentEvaluationQueue } from './pipeline-queues';
import { profileEnvironment } from './profile-environment';
import { positiveSetting } from './settings';

/**
 * What the Score function shares between invocations, from its environment:
 * - `PROFILES_TABLE_NAME`, `SEGMENT_EVALUATION_QUEUE_URL` (required);
 * - `DMP_STATE_SCORE_RULES`: JSON rule set replacing the default state scores;
 * - `DMP_SEND_HOUR_POPULATION`: JSON array of 24 numbers, engagement by local hour over all profiles;
 * - `DMP_SCORING_EVENT_LIMIT`: newest events read per profile for the send hour (default 200);
 * - `DMP_SCORING_MODEL_FILES`, `DMP_SCORING_BANDS`: the priors, see functions/adapters/model-registry.ts;
 *   a version promoted by retraining (docs/contract.md §14) serves instead of its prior.
 * `evaluateSegments` and the batch's reads are per invocation.
 */
export interface ScoringEnvironment {
  /** `settings.models` holds the priors: the models in service replace them at every batch. */
  readonly dependencies: Omit<RescoreDependencies, 'evaluateSegments' | 'profiles' | 'scores'>;
  readonly modelsInService: ModelsInService;
  readonly profiles: ProfileStore;
  readonly scores: BatchScoreStore;
  readonly segmentEvaluation: SqsJsonQueue<ProfileChange>;
}

let scoring: ScoringEnvironment | undefined;

export function scoringEnvironment(env: NodeJS.ProcessEnv = process.env): ScoringEnvironment {
  if (scoring) return scoring;
  const { dynamo, tableName, store, purposeConfig } = profileEnvironment(env);
  const priors = loadScoringModels(env);
  const settings: ScoringSettings = {
    models: priors,
    stateRules: stateScoreRulesOf(env.DMP_STATE_SCORE_RULES),
    ...(env.DMP_SEND_HOUR_POPULATION && { sendHourPopulation: JSON.parse(env.DMP_SEND_HOUR_POPULATION) as number[] }),
    topContributions: 3,
  };
  checkScoreNames(settings);
  scoring = {
    profiles: store,
    scores: new DynamoScoreStore(dynamo, tableName),
    modelsInService: new ModelsInService(new DynamoModelStore(dynamo, tableName), priors),
    dependencies: {
      settings,
      eventLimit: positiveSetting(env, 'DMP_SCORING_EVENT_LIMIT', 200, { integer: true }),
      purposeConfig,
      now: () => new Date(),
    },
    segmentEvaluation: segmentEvaluationQueue(env),
  };
  return scoring;
}

/** The ScoreRecompute task's: the live profiles to walk and the ProfileChanges queue (`PROFILE_CHANGES_QUEUE_URL`). */
export interface RecomputeEnvironment {
  readonly liveProfiles: LiveProfiles;
  readonly profileChanges: SqsJsonQueue<ProfileChange>;
}

let recompute: RecomputeEnvironment | undefined;

export function recomputeEnvironment(env: NodeJS.ProcessEnv = process.env): RecomputeEnvironment {
  if (recompute) return recompute;
  const { dynamo, tableName } = profileEnvironment(env);
  recompute = { liveProfiles: new DynamoLiveProfiles(dynamo, tableName), profileChanges: profileChangesQueue(env) };
  return recompute;
}
