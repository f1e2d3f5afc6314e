import type { Logger } from '@aws-lambda-powertools/logger';
import type { FunctionId } from '../../lib/definitions/functions';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, localFunctionName } from '../../local/lambda-runtime';
import type { JsonObject, SynthesizedStateMachine } from '../../local/step-functions/cdk-resources';
import { StepFunctionsService } from '../../local/step-functions/step-functions-service';

/**
 * State machines for the durable-execution tests (test/integration/step-functions-durable.test.ts),
 * shared with the child process that runs them until it is killed
 * (test/helpers/durable-step-functions-child.ts). An hour's wait lasts three seconds.
 */
export const TIME_SCALE = 1200;
export const WAIT_SECONDS = 3600;
export const SCALED_WAIT_MS = (WAIT_SECONDS * 1000) / TIME_SCALE;

const FUNCTION_ID: FunctionId = 'journeySend';
const FUNCTION_ARN = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${localFunctionName(FUNCTION_ID)}`;

function machine(id: string, asl: JsonObject): SynthesizedStateMachine {
  const name = `dmp-local-${id}`;
  return {
    definition: { id, envName: `${id.toUpperCase()}_ARN`, description: id, taskFunctions: [FUNCTION_ID], startedBy: [] },
    name,
    arn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${name}`,
    asl,
  };
}

/** A task that tells the handler its step and what the Context Object says of the execution. */
function step(step: string, next?: string): JsonObject {
  return {
    Type: 'Task',
    Resource: FUNCTION_ARN,
    Parameters: { step, 'execution.$': '$$.Execution.Name', 'startedAt.$': '$$.Execution.StartTime', 'executionInput.$': '$$.Execution.Input' },
    ResultPath: `$.${step}`,
    ...(next === undefined ? { End: true } : { Next: next }),
  };
}

/** Task A → Wait (Seconds) → Task B: the abandoned cart between email 1 and email 2. */
export const JOURNEY = machine('DurableJourney', {
  StartAt: 'A',
  TimeoutSeconds: 86_400,
  States: {
    A: step('A', 'Pause'),
    Pause: { Type: 'Wait', Seconds: WAIT_SECONDS, Next: 'B' },
    B: step('B'),
  },
});

/** The same with the wait's seconds taken from the input (run by the local 'scaledWait' task). */
export const PATH_WAIT = machine('DurablePathWait', {
  StartAt: 'A',
  States: {
    A: step('A', 'Pause'),
    Pause: { Type: 'Wait', SecondsPath: '$.delaySeconds', Next: 'B' },
    B: step('B'),
  },
});

/** A top-level Map whose iterations run a task then wait: resumed, the Map runs again as a whole. */
export const FAN_OUT = machine('DurableFanOut', {
  StartAt: 'EachItem',
  States: {
    EachItem: {
      Type: 'Map',
      ItemsPath: '$.items',
      ResultPath: '$.items',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Item',
        States: {
          Item: { Type: 'Task', Resource: FUNCTION_ARN, Parameters: { step: 'Item', 'item.$': '$' }, Next: 'ItemPause' },
          ItemPause: { Type: 'Wait', Seconds: WAIT_SECONDS, End: true },
        },
      },
      Next: 'B',
    },
    B: step('B'),
  },
});

/** A task waiting for its token: resumed, its function is invoked again with a new token. */
export const APPROVAL = machine('DurableApproval', {
  StartAt: 'Approve',
  States: {
    Approve: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: FUNCTION_ARN, Payload: { step: 'Approve', 'execution.$': '$$.Execution.Name', 'token.$': '$$.Task.Token' } },
      ResultPath: '$.approval',
      End: true,
    },
  },
});

export const MACHINES = [JOURNEY, PATH_WAIT, FAN_OUT, APPROVAL];

/** What a task handler received, and when. */
export interface TaskCall {
  readonly step: string;
  readonly execution?: string;
  readonly startedAt?: string;
  readonly executionInput?: unknown;
  readonly item?: unknown;
  readonly token?: string;
  readonly at: number;
  readonly pid: number;
}

export function durableService(directory: string | undefined, logger: Logger, onCall: (call: TaskCall) => void): StepFunctionsService {
  return new StepFunctionsService({
    stateMachines: MACHINES,
    timeScale: TIME_SCALE,
    logger,
    ...(directory !== undefined && { directory }),
    invoke: async (_functionId, event) => {
      const call = { ...(event as Omit<TaskCall, 'at' | 'pid'>), at: Date.now(), pid: process.pid };
      onCall(call);
      return { done: call.step };
    },
  });
}
