import { type Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type CfnStateMachine, DefinitionBody, LogLevel, StateMachine, StateMachineType, TaskInput, type IChainable } from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

export interface DmpStateMachineProps {
  readonly definition: IChainable;
  /**
   * Logical id of the state machine in the template: the local platform finds the definition to
   * run by it (lib/definitions/state-machines.ts).
   */
  readonly logicalId: string;
  readonly timeout: Duration;
  /** The Lambda functions its Task states invoke. */
  readonly taskFunctions: readonly IFunction[];
  /** Whether it holds a Distributed Map (which starts child executions of itself). */
  readonly distributedMap: boolean;
  readonly logRetention?: RetentionDays;
}

/**
 * A Task invoking the state machine's function with `payload` (an `action` and its fields), whose
 * output is the function's result: each task returns the whole state of the next step.
 */
export function actionTask(scope: Construct, name: string, taskFunction: IFunction, payload: Record<string, unknown>): LambdaInvoke {
  return new LambdaInvoke(scope, name, {
    lambdaFunction: taskFunction,
    payload: TaskInput.fromObject(payload),
    outputPath: '$.Payload',
    retryOnServiceExceptions: true,
  });
}

/**
 * A Standard state machine with the platform's defaults, once: X-Ray tracing, execution logs
 * without execution data (ids and outcomes, never PII) in a log group that expires, the logical id
 * the local platform looks for, and the cdk-nag findings that CDK's own grants raise, each with
 * its reason.
 */
export function dmpStateMachine(scope: Construct, props: DmpStateMachineProps): StateMachine {
  const logGroup = new LogGroup(scope, 'Logs', {
    retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const stateMachine = new StateMachine(scope, 'StateMachine', {
    definitionBody: DefinitionBody.fromChainable(props.definition),
    stateMachineType: StateMachineType.STANDARD,
    tracingEnabled: true,
    logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
    timeout: props.timeout,
  });
  (stateMachine.node.defaultChild as CfnStateMachine).overrideLogicalId(props.logicalId);

  Validations.of(stateMachine).acknowledge(
    ...props.taskFunctions.map((taskFunction) => ({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(taskFunction).getLogicalId(taskFunction.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: 'CDK grants invoking the task function by any version or alias (its ARN with a `:*` suffix); nothing else.',
    })),
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing and CloudWatch Logs delivery actions support no resource-level permissions.',
    },
    ...(props.distributedMap
      ? ['', '/*'].map((suffix) => ({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${props.logicalId}"}]}]}${suffix}:*]`,
          reason: 'The Distributed Map starts child executions of this state machine, whose names Step Functions generates.',
        }))
      : []),
  );
  return stateMachine;
}
