import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Choice, Condition, Fail, JsonPath, type StateMachine, Succeed, TaskInput } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { dmpStateMachine } from './dmp-state-machine';

export interface ErasureStateMachineProps {
  /** The erasure function: runs one step of the job and answers the next state (functions/domain/privacy/erasure.ts). */
  readonly taskFunction: IFunction;
  /** Logical id of the state machine in the template (the local platform runs it by this id). */
  readonly logicalId: string;
}

/**
 * Erasure as a durable job: one Task runs the job's next step and answers the next state, looped
 * until `done` (the order of the steps is the domain's, so it is tested without Step Functions).
 * Each step is idempotent: a retried or re-driven step does no harm, and the local platform resumes
 * an execution at its last state after a crash. Retries for transient failures; when they run out,
 * the job is recorded failed. JSONPath only: the local interpreter ignores JSONata.
 */
export class ErasureStateMachine extends Construct {
  public readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: ErasureStateMachineProps) {
    super(scope, id);
    const step = new LambdaInvoke(this, 'Step', {
      lambdaFunction: props.taskFunction,
      payload: TaskInput.fromJsonPathAt('$'),
      outputPath: '$.Payload',
      retryOnServiceExceptions: true,
    });
    step.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.seconds(60) });

    const recordFailure = new LambdaInvoke(this, 'RecordFailure', {
      lambdaFunction: props.taskFunction,
      payload: TaskInput.fromObject({ failed: { jobId: JsonPath.stringAt('$.jobId'), error: JsonPath.objectAt('$.error') } }),
      resultPath: JsonPath.DISCARD,
      retryOnServiceExceptions: true,
    });
    recordFailure.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });
    recordFailure.next(new Fail(this, 'Failed', { error: 'ErasureFailed', cause: 'a step failed after its retries: the job is recorded failed' }));
    // The state keeps the job id beside the caught error, for the failure task.
    step.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    const definition = step.next(new Choice(this, 'Done').when(Condition.booleanEquals('$.done', true), new Succeed(this, 'Erased')).otherwise(step));

    this.stateMachine = dmpStateMachine(this, {
      definition,
      logicalId: props.logicalId,
      timeout: Duration.hours(24),
      taskFunctions: [props.taskFunction],
      distributedMap: false,
    });
  }
}
