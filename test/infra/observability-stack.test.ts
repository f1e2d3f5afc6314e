import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FUNCTIONS, type FunctionId } from '../../lib/definitions/functions';
import { QUEUES } from '../../lib/definitions/queues';
import { STATE_MACHINES } from '../../lib/definitions/state-machines';
import { attributeOf, followReference, required, synthesizePlatform, type LocatedExpression } from './platform-fixture';

const synthesized = synthesizePlatform();
const { platform, templates } = synthesized;
const observability = platform.observability;
const template = templates.observability;
const functions = new Map<FunctionId, IFunction>([...platform.processing.functions, ...platform.ingestion.functions]);
const topicRef = { Ref: observability.getLogicalId(observability.alarmTopic.node.defaultChild as CfnElement) };

/** What each alarm on `metricName` watches: its dimension value, references followed. */
function alarmedDimensions(namespace: string, metricName: string, threshold: number): LocatedExpression[] {
  const alarms = template.findResources('AWS::CloudWatch::Alarm', {
    Properties: Match.objectLike({
      Namespace: namespace,
      MetricName: metricName,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef],
      OKActions: [topicRef],
    }),
  });
  return Object.values(alarms).map((alarm) => {
    const [dimension] = alarm.Properties.Dimensions as { Name: string; Value: unknown }[];
    return followReference(synthesized, observability, dimension?.Value);
  });
}

describe('ObservabilityStack', () => {
  it.each(QUEUES)('alarms as soon as a message of the $id queue lands in its DLQ', (definition) => {
    const { deadLetterQueue } = required(platform.storage.queues, definition.id);
    expect(alarmedDimensions('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 0)).toContainEqual(attributeOf(deadLetterQueue, deadLetterQueue.queueName));
  });

  it.each(QUEUES)('alarms when the oldest message of the $id queue is older than five minutes', (definition) => {
    const { queue } = required(platform.storage.queues, definition.id);
    expect(alarmedDimensions('AWS/SQS', 'ApproximateAgeOfOldestMessage', 300)).toContainEqual(attributeOf(queue, queue.queueName));
  });

  it.each(FUNCTIONS)('alarms on errors and throttles of the $id function', (definition) => {
    const fn = required(functions, definition.id);
    for (const metricName of ['Errors', 'Throttles']) {
      expect(alarmedDimensions('AWS/Lambda', metricName, 0)).toContainEqual(attributeOf(fn, fn.functionName));
    }
  });

  it.each(STATE_MACHINES)('alarms when a run of the $id state machine fails or times out', (definition) => {
    // The state machines keep their definition id as logical id (the local platform runs them by it).
    const stateMachine = { stackName: platform.processing.stackName, expression: { Ref: definition.id } };
    for (const metricName of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      expect(alarmedDimensions('AWS/States', metricName, 0)).toContainEqual(stateMachine);
    }
  });

  it('alarms when EventBridge gives up delivering SES events to the EmailFeedback queue', () => {
    const [rule] = platform.processing.node.findAll().filter((construct) => construct.node.id === 'SesEventsRule');
    if (!rule) throw new Error('the SES events rule is not in the processing stack');
    expect(alarmedDimensions('AWS/Events', 'FailedInvocations', 0)).toEqual([attributeOf(rule, (rule as unknown as { ruleName: string }).ruleName)]);
  });

  it('notifies through an SNS topic that is KMS-encrypted, SSL-only, with a key CloudWatch may use', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]),
      },
    });
  });

  it('has a dashboard', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});
