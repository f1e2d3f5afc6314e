import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueDepth, QueueDepths } from '../ports/operations';

/** A platform queue and its dead-letter queue, by URL. */
export interface WatchedQueue {
  readonly id: string;
  readonly url: string;
  readonly deadLetterUrl: string;
}

const ATTRIBUTES = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;

/** Queue depths from SQS GetQueueAttributes: two calls a queue (it and its DLQ), all side by side. */
export class SqsQueueDepths implements QueueDepths {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queues: readonly WatchedQueue[],
  ) {}

  async depths(): Promise<Record<string, QueueDepth>> {
    const entries = await Promise.all(
      this.queues.map(async (queue) => {
        const [own, deadLetters] = await Promise.all([this.counts(queue.url), this.counts(queue.deadLetterUrl)]);
        return [queue.id, { ...own, dlq: deadLetters.visible + deadLetters.inFlight + deadLetters.delayed }] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  private async counts(queueUrl: string): Promise<Omit<QueueDepth, 'dlq'>> {
    const { Attributes: attributes = {} } = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...ATTRIBUTES] }));
    const count = (name: (typeof ATTRIBUTES)[number]): number => Number(attributes[name] ?? 0);
    return {
      visible: count('ApproximateNumberOfMessages'),
      inFlight: count('ApproximateNumberOfMessagesNotVisible'),
      delayed: count('ApproximateNumberOfMessagesDelayed'),
    };
  }
}
