import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoLiveProfiles } from '../adapters/dynamodb-live-profiles';
import { DynamoModelStore } from '../adapters/dynamodb-model-store';
import { loadScoringModels } from '../adapters/model-registry';
import { stateMachineArnFromEnv, StepFunctionsWorkflow } from '../adapters/step-functions-runs';
import { ModelsInService } from '../domain/scoring/models-in-service';
import type { LiveProfiles } from '../ports/live-profiles';
import type { ModelStore } from '../ports/model-store';
import type { ProfileStore } from '../ports/profile-store';
import type { WorkflowRuns } from '../ports/workflow-runs';
import type { PurposeConfig } from '../domain/privacy/purposes';
import { profileEnvironment } from './profile-environment';
import { MODEL_TRAINING_STATE_MACHINE, SCORE_RECOMPUTE_STATE_MACHINE } from '../../lib/definitions/state-machines';

/**
 * What the Models API and the retraining job's tasks share: the model store, the models in
 * service (priors from functions/adapters/model-registry.ts), the profiles to learn from, and the
 * two workflows they start: retraining (`MODEL_TRAINING_STATE_MACHINE_ARN`) and the score
 * recompute that follows a promotion or rollback (`SCORE_RECOMPUTE_STATE_MACHINE_ARN`).
 */
export interface ModelEnvironment {
  readonly store: ModelStore;
  readonly models: ModelsInService;
  readonly liveProfiles: LiveProfiles;
  readonly profiles: ProfileStore;
  readonly purposeConfig: PurposeConfig;
  readonly training: WorkflowRuns;
  readonly rescore: WorkflowRuns;
}

let cached: ModelEnvironment | undefined;

export function modelEnvironment(env: NodeJS.ProcessEnv = process.env): ModelEnvironment {
  if (cached) return cached;
  const { dynamo, tableName, store, purposeConfig } = profileEnvironment(env);
  const sfn = new SFNClient({});
  const models = new DynamoModelStore(dynamo, tableName);
  cached = {
    store: models,
    models: new ModelsInService(models, loadScoringModels(env)),
    liveProfiles: new DynamoLiveProfiles(dynamo, tableName),
    profiles: store,
    purposeConfig,
    training: new StepFunctionsWorkflow(sfn, () => stateMachineArnFromEnv(MODEL_TRAINING_STATE_MACHINE.envName, env)),
    rescore: new StepFunctionsWorkflow(sfn, () => stateMachineArnFromEnv(SCORE_RECOMPUTE_STATE_MACHINE.envName, env)),
  };
  return cached;
}
