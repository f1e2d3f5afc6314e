import { Duration, Stack } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Choice, Condition, DistributedMap, Fail, JsonPath, type StateMachine, StateMachineType, Succeed } from 'aws-cdk-lib/aws-stepfunctions';
import type { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { actionTask, dmpStateMachine } from './dmp-state-machine';

export interface LookalikeStateMachineProps {
  /** The lookalike function: its `action` field selects plan, train, score-slice, finish or fail. */
  readonly taskFunction: IFunction;
  /** Logical id of the state machine in the template (the local platform finds the definition by it). */
  readonly logicalId: string;
  /** Slices scored at once. @default 10 */
  readonly maxConcurrency?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * A lookalike run, on the segment rebuild's machinery: Plan (record the run and the audience
 * segment's run) → Train (sample the seed and a background, train, validate, save the model and
 * the slices' plan) → a Distributed Map over parallel scan slices, each scored in pages until done
 * (memberships through the rebuild's outbox, scores in large items) → Finish (sweep, count, record,
 * switch the scores profiles show). Any failure marks the run failed with its reason.
 * Refresh schedules (EventBridge Scheduler, created by the Lookalikes API in the segments' schedule
 * group) start executions as `schedulerRole`.
 */
export class LookalikeStateMachine extends Construct {
  public readonly stateMachine: StateMachine;
  /** Assumed by EventBridge Scheduler to start executions; may do nothing else. */
  public readonly schedulerRole: Role;

  constructor(scope: Construct, id: string, props: LookalikeStateMachineProps) {
    super(scope, id);
    const task = (name: string, payload: Record<string, unknown>): LambdaInvoke => actionTask(this, name, props.taskFunction, payload);
    const retried = (step: LambdaInvoke, maxAttempts = 3) =>
      step.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts, backoffRate: 2, maxDelay: Duration.seconds(60) });

    const markFailed = retried(task('MarkFailed', { action: 'fail', 'state.$': '$' })).next(
      new Fail(this, 'LookalikeFailed', { error: 'LookalikeRunFailed', cause: 'a step of the lookalike run failed; the run is marked failed with the reason' }),
    );

    const plan = retried(task('Plan', { action: 'plan', 'request.$': '$', 'executionName.$': '$$.Execution.Name', 'startedAt.$': '$$.Execution.StartTime' }));
    plan.addCatch(markFailed, { errors: ['States.ALL'], resultPath: '$.failure' });

    // A refusal to train (seed too small, nothing to learn from) is final: not retried.
    const train = task('Train', { action: 'train', 'run.$': '$.run' })
      .addRetry({ errors: ['LookalikeTrainingError'], maxAttempts: 0 })
      .addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });
    train.addCatch(markFailed, { errors: ['States.ALL'], resultPath: '$.failure' });

    const scoreSlice = retried(task('ScoreSlice', { action: 'score-slice', 'slice.$': '$' }), 6);
    const sliceDone = new Succeed(this, 'SliceDone');
    scoreSlice.next(new Choice(this, 'MoreToScore').when(Condition.booleanEquals('$.done', false), scoreSlice).otherwise(sliceDone));
    const slices = new DistributedMap(this, 'Slices', {
      itemsPath: '$.slices',
      maxConcurrency: props.maxConcurrency ?? 10,
      mapExecutionType: StateMachineType.STANDARD,
      resultPath: JsonPath.DISCARD,
    });
    slices.itemProcessor(scoreSlice);
    slices.addCatch(markFailed, { errors: ['States.ALL'], resultPath: '$.failure' });

    const finish = retried(task('Finish', { action: 'finish', 'run.$': '$.run' }));
    finish.addCatch(markFailed, { errors: ['States.ALL'], resultPath: '$.failure' });

    this.stateMachine = dmpStateMachine(this, {
      definition: plan.next(train).next(slices).next(finish),
      logicalId: props.logicalId,
      timeout: Duration.hours(6),
      taskFunctions: [props.taskFunction],
      distributedMap: true,
      ...(props.logRetention && { logRetention: props.logRetention }),
    });

    this.schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Lets the per-lookalike refresh schedules start the lookalike state machine',
    });
    this.stateMachine.grantStartExecution(this.schedulerRole);
  }
}
