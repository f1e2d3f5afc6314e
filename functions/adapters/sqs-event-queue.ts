import { MAX_MESSAGES_PER_EVENTS_BODY, type AcceptedMessages } from '../domain/pipeline/messages';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';
import type { EventQueue } from '../ports/event-queue';
import { SqsJsonQueue, type SqsJsonQueueOptions } from './sqs-message-queue';

export type SqsEventQueueOptions = Omit<SqsJsonQueueOptions<AcceptedMessages>, 'attributesOf'>;

/**
 * Body bytes per SQS message: room under SQS's 256 KiB (body and attributes, per message and per
 * SendMessageBatch call) for the envelope and escaping. A message alone is at most 32 KB.
 */
const MAX_BODY_BYTES = 200 * 1024;

/**
 * The events queue on SQS: the messages of one enqueue (a Tracking API request, an import chunk)
 * packed in order into AcceptedMessages bodies of at most MAX_MESSAGES_PER_EVENTS_BODY messages
 * and MAX_BODY_BYTES: a 100-event SDK batch is one SQS message.
 */
export class SqsEventQueue implements EventQueue {
  private readonly queue: SqsJsonQueue<AcceptedMessages>;

  constructor(options: SqsEventQueueOptions) {
    // For routing and operations only: no identities, traits or properties (no PII) in attributes.
    this.queue = new SqsJsonQueue({ ...options, attributesOf: (body) => ({ kind: body.kind, messages: String(body.messages.length) }) });
  }

  enqueue(messages: readonly AcceptedMessage[]): Promise<void> {
    return this.queue.send(packBodies(messages));
  }
}

function packBodies(messages: readonly AcceptedMessage[]): AcceptedMessages[] {
  const bodies: AcceptedMessages[] = [];
  let current: AcceptedMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(JSON.stringify(message), 'utf8') + 1;
    if (current.length > 0 && (current.length === MAX_MESSAGES_PER_EVENTS_BODY || bytes + size > MAX_BODY_BYTES)) {
      bodies.push({ kind: 'accepted-messages', messages: current });
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) bodies.push({ kind: 'accepted-messages', messages: current });
  return bodies;
}
