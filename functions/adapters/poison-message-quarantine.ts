import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import type { QuarantinedMessage } from '../ports/profile-store';
import { classifyFailure } from './failure-classification';

export interface PoisonMessageSink {
  quarantineMessage(entry: QuarantinedMessage): Promise<void>;
}

export interface PoisonMessageOptions {
  /** The consumer's name, recorded with the entry (`reconcile`, `score`...). */
  readonly consumer: string;
  readonly logger: Logger;
  /** Where poison messages are recorded (the profile store); built lazily, on the first one. None: retried as before. */
  readonly sink: () => PoisonMessageSink | undefined;
  readonly now?: () => Date;
}

/** The platform id a body names (`messageId`, `transitionId`, `profileId`), read without trusting the body. */
function platformMessageId(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown> | null;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    for (const field of ['messageId', 'transitionId', 'profileId']) {
      const value = parsed[field];
      if (typeof value === 'string' && value.length > 0 && value.length <= 255) return value;
    }
  } catch {
    // Not JSON: only the SQS message id names it.
  }
  return undefined;
}

/**
 * Wraps the record handler of an SQS consumer so that a message it can never process (see
 * classifyFailure) is recorded in the quarantine with its reason and ids, and reported processed:
 * SQS deletes it instead of redelivering it until the DLQ. Other failures are rethrown, so the
 * record is reported in batchItemFailures and retried. If the quarantine cannot be written, the
 * record is retried too: nothing is dropped unrecorded. Logs carry ids, sizes and the reason only.
 */
export function quarantinePoisonMessages(options: PoisonMessageOptions, handle: (record: SQSRecord) => Promise<void>): (record: SQSRecord) => Promise<void> {
  return async (record) => {
    try {
      await handle(record);
    } catch (error) {
      const failure = classifyFailure(error);
      const sink = failure.kind === 'permanent' ? options.sink() : undefined;
      if (!sink) throw error;
      const messageId = platformMessageId(record.body);
      const entry: QuarantinedMessage = {
        kind: 'message',
        at: (options.now ?? (() => new Date()))().toISOString(),
        consumer: options.consumer,
        reason: failure.reason,
        sqsMessageId: record.messageId,
        ...(messageId && { messageId }),
        bytes: Buffer.byteLength(record.body, 'utf8'),
      };
      await sink.quarantineMessage(entry);
      options.logger.warn('poison message quarantined', { consumer: entry.consumer, reason: entry.reason, sqsMessageId: entry.sqsMessageId, messageId: entry.messageId, bytes: entry.bytes });
    }
  };
}
