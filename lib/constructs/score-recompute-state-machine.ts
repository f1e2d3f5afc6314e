import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import {
  Choice,
  Condition,
  DistributedMap,
  JsonPath,
  Pass,
  Result,
  type StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { dmpStateMachine } from './dmp-state-machine';

export interface ScoreRecomputeStateMachineProps {
  /** The scoreRecompute function: scans one slice of profiles and queues a recompute change per profile. */
  readonly taskFunction: IFunction;
  /** Logical id of the state machine in the template (the local platform runs it by this id). */
  readonly logicalId: string;
  /**
   * Parallel scan segments the profiles table is split into (each one Map item).
   * @default 8
   */
  readonly slices?: number;
  /** Slices scanned at once: bounds the rate at which recompute changes reach the queue. @default 4 */
  readonly maxConcurrency?: number;
  /** When the scheduler starts a run. @default 03:00 UTC every day */
  readonly schedule?: ScheduleExpression;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * The nightly score recompute: time-based features (recency, 7/30-day counts) change without any
 * event, so every live profile gets a `recompute` ProfileChange; the score function does the rest
 * (and skips the write when nothing moved). Plan (fixed slices) → a Distributed Map over the
 * slices, each scanned in pages until done (the task returns a cursor while time runs short).
 * JSONPath only: the local interpreter ignores JSONata.
 */
export class ScoreRecomputeStateMachine extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: ScoreRecomputeStateMachineProps) {
    super(scope, id);
    const sliceCount = props.slices ?? 8;
    const plan = new Pass(this, 'Plan', {
      result: Result.fromObject({ slices: Array.from({ length: sliceCount }, (_, segment) => ({ segment, totalSegments: sliceCount })) }),
    });

    const queueSlice = new LambdaInvoke(this, 'QueueSlice', {
      lambdaFunction: props.taskFunction,
      payload: TaskInput.fromJsonPathAt('$'),
      outputPath: '$.Payload',
      retryOnServiceExceptions: true,
    });
    // A retried page is queued again: harmless, rescoring is idempotent.
    queueSlice.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.seconds(60) });
    queueSlice.next(new Choice(this, 'MoreToScan').when(Condition.booleanEquals('$.done', false), queueSlice).otherwise(new Succeed(this, 'SliceDone')));

    const slices = new DistributedMap(this, 'Slices', {
      itemsPath: '$.slices',
      maxConcurrency: props.maxConcurrency ?? 4,
      mapExecutionType: StateMachineType.STANDARD,
      resultPath: JsonPath.DISCARD,
    });
    slices.itemProcessor(queueSlice);

    this.stateMachine = dmpStateMachine(this, {
      definition: plan.next(slices),
      logicalId: props.logicalId,
      timeout: Duration.hours(6),
      taskFunctions: [props.taskFunction],
      distributedMap: true,
      ...(props.logRetention && { logRetention: props.logRetention }),
    });

    this.schedule = new Schedule(this, 'Schedule', {
      description: 'Starts the nightly score recompute (time-based scores decay without events)',
      schedule: props.schedule ?? ScheduleExpression.cron({ minute: '0', hour: '3' }),
      target: new StepFunctionsStartExecution(this.stateMachine, { input: ScheduleTargetInput.fromObject({ trigger: 'schedule' }), retryAttempts: 3 }),
    });
  }
}
