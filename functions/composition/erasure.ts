import { SFNClient } from '@aws-sdk/client-sfn';
import {
  AUDIENCE_EMAIL_STATE_MACHINE,
  CART_ABANDONMENT_STATE_MACHINE,
  ERASURE_STATE_MACHINE,
  PRODUCT_VIEW_STATE_MACHINE,
} from '../../lib/definitions/state-machines';
import { isAudienceJourneyKey } from '../domain/reports/journey-counters';
import { DynamoErasureJobs } from '../adapters/dynamodb-erasure-jobs';
import { pseudonymsFromEnvironment } from '../adapters/secure-parameter';
import { stateMachineArnFromEnv, StepFunctionsWorkflow } from '../adapters/step-functions-runs';
import type { ErasureDependencies } from '../domain/privacy/erasure';
import type { ErasureJobs } from '../ports/erasure-jobs';
import type { WorkflowRuns } from '../ports/workflow-runs';
import { journeyStoreFromEnvironment } from './journey-environment';
import { activationQueue } from './pipeline-queues';
import { profileEnvironment } from './profile-environment';

let jobs: ErasureJobs | undefined;

/** The erasure jobs on the profiles table (`PROFILES_TABLE_NAME`), once per container. */
export function erasureJobsFromEnvironment(env: NodeJS.ProcessEnv = process.env): ErasureJobs {
  if (jobs) return jobs;
  const { dynamo, tableName, retention } = profileEnvironment(env);
  jobs = new DynamoErasureJobs(dynamo, tableName, pseudonymsFromEnvironment(env), retention.erasureJobs);
  return jobs;
}

let erasureRuns: WorkflowRuns | undefined;

/** The Erasure state machine (`ERASURE_STATE_MACHINE_ARN`), for the Profile API that starts it. */
export function erasureRunsFromEnvironment(env: NodeJS.ProcessEnv = process.env): WorkflowRuns {
  erasureRuns ??= new StepFunctionsWorkflow(new SFNClient({}), () => stateMachineArnFromEnv(ERASURE_STATE_MACHINE.envName, env));
  return erasureRuns;
}

let cached: Omit<ErasureDependencies, 'hasTime'> | undefined;

/** The Erasure task's: profile, segment and journey stores, the cart journey runs to stop, the jobs. */
export function erasureDependencies(env: NodeJS.ProcessEnv = process.env): Omit<ErasureDependencies, 'hasTime'> {
  if (cached) return cached;
  const { store, segments } = profileEnvironment(env);
  const sfn = new SFNClient({});
  const journeyRuns = new Map(
    [CART_ABANDONMENT_STATE_MACHINE, PRODUCT_VIEW_STATE_MACHINE, AUDIENCE_EMAIL_STATE_MACHINE].map((machine) => [
      machine,
      new StepFunctionsWorkflow(sfn, () => stateMachineArnFromEnv(machine.envName, env)),
    ]),
  );
  cached = {
    profiles: store,
    segments,
    journeys: journeyStoreFromEnvironment(env),
    cartRuns: journeyRuns.get(CART_ABANDONMENT_STATE_MACHINE) as StepFunctionsWorkflow,
    journeyRuns: (journeyKey) =>
      journeyRuns.get(
        journeyKey === 'product-view'
          ? PRODUCT_VIEW_STATE_MACHINE
          : isAudienceJourneyKey(journeyKey)
            ? AUDIENCE_EMAIL_STATE_MACHINE
            : CART_ABANDONMENT_STATE_MACHINE,
      ) as StepFunctionsWorkflow,
    jobs: erasureJobsFromEnvironment(env),
    notify: (notices) => activationQueue(env).send(notices),
    now: () => new Date(),
  };
  return cached;
}
