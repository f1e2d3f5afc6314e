import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ConfigurationSet } from 'aws-cdk-lib/aws-ses';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { definePlatform } from '../../lib/stacks/platform';
import { attributeOf, followReference, newTestApp, required, synthesizePlatform } from './platform-fixture';

const synthesized = synthesizePlatform();
const { platform, templates } = synthesized;
const processing = templates.processing;

const configurationSet = platform.processing.node.findAll().find((construct): construct is ConfigurationSet => construct instanceof ConfigurationSet);
if (!configurationSet) throw new Error('no SES configuration set in the processing stack');
const configurationSetRef = platform.processing.resolve(configurationSet.configurationSetName) as unknown;

describe('SES feedback', () => {
  it('sends through one configuration set with reputation metrics and sending enabled', () => {
    processing.resourceCountIs('AWS::SES::ConfigurationSet', 1);
    processing.hasResourceProperties('AWS::SES::ConfigurationSet', {
      ReputationOptions: { ReputationMetricsEnabled: true },
      SendingOptions: { SendingEnabled: true },
    });
  });

  it('publishes delivery, bounce, complaint, open, click and reject (not send) to the default event bus', () => {
    const destinations = Object.values(processing.findResources('AWS::SES::ConfigurationSetEventDestination'));
    expect(destinations).toHaveLength(1);
    const { ConfigurationSetName, EventDestination } = destinations[0]?.Properties as {
      ConfigurationSetName: unknown;
      EventDestination: { Enabled: boolean; MatchingEventTypes: string[]; EventBridgeDestination: { EventBusArn: unknown } };
    };
    expect(ConfigurationSetName).toEqual(configurationSetRef);
    expect(EventDestination.Enabled).toBe(true);
    expect([...EventDestination.MatchingEventTypes].sort()).toEqual(['bounce', 'click', 'complaint', 'delivery', 'open', 'reject']);
    expect(JSON.stringify(EventDestination.EventBridgeDestination.EventBusArn)).toContain(':event-bus/default');
  });

  it("routes the set's SES events, as their detail, to the EmailFeedback queue", () => {
    const rules = Object.values(
      processing.findResources('AWS::Events::Rule', { Properties: Match.objectLike({ EventPattern: Match.objectLike({ source: ['aws.ses'] }) }) }),
    );
    expect(rules).toHaveLength(1);
    const { EventPattern, Targets } = rules[0]?.Properties as { EventPattern: unknown; Targets: { Arn: unknown; InputPath?: string }[] };
    expect(EventPattern).toEqual({ source: ['aws.ses'], detail: { mail: { tags: { 'ses:configuration-set': [configurationSetRef] } } } });
    expect(Targets).toHaveLength(1);
    expect(Targets[0]?.InputPath).toBe('$.detail');
    const { queue } = required(platform.storage.queues, 'EmailFeedback');
    expect(followReference(synthesized, platform.processing, Targets[0]?.Arn)).toEqual(attributeOf(queue, queue.queueArn));
  });

  it('lets EventBridge of this account only send to the queue and use its key', () => {
    const { queue } = required(platform.storage.queues, 'EmailFeedback');
    const queueRef = platform.storage.resolve(queue.queueUrl) as unknown;
    const sameAccount = { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } };
    templates.storage.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [queueRef],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
            Condition: sameAccount,
          }),
        ]),
      },
    });
    const keyId = platform.storage.getLogicalId(platform.storage.dataKey.node.defaultChild as CfnElement);
    const keyStatements = templates.storage.toJSON().Resources[keyId].Properties.KeyPolicy.Statement as {
      Principal?: { Service?: string };
      Action: string[];
      Condition?: unknown;
    }[];
    expect(keyStatements).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: expect.arrayContaining(['kms:GenerateDataKey*', 'kms:Decrypt']),
        Condition: sameAccount,
      }),
    );
  });

  it('gives journeySend the set name and the right to send through it', () => {
    const sender = required(platform.processing.functions, 'journeySend');
    if (!(sender instanceof LambdaFunction)) throw new Error('journeySend is not a function');
    const senderId = platform.processing.getLogicalId(sender.node.defaultChild as CfnElement);
    const resource = processing.toJSON().Resources[senderId] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
    expect(resource.Properties.Environment.Variables.SES_CONFIGURATION_SET).toEqual(configurationSetRef);
    const roleRef = platform.processing.resolve(sender.role?.roleName) as unknown;
    const statements = Object.values(processing.findResources('AWS::IAM::Policy', { Properties: { Roles: [roleRef] } })).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    const configurationSetArn = statements.find(
      (statement) => statement.Action === 'ses:SendEmail' && JSON.stringify(statement.Resource).includes(':configuration-set/'),
    );
    expect(JSON.stringify(configurationSetArn?.Resource)).toContain(JSON.stringify(configurationSetRef));
  });

  it('names the configuration set from context dmp:sesConfigurationSet', () => {
    const named = definePlatform(newTestApp({ 'dmp:sesConfigurationSet': 'shop-marketing' }));
    Template.fromStack(named.processing).hasResourceProperties('AWS::SES::ConfigurationSet', { Name: 'shop-marketing' });
    // Without it, CloudFormation names the set.
    expect(Object.values(processing.findResources('AWS::SES::ConfigurationSet'))[0]?.Properties).not.toHaveProperty('Name');
  });
});
