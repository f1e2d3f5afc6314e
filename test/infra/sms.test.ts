import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import type { Function as LambdaFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { FUNCTIONS } from '../../lib/definitions/functions';
import { definePlatform, originationIdentityArn } from '../../lib/stacks/platform';
import { SMS_RECEIPT_TYPES } from '../../functions/domain/sms/sms-events';
import { attributeOf, followReference, newTestApp, required, synthesizePlatform, templatesOf, type SynthesizedPlatform } from './platform-fixture';

/**
 * The SMS channel's infrastructure: the configuration set and its receipts destination, the
 * receipts and inbound topics delivering raw to the SmsEvents queue, and journeySend's right to
 * text through the set from the configured origination identity only.
 */
const synthesized = synthesizePlatform();
const { platform, templates } = synthesized;

const sendStatements = (synth: SynthesizedPlatform) =>
  [...synth.platform.processing.functions, ...synth.platform.ingestion.functions].flatMap(([id, fn]) => {
    const stack = Stack.of(fn);
    const template = stack === synth.platform.processing ? synth.templates.processing : synth.templates.ingestion;
    const roleRef = stack.resolve(fn.role?.roleName) as unknown;
    return Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [roleRef] } }))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
      .filter((statement) => ([] as string[]).concat(statement.Action).some((action) => action.startsWith('sms-voice:')))
      .map((statement) => ({ id, statement }));
  });

const environmentOf = (fn: IFunction, stack: Stack, template: Template): Record<string, unknown> => {
  const resource = template.toJSON().Resources[stack.getLogicalId((fn as LambdaFunction).node.defaultChild as CfnElement)] as {
    Properties: { Environment: { Variables: Record<string, unknown> } };
  };
  return resource.Properties.Environment.Variables;
};

describe('SMS channel', () => {
  const sets = Object.entries(templates.processing.findResources('AWS::SMSVOICE::ConfigurationSet'));

  it('texts through one configuration set publishing the final receipts to the receipts topic', () => {
    expect(sets).toHaveLength(1);
    const [, set] = sets[0] as [
      string,
      { Properties: { EventDestinations: { Enabled: boolean; MatchingEventTypes: string[]; SnsDestination: { TopicArn: unknown } }[] } },
    ];
    const [destination] = set.Properties.EventDestinations;
    expect(destination?.Enabled).toBe(true);
    expect([...(destination?.MatchingEventTypes ?? [])].sort()).toEqual([...SMS_RECEIPT_TYPES].sort());
    expect(destination?.MatchingEventTypes).toContain('TEXT_DELIVERED');
    const topics = platform.storage.node.findAll().filter((construct): construct is Topic => construct instanceof Topic && construct.node.id === 'Receipts');
    expect(topics).toHaveLength(1);
    const receipts = topics[0] as Topic;
    expect(followReference(synthesized, platform.processing, destination?.SnsDestination.TopicArn)).toEqual(attributeOf(receipts, receipts.topicArn));
  });

  it('has two encrypted, TLS-only topics that only the SMS service of this account may publish to, each delivering raw to SmsEvents', () => {
    const topics = templates.storage.findResources('AWS::SNS::Topic');
    expect(Object.keys(topics)).toHaveLength(2);
    for (const topic of Object.values(topics)) expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    const queue = required(platform.storage.queues, 'SmsEvents').queue;
    const subscriptions = Object.values(templates.storage.findResources('AWS::SNS::Subscription'));
    expect(subscriptions).toHaveLength(2);
    const { deadLetterQueue } = required(platform.storage.queues, 'SmsEvents');
    for (const subscription of subscriptions) {
      expect(subscription.Properties).toMatchObject({ Protocol: 'sqs', RawMessageDelivery: true });
      expect(followReference(synthesized, platform.storage, subscription.Properties.Endpoint)).toEqual(attributeOf(queue, queue.queueArn));
      // Undeliverable events wait in the queue's DLQ (alarmed), not lost.
      expect(subscription.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: platform.storage.resolve(deadLetterQueue.queueArn) });
    }
    const publishers = Object.values(templates.storage.findResources('AWS::SNS::TopicPolicy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as { Effect: string; Principal?: unknown; Action: string; Condition?: unknown }[],
    );
    const allows = publishers.filter((statement) => statement.Effect === 'Allow');
    expect(allows).toHaveLength(2);
    for (const statement of allows) {
      expect(statement).toMatchObject({
        Principal: { Service: 'sms-voice.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      });
    }
    // enforceSSL: a deny of any request not over TLS on each topic.
    expect(publishers.filter((statement) => statement.Effect === 'Deny')).toHaveLength(2);
    templates.storage.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: { ArnEquals: Match.anyValue() } }),
        ]),
      },
    });
    templates.storage.hasOutput('SmsInboundTopicArn', Match.anyValue());
  });

  it('gives journeySend the set name and sms-voice:SendTextMessage on the set only (no identity configured: a warning)', () => {
    const sender = required(platform.processing.functions, 'journeySend');
    const setRef = { Ref: sets[0]?.[0] };
    expect(environmentOf(sender, platform.processing, templates.processing).SMS_CONFIGURATION_SET).toEqual(setRef);
    const statements = sendStatements(synthesized);
    expect(statements.map(({ id }) => id)).toEqual(['journeySend']);
    expect(statements[0]?.statement.Action).toBe('sms-voice:SendTextMessage');
    expect(statements[0]?.statement.Resource).toEqual({ 'Fn::GetAtt': [sets[0]?.[0], 'Arn'] });
    expect(Annotations.fromStack(platform.processing).findWarning('*', Match.stringLikeRegexp('dmp:smsOriginationIdentity is not set'))).toHaveLength(1);
  });

  it('with dmp:smsOriginationIdentity, allows that identity too and passes it to journeySend', () => {
    const app = newTestApp({ 'dmp:smsOriginationIdentity': 'phone-0123456789abcdef', 'dmp:smsConfigurationSet': 'shop-sms' });
    const named = definePlatform(app);
    const synth: SynthesizedPlatform = {
      app,
      platform: named,
      templates: templatesOf(named),
    };
    synth.templates.processing.hasResourceProperties('AWS::SMSVOICE::ConfigurationSet', { ConfigurationSetName: 'shop-sms' });
    const [{ statement } = { statement: undefined }] = sendStatements(synth);
    expect(JSON.stringify(statement?.Resource)).toContain(':phone-number/phone-0123456789abcdef');
    expect(JSON.stringify(statement?.Resource)).not.toContain('*');
    const sender = required(named.processing.functions, 'journeySend');
    expect(environmentOf(sender, named.processing, synth.templates.processing).SMS_ORIGINATION_IDENTITY).toBe('phone-0123456789abcdef');
  });

  it('names origination identities by id or ARN only: a bare number or a wildcard is refused', () => {
    const stack = new Stack(newTestApp(), 'S');
    expect(originationIdentityArn(stack, 'pool-abc123')).toContain(':pool/pool-abc123');
    const arn = 'arn:aws:sms-voice:eu-west-1:123456789012:sender-id/SHOP/FR';
    expect(originationIdentityArn(stack, arn)).toBe(arn);
    expect(() => originationIdentityArn(stack, '+33612345678')).toThrow(/dmp:smsOriginationIdentity/);
    expect(() => originationIdentityArn(stack, '*')).toThrow(/dmp:smsOriginationIdentity/);
  });

  it('declares the smsEvents consumer of SmsEvents with the pseudonym secret (the opt-out list is keyed)', () => {
    expect(FUNCTIONS.find((definition) => definition.id === 'smsEvents')).toMatchObject({ sendsTo: ['Events'], secureParameters: ['pseudonymSecret'] });
  });
});
