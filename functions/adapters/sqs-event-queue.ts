import type { AcceptedMessage } from '../domain/tracking/accepted-message';
import type { EventQueue } from '../ports/event-queue';
import { SqsJsonQueue, type SqsJsonQueueOptions } from './sqs-message-queue';

export type SqsEventQueueOptions = Omit<SqsJsonQueueOptions<AcceptedMessage>, 'attributesOf'>;

/** The events queue on SQS: one SQS message per accepted tracking message, body = its JSON. */
export class SqsEventQueue implements EventQueue {
  private readonly queue: SqsJsonQueue<AcceptedMessage>;

  constructor(options: SqsEventQueueOptions) {
    // For routing and operations only: no identities, traits or properties (no PII) in attributes.
    this.queue = new SqsJsonQueue({ ...options, attributesOf: (message) => ({ type: message.type, messageId: message.messageId }) });
  }

  enqueue(messages: readonly AcceptedMessage[]): Promise<void> {
    return this.queue.send(messages);
  }
}
