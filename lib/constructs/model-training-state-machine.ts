import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import {
  Choice,
  Condition,
  DistributedMap,
  Fail,
  JsonPath,
  type StateMachine,
  StateMachineType,
  Succeed,
  type TaskStateBase,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { actionTask, dmpStateMachine } from './dmp-state-machine';

export interface ModelTrainingStateMachineProps {
  /** The modelTraining function: its `action` field selects plan, export-slice, train, promote, keep or fail. */
  readonly taskFunction: IFunction;
  /** Logical id of the state machine in the template (the local platform runs it by this id). */
  readonly logicalId: string;
  /** The predictive scores retrained on the schedule, one schedule each. */
  readonly scores: readonly string[];
  /** When each score is retrained. @default Sunday 04:00 UTC, weekly */
  readonly schedule?: ScheduleExpression;
  /** Slices exported at once. @default 4 */
  readonly maxConcurrency?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * Retraining a predictive score (docs/contract.md §14): Plan (cut-offs, traits, the job) → a
 * Distributed Map exporting each scan slice's examples page by page → Train (a candidate, judged
 * beside the model in service on the same holdout) → Promote when at least as good (and rescore
 * everyone) or Keep. A refusal to train (too few positives) is final, not retried; any failure
 * marks the job failed with its reason. One weekly schedule per score starts it.
 */
export class ModelTrainingStateMachine extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly schedules: readonly Schedule[];

  constructor(scope: Construct, id: string, props: ModelTrainingStateMachineProps) {
    super(scope, id);
    const task = (name: string, payload: Record<string, unknown>): LambdaInvoke => actionTask(this, name, props.taskFunction, payload);
    const retried = (step: TaskStateBase, maxAttempts = 3): TaskStateBase =>
      step.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts, backoffRate: 2, maxDelay: Duration.seconds(60) });
    const failed = retried(task('MarkFailed', { action: 'fail', 'state.$': '$' })).next(
      new Fail(this, 'TrainingFailed', { error: 'ModelTrainingFailed', cause: 'a step of the training job failed; the job is marked failed with the reason' }),
    );
    const catchInto = (step: TaskStateBase | DistributedMap) => step.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.failure' });

    // A refusal (unknown score, asOf out of range, too few positives) is final: its retrier comes before the catch-all, as the first match applies.
    const refusalFinal = (step: TaskStateBase): TaskStateBase => step.addRetry({ errors: ['ModelTrainingRefusal'], maxAttempts: 0 });

    const plan = retried(refusalFinal(task('Plan', { action: 'plan', 'request.$': '$', 'executionName.$': '$$.Execution.Name' })));
    catchInto(plan);

    const exportSlice = retried(task('ExportSlice', { action: 'export-slice', 'slice.$': '$' }), 6);
    exportSlice.next(
      new Choice(this, 'MoreToExport').when(Condition.booleanEquals('$.done', false), exportSlice).otherwise(new Succeed(this, 'SliceExported')),
    );
    const slices = new DistributedMap(this, 'ExportSlices', {
      itemsPath: '$.slices',
      maxConcurrency: props.maxConcurrency ?? 4,
      mapExecutionType: StateMachineType.STANDARD,
      resultPath: JsonPath.DISCARD,
    });
    slices.itemProcessor(exportSlice);
    catchInto(slices);

    const train = retried(refusalFinal(task('Train', { action: 'train', 'job.$': '$.job' })));
    catchInto(train);

    const jobOf = { score: JsonPath.stringAt('$.score'), jobId: JsonPath.stringAt('$.jobId') };
    const promote = retried(task('Promote', { action: 'promote', job: jobOf }));
    catchInto(promote);
    const keep = retried(task('Keep', { action: 'keep', job: jobOf }));
    catchInto(keep);
    const decide = new Choice(this, 'AtLeastAsGood').when(Condition.booleanEquals('$.better', true), promote).otherwise(keep);

    this.stateMachine = dmpStateMachine(this, {
      definition: plan.next(slices).next(train).next(decide),
      logicalId: props.logicalId,
      timeout: Duration.hours(6),
      taskFunctions: [props.taskFunction],
      distributedMap: true,
      ...(props.logRetention && { logRetention: props.logRetention }),
    });

    this.schedules = props.scores.map(
      (score) =>
        new Schedule(this, `Retrain-${score}`, {
          description: `Retrains the ${score} model on the platform's own data; promotes it only when at least as good`,
          schedule: props.schedule ?? ScheduleExpression.cron({ minute: '0', hour: '4', weekDay: 'SUN' }),
          target: new StepFunctionsStartExecution(this.stateMachine, {
            input: ScheduleTargetInput.fromObject({ score, trigger: 'schedule' }),
            retryAttempts: 3,
          }),
        }),
    );
  }
}
