import { Stack } from 'aws-cdk-lib';
import { EventBus, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { ConfigurationSet, EmailSendingEvent, EventDestination } from 'aws-cdk-lib/aws-ses';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** What the platform learns from: delivery, engagement and the outcomes that stop sending to an address. */
export const FEEDBACK_EVENT_TYPES: readonly EmailSendingEvent[] = [
  EmailSendingEvent.DELIVERY,
  EmailSendingEvent.BOUNCE,
  EmailSendingEvent.COMPLAINT,
  EmailSendingEvent.OPEN,
  EmailSendingEvent.CLICK,
  EmailSendingEvent.REJECT,
];

export interface EmailFeedbackProps {
  /** Receives one message per SES event, its body the event itself (the EmailFeedback queue). */
  readonly queue: IQueue;
  /**
   * Name of the configuration set.
   * @default - a name CloudFormation generates (stable for the life of the set)
   */
  readonly configurationSetName?: string;
}

/**
 * The one SES configuration set the platform sends through, with reputation metrics, and its
 * feedback path: SES publishes the set's events to the default event bus (the only bus SES can
 * target), and a rule on that set forwards each event's `detail` (the SES event JSON, the shape
 * SES publishes to SNS) to the queue. Account-level suppression (bounces, complaints) stays the
 * account owner's setting; the platform keeps its own list from these events.
 */
export class EmailFeedback extends Construct {
  public readonly configurationSet: ConfigurationSet;
  public readonly rule: Rule;

  constructor(scope: Construct, id: string, props: EmailFeedbackProps) {
    super(scope, id);
    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
      ...(props.configurationSetName && { configurationSetName: props.configurationSetName }),
      reputationMetrics: true,
      sendingEnabled: true,
    });
    this.configurationSet.addEventDestination('DefaultEventBus', {
      destination: EventDestination.eventBus(EventBus.fromEventBusName(this, 'DefaultBus', 'default')),
      events: [...FEEDBACK_EVENT_TYPES],
    });
    this.rule = new Rule(this, 'SesEventsRule', {
      description: 'SES events of the platform configuration set, to the EmailFeedback queue',
      eventPattern: {
        source: ['aws.ses'],
        detail: { mail: { tags: { 'ses:configuration-set': [this.configurationSet.configurationSetName] } } },
      },
    });
    // With the queue's key customer managed, the target grant is limited to this account's rules.
    this.rule.addTarget(new SqsQueue(props.queue, { message: RuleTargetInput.fromEventPath('$.detail') }));
  }

  /** SESv2 SendEmail with a configuration set is authorized on the set as well as on the identity. */
  grantSendThrough(grantee: IGrantable): void {
    const arn = Stack.of(this).formatArn({ service: 'ses', resource: 'configuration-set', resourceName: this.configurationSet.configurationSetName });
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['ses:SendEmail'], resources: [arn] }));
  }
}
