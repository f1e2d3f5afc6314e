import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { CfnConfigurationSet } from 'aws-cdk-lib/aws-smsvoice';
import { Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SMS_RECEIPT_TYPES } from '../../functions/domain/sms/sms-events';

/** The service principal of AWS End User Messaging SMS (its API is still `sms-voice`). */
export const SMS_SERVICE_PRINCIPAL = 'sms-voice.amazonaws.com';

export interface SmsEventTopicsProps {
  /** The SmsEvents queue: both topics deliver to it, raw (the body is the SMS event itself). */
  readonly queue: IQueue;
  /** Encrypts the topics (the queue's key: SNS then encrypts into the queue with it too). */
  readonly encryptionKey: IKey;
  /** Where SNS puts an event it could not deliver to the queue (the queue's DLQ: alarmed, replayable). */
  readonly deadLetterQueue: IQueue;
}

/**
 * The SNS topics End User Messaging SMS publishes to, beside the SmsEvents queue (one stack, so
 * the queue policy naming the topics makes no cycle): `receipts` (the configuration set's event
 * destination) and `inbound` (the two-way channel of the origination number). Only the SMS
 * service of this account may publish, over TLS; each topic delivers raw to the queue, and what
 * SNS cannot deliver there lands in the queue's DLQ (alarmed like every DLQ).
 */
export class SmsEventTopics extends Construct {
  public readonly receipts: Topic;
  public readonly inbound: Topic;

  constructor(scope: Construct, id: string, props: SmsEventTopicsProps) {
    super(scope, id);
    const account = Stack.of(this).account;
    const topic = (name: string, displayName: string): Topic => {
      const created = new Topic(this, name, { displayName, masterKey: props.encryptionKey, enforceSSL: true });
      created.addToResourcePolicy(
        new PolicyStatement({
          actions: ['sns:Publish'],
          principals: [new ServicePrincipal(SMS_SERVICE_PRINCIPAL)],
          resources: [created.topicArn],
          conditions: { StringEquals: { 'aws:SourceAccount': account } },
        }),
      );
      // Not SqsSubscription: its key grant would name the topic in the key's policy, a cycle with the topic's own key.
      new Subscription(this, `${name}ToQueue`, {
        topic: created,
        endpoint: props.queue.queueArn,
        protocol: SubscriptionProtocol.SQS,
        rawMessageDelivery: true,
        deadLetterQueue: props.deadLetterQueue,
      });
      props.queue.addToResourcePolicy(
        new PolicyStatement({
          actions: ['sqs:SendMessage'],
          principals: [new ServicePrincipal('sns.amazonaws.com')],
          resources: [props.queue.queueArn],
          conditions: { ArnEquals: { 'aws:SourceArn': created.topicArn } },
        }),
      );
      return created;
    };
    this.receipts = topic('Receipts', 'SMS delivery receipts of the platform configuration set');
    this.inbound = topic('Inbound', 'Two-way SMS replies to the platform origination number');
    // The SMS service encrypts what it publishes; SNS encrypts into the queue: both with the key, for this account only.
    for (const service of [SMS_SERVICE_PRINCIPAL, 'sns.amazonaws.com']) {
      props.encryptionKey.addToResourcePolicy(
        new PolicyStatement({
          actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
          principals: [new ServicePrincipal(service)],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': account } },
        }),
      );
    }
  }
}

export interface SmsConfigurationProps {
  /** Receives the delivery receipts. */
  readonly receiptsTopicArn: string;
  /**
   * Name of the configuration set.
   * @default - a name CloudFormation generates
   */
  readonly configurationSetName?: string;
}

/**
 * The one End User Messaging SMS configuration set the platform texts through, its event
 * destination publishing the final receipts (delivered, and each failure) to the receipts topic.
 */
export class SmsConfiguration extends Construct {
  public readonly configurationSet: CfnConfigurationSet;

  constructor(scope: Construct, id: string, props: SmsConfigurationProps) {
    super(scope, id);
    this.configurationSet = new CfnConfigurationSet(this, 'ConfigurationSet', {
      ...(props.configurationSetName && { configurationSetName: props.configurationSetName }),
      eventDestinations: [
        {
          eventDestinationName: 'platform-receipts',
          enabled: true,
          matchingEventTypes: [...SMS_RECEIPT_TYPES],
          snsDestination: { topicArn: props.receiptsTopicArn },
        },
      ],
    });
  }

  /** The set's name (SMS_CONFIGURATION_SET). */
  get configurationSetName(): string {
    return this.configurationSet.ref;
  }

  /**
   * SendTextMessage is authorized on each resource the request names: the configuration set, and
   * the origination identities given (phone number, pool or sender id ARNs); nothing else.
   */
  grantSendThrough(grantee: IGrantable, originationIdentityArns: readonly string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sms-voice:SendTextMessage'], resources: [this.configurationSet.attrArn, ...originationIdentityArns] }),
    );
  }
}
