import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueDefinition } from '../definitions/queues';

/** The longest retention SQS allows. */
const MAX_RETENTION = Duration.days(14);

export interface QueueWithDlqProps {
  /** Visibility timeout, redrive and retention of the queue (lib/definitions/queues.ts). */
  readonly definition: QueueDefinition;
  /**
   * Customer managed key encrypting both queues (messages carry personal data).
   * @default - SQS-managed encryption (SSE-SQS)
   */
  readonly encryptionKey?: IKey;
}

/**
 * An SQS queue and the dead-letter queue that catches what its consumer fails on
 * `maxReceiveCount` times. Both refuse unencrypted transport and are encrypted at rest.
 */
export class QueueWithDlq extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps) {
    super(scope, id);
    const { definition, encryptionKey } = props;
    const encryption = encryptionKey ? { encryption: QueueEncryption.KMS, encryptionMasterKey: encryptionKey } : { encryption: QueueEncryption.SQS_MANAGED };
    // Undelivered messages are data: removing the construct must not delete them.
    const removalPolicy = RemovalPolicy.RETAIN;

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...encryption,
      enforceSSL: true,
      // A standard queue's message keeps its original enqueue time in the DLQ, so the DLQ must
      // retain at least as long as the source queue or redriven messages expire on arrival.
      retentionPeriod: MAX_RETENTION,
      removalPolicy,
    });
    this.queue = new Queue(this, 'Queue', {
      ...encryption,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(definition.retentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: definition.maxReceiveCount },
      removalPolicy,
    });
  }
}
