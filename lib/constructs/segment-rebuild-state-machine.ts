import { Duration, Stack } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Choice, Condition, DistributedMap, Fail, JsonPath, type StateMachine, StateMachineType, Succeed } from 'aws-cdk-lib/aws-stepfunctions';
import type { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { actionTask, dmpStateMachine } from './dmp-state-machine';

export interface SegmentRebuildStateMachineProps {
  /** The segmentRebuild function: its `action` field selects plan, evaluate-slice, finish or fail. */
  readonly taskFunction: IFunction;
  /**
   * Logical id of the state machine in the template: the local platform finds the definition to
   * run by it (lib/definitions/state-machines.ts).
   */
  readonly logicalId: string;
  /** Slices evaluated at once. @default 10 */
  readonly maxConcurrency?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * The segment rebuild: Plan (load the segments, record the run, split the profiles table into
 * parallel scan slices) → a Distributed Map over the slices, each slice evaluated in pages until
 * done (EvaluateSlice returns a cursor while time runs short) with retries → Finish (count members,
 * size history, run status). Any failure marks the run failed. JSONPath only: the local
 * interpreter ignores JSONata, and it runs the Distributed Map's item processor inline.
 * Segments are rebuilt on their own EventBridge Scheduler schedules, which the Segments API
 * creates in `scheduleGroup`, starting executions as `schedulerRole`.
 */
export class SegmentRebuildStateMachine extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly scheduleGroup: ScheduleGroup;
  /** Assumed by EventBridge Scheduler to start executions; may do nothing else. */
  public readonly schedulerRole: Role;

  constructor(scope: Construct, id: string, props: SegmentRebuildStateMachineProps) {
    super(scope, id);
    const task = (name: string, payload: Record<string, unknown>): LambdaInvoke => actionTask(this, name, props.taskFunction, payload);

    // The whole state: the plan when there is one, else the execution input (Plan itself failed).
    const markFailed = task('MarkFailed', { action: 'fail', 'state.$': '$' })
      .addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 })
      .next(new Fail(this, 'RebuildFailed', { error: 'SegmentRebuildFailed', cause: 'a step of the rebuild failed; the run is marked failed' }));

    const plan = task('Plan', { action: 'plan', 'request.$': '$', 'executionName.$': '$$.Execution.Name', 'startedAt.$': '$$.Execution.StartTime' });
    plan.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });
    plan.addCatch(markFailed, { errors: ['States.ALL'], resultPath: '$.failure' });

    const evaluateSlice = task('EvaluateSlice', { action: 'evaluate-slice', 'slice.$': '$' });
    // A retried slice resumes from its last committed page and re-emits nothing (outbox).
    evaluateSlice.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.seconds(60) });
    const sliceDone = new Succeed(this, 'SliceDone');
    const moreToScan = new Choice(this, 'MoreToScan').when(Condition.booleanEquals('$.done', false), evaluateSlice).otherwise(sliceDone);
    evaluateSlice.next(moreToScan);

    const slices = new DistributedMap(this, 'Slices', {
      itemsPath: '$.plan.slices',
      maxConcurrency: props.maxConcurrency ?? 10,
      mapExecutionType: StateMachineType.STANDARD,
      // Slice results are only progress; the counts come from Finish.
      resultPath: JsonPath.DISCARD,
    });
    slices.itemProcessor(evaluateSlice);
    slices.addCatch(markFailed, { errors: ['States.ALL'], resultPath: '$.failure' });

    const finish = task('Finish', { action: 'finish', 'plan.$': '$.plan' });
    finish.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });
    finish.addCatch(markFailed, { errors: ['States.ALL'], resultPath: '$.failure' });

    const definition = plan.next(slices).next(finish);

    this.stateMachine = dmpStateMachine(this, {
      definition,
      logicalId: props.logicalId,
      timeout: Duration.hours(6),
      taskFunctions: [props.taskFunction],
      distributedMap: true,
      ...(props.logRetention && { logRetention: props.logRetention }),
    });

    this.scheduleGroup = new ScheduleGroup(this, 'Schedules');
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Lets the per-segment rebuild schedules start the segment rebuild state machine',
    });
    this.stateMachine.grantStartExecution(this.schedulerRole);
  }
}
