import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { deadLetterEnvNameOf, OPERATIONS_WORKFLOWS } from '../../lib/definitions/operations';
import { QUEUES } from '../../lib/definitions/queues';
import { DynamoActivityCounters } from '../adapters/dynamodb-activity-counters';
import { SqsQueueDepths } from '../adapters/sqs-queue-depths';
import { StepFunctionsHistory } from '../adapters/step-functions-history';
import { stateMachineArnFromEnv } from '../adapters/step-functions-runs';
import type { ActivityCounters, QueueDepths, WorkflowHistory } from '../ports/operations';
import { profileEnvironment } from './profile-environment';

/** What the Operations API reads: the activity counters, the queues' depths and the batch workflows' runs. */
export interface OperationsEnvironment {
  readonly activity: Pick<ActivityCounters, 'list'>;
  readonly queues: QueueDepths;
  readonly workflows: WorkflowHistory;
}

const required = (env: NodeJS.ProcessEnv, name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

let counters: DynamoActivityCounters | undefined;

/** The activity counters on the profiles table (`PROFILES_TABLE_NAME`), for reconcile and the Operations API. */
export function activityCounters(env: NodeJS.ProcessEnv = process.env): DynamoActivityCounters {
  if (counters) return counters;
  const { dynamo, tableName } = profileEnvironment(env);
  counters = new DynamoActivityCounters(dynamo, tableName);
  return counters;
}

let cached: OperationsEnvironment | undefined;

/**
 * Built on first read from the environment: the URL of every queue of QUEUES (`envName`) and of
 * its DLQ (`deadLetterEnvNameOf`), the ARN of every workflow of OPERATIONS_WORKFLOWS (`envName`).
 */
export function operationsEnvironment(env: NodeJS.ProcessEnv = process.env): OperationsEnvironment {
  if (cached) return cached;
  const queues = QUEUES.map((queue) => ({ id: queue.id, url: required(env, queue.envName), deadLetterUrl: required(env, deadLetterEnvNameOf(queue)) }));
  const workflows = OPERATIONS_WORKFLOWS.map((definition) => ({ workflow: definition.id, stateMachineArn: stateMachineArnFromEnv(definition.envName, env) }));
  cached = {
    activity: activityCounters(env),
    queues: new SqsQueueDepths(new SQSClient({}), queues),
    workflows: new StepFunctionsHistory(new SFNClient({}), workflows),
  };
  return cached;
}
