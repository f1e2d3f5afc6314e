import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, AlarmStatusWidget, ComparisonOperator, Dashboard, GraphWidget, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IRule } from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import type { FunctionId } from '../definitions/functions';

/** A queue and the dead-letter queue behind it, as `QueueWithDlq` provides them. */
export interface MonitoredQueue {
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
}

export interface ObservabilityStackProps extends StackProps {
  /** Every queue of QUEUES, by queue id. */
  readonly queues: ReadonlyMap<string, MonitoredQueue>;
  /** Every function of FUNCTIONS, by function id. */
  readonly functions: ReadonlyMap<FunctionId, IFunction>;
  /** The public API, graphed on the dashboard. */
  readonly httpApi: IHttpApi;
  /** Every state machine of STATE_MACHINES, by id: a failed or timed-out run is work lost (a rebuild, a journey email). */
  readonly stateMachines: ReadonlyMap<string, IStateMachine>;
  /** EventBridge rules that feed the platform, by name: an event EventBridge could not deliver is lost. */
  readonly eventRules: ReadonlyMap<string, IRule>;
  /**
   * Age of a queue's oldest message that means its consumer is not keeping up: segment
   * membership is meant to follow a profile change within seconds.
   * @default Duration.minutes(5)
   */
  readonly maxMessageAge?: Duration;
}

const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms that say data is stuck or lost (a message in a dead-letter queue, a queue falling
 * behind, a failing or throttled function), published to an encrypted SNS topic, and one
 * dashboard of the whole pipeline.
 */
export class ObservabilityStack extends Stack {
  public readonly alarmTopic: Topic;
  public readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const maxMessageAge = props.maxMessageAge ?? FIVE_MINUTES;

    const topicKey = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts alarm notifications of the customer data platform',
      enableKeyRotation: true,
      // Only notifications in flight are encrypted with it: nothing to keep after the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch publishes alarm state changes to the topic and so encrypts with its key; the
    // AWS managed SNS key would not let it.
    topicKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Customer data platform alarms',
      masterKey: topicKey,
      enforceSSL: true,
    });
    const notify = new SnsAction(this.alarmTopic);
    const alarms: Alarm[] = [];
    const alarm = (alarmId: string, metric: IMetric, description: string, threshold: number, evaluationPeriods = 1): void => {
      const created = new Alarm(this, alarmId, {
        metric,
        alarmDescription: description,
        threshold,
        evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      alarms.push(created);
    };

    const dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    dashboard.addWidgets(
      new GraphWidget({
        title: 'API requests',
        left: [props.httpApi.metricCount({ period: ONE_MINUTE, statistic: 'Sum' })],
        right: [props.httpApi.metricClientError({ period: ONE_MINUTE }), props.httpApi.metricServerError({ period: ONE_MINUTE })],
        width: 12,
      }),
      new GraphWidget({
        title: 'API latency (p99)',
        left: [props.httpApi.metricLatency({ period: ONE_MINUTE, statistic: 'p99' })],
        width: 12,
      }),
    );

    for (const [queueId, { queue, deadLetterQueue }] of props.queues) {
      const deadLetters = deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: 'Maximum' });
      const oldestMessageAge = queue.metricApproximateAgeOfOldestMessage({ period: ONE_MINUTE, statistic: 'Maximum' });
      alarm(`${queueId}DeadLettersAlarm`, deadLetters, `Messages of the ${queueId} queue failed repeatedly and wait in its DLQ`, 0);
      alarm(
        `${queueId}OldestMessageAgeAlarm`,
        oldestMessageAge,
        `The ${queueId} queue holds messages older than ${maxMessageAge.toHumanString()}: its consumer is not keeping up`,
        maxMessageAge.toSeconds(),
        3,
      );
      dashboard.addWidgets(
        new GraphWidget({
          title: `${queueId} queue`,
          left: [
            queue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: 'Maximum' }),
            queue.metricNumberOfMessagesSent({ period: ONE_MINUTE, statistic: 'Sum' }),
          ],
          right: [oldestMessageAge],
          width: 12,
        }),
        new GraphWidget({ title: `${queueId} dead letters`, left: [deadLetters], width: 12 }),
      );
    }

    for (const [stateMachineId, stateMachine] of props.stateMachines) {
      const failed = stateMachine.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum' });
      const timedOut = stateMachine.metricTimedOut({ period: FIVE_MINUTES, statistic: 'Sum' });
      alarm(`${stateMachineId}FailedAlarm`, failed, `Runs of the ${stateMachineId} state machine failed`, 0);
      alarm(`${stateMachineId}TimedOutAlarm`, timedOut, `Runs of the ${stateMachineId} state machine timed out`, 0);
      dashboard.addWidgets(
        new GraphWidget({
          title: `${stateMachineId} runs`,
          left: [
            stateMachine.metricStarted({ period: FIVE_MINUTES, statistic: 'Sum' }),
            stateMachine.metricSucceeded({ period: FIVE_MINUTES, statistic: 'Sum' }),
          ],
          right: [failed, timedOut],
          width: 12,
        }),
      );
    }

    for (const [ruleName, rule] of props.eventRules) {
      // EventBridge retries for 24 h; FailedInvocations counts the events it finally gave up on.
      const failedInvocations = new Metric({
        namespace: 'AWS/Events',
        metricName: 'FailedInvocations',
        dimensionsMap: { RuleName: rule.ruleName },
        period: FIVE_MINUTES,
        statistic: 'Sum',
      });
      alarm(`${ruleName}FailedInvocationsAlarm`, failedInvocations, `EventBridge could not deliver events of the ${ruleName} rule to its target`, 0);
    }

    for (const [functionId, fn] of props.functions) {
      const errors = fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' });
      const throttles = fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' });
      alarm(`${functionId}ErrorsAlarm`, errors, `The ${functionId} function failed`, 0);
      alarm(`${functionId}ThrottlesAlarm`, throttles, `The ${functionId} function was throttled`, 0);
      dashboard.addWidgets(
        new GraphWidget({
          title: `${functionId} function`,
          left: [fn.metricInvocations({ period: ONE_MINUTE, statistic: 'Sum' }), errors, throttles],
          right: [fn.metricDuration({ period: ONE_MINUTE, statistic: 'p99' })],
          width: 24,
        }),
      );
    }

    this.alarms = alarms;
    dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 }));
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Subscribe on-call addresses to this topic',
      value: this.alarmTopic.topicArn,
    });
  }
}
