import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  JsonPath,
  Pass,
  Result,
  type StateMachine,
  Succeed,
  TaskInput,
  Wait,
  WaitTime,
  type IChainable,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { dmpStateMachine } from './dmp-state-machine';

/** One send of a journey, optionally after a wait whose length the execution input gives. */
export interface JourneyStepDefinition {
  /** The step name the send task receives (`email1`, `email2`, `promotion`). */
  readonly step: string;
  /** JSONPath of the seconds to wait before this step, e.g. `$.delays.firstSeconds`. */
  readonly delaySecondsPath?: string;
}

export interface JourneyStateMachineProps {
  /** The journeySend function: checks, guards, renders and sends one step of a run. */
  readonly sendFunction: IFunction;
  /** Logical id of the state machine in the template (the local platform runs it by this id). */
  readonly logicalId: string;
  readonly steps: readonly JourneyStepDefinition[];
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * A triggered journey as a Standard state machine (JSONPath ASL, so the local interpreter runs it):
 * per step, Wait (delay from the input) → Send → Choice: `ended` stops the run (order, newer cart,
 * erased profile), `deferred` waits until the time the task gave (quiet hours, best send hour) and sends again,
 * anything else goes on. Input: `{"run": {...}, "delays": {...}}`. The execution name is the run id,
 * so a trigger delivered twice starts one run.
 */
export class JourneyStateMachine extends Construct {
  public readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: JourneyStateMachineProps) {
    super(scope, id);
    if (props.steps.length === 0) throw new Error(`journey ${props.logicalId} has no steps`);
    const ended = new Succeed(this, 'Ended');
    // Built from the last step back, so each step's Choice can default to the following step.
    let following: IChainable = new Succeed(this, 'Done');
    for (const { step, delaySecondsPath } of [...props.steps].reverse()) {
      const resultKey = `${step}Result`;
      const send = new LambdaInvoke(this, `Send_${step}`, {
        lambdaFunction: props.sendFunction,
        payload: TaskInput.fromObject({ step, run: JsonPath.objectAt('$.run'), deferral: JsonPath.objectAt('$.deferral') }),
        resultSelector: { 'outcome.$': '$.Payload' },
        resultPath: `$.${resultKey}`,
        retryOnServiceExceptions: true,
      });
      // Another attempt holding the send claim, throttling, an SES hiccup: the step record keeps retries single.
      send.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(5), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.minutes(5) });
      // Quiet hours or the profile's best send hour: keep the deferral (the task then counts its time
      // as reached, which matters where waits are scaled), wait until then and send again.
      const deferred = new Pass(this, `Defer_${step}`, { inputPath: `$.${resultKey}.outcome`, resultPath: '$.deferral' });
      deferred.next(new Wait(this, `Deferred_${step}`, { time: WaitTime.timestampPath('$.deferral.waitUntil') })).next(send);
      send.next(
        new Choice(this, `After_${step}`)
          .when(Condition.stringEquals(`$.${resultKey}.outcome.outcome`, 'ended'), ended)
          .when(Condition.stringEquals(`$.${resultKey}.outcome.outcome`, 'deferred'), deferred)
          .otherwise(following),
      );
      following = delaySecondsPath ? new Wait(this, `Wait_${step}`, { time: WaitTime.secondsPath(delaySecondsPath) }).next(send) : send;
    }

    // No deferral yet: the send tasks always find `$.deferral`.
    const start = new Pass(this, 'Start', { result: Result.fromObject({}), resultPath: '$.deferral' }).next(following);
    this.stateMachine = dmpStateMachine(this, {
      definition: start,
      logicalId: props.logicalId,
      // Longer than every configured wait plus quiet hours; Standard executions may last a year.
      timeout: Duration.days(30),
      taskFunctions: [props.sendFunction],
      distributedMap: false,
      ...(props.logRetention && { logRetention: props.logRetention }),
    });
  }
}
