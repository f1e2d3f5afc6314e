import type { AcceptedMessage } from '../domain/tracking/accepted-message';

/** Where accepted tracking messages wait for reconciliation (the events queue). */
export interface EventQueue {
  /**
   * Resolves only once the queue has durably stored every message: the Tracking API promises
   * clients that a 200 means nothing is lost. Rejects with `EventQueueUnavailableError` otherwise;
   * some messages may then be stored already, which is safe because `messageId` dedupes retries.
   */
  enqueue(messages: readonly AcceptedMessage[]): Promise<void>;
}

/** The queue did not confirm every message; the client should retry (503). */
export class EventQueueUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventQueueUnavailableError';
  }
}
