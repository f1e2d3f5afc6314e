import type { Logger } from '@aws-lambda-powertools/logger';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
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

/** The ids and size of a message that failed: the SQS message, and the platform message inside it when known. */
export interface FailedMessage {
  readonly sqsMessageId: string;
  readonly messageId?: string;
  readonly bytes: number;
}

/**
 * Records a message that failed for good (see classifyFailure) in the quarantine with its reason
 * and ids; answers false, recording nothing, when the failure is transient or there is no sink (the
 * caller then retries it). Logs carry ids, sizes and the reason only.
 */
export async function quarantineIfPermanent(options: PoisonMessageOptions, error: unknown, failed: FailedMessage): Promise<boolean> {
  const failure = classifyFailure(error);
  const sink = failure.kind === 'permanent' ? options.sink() : undefined;
  if (!sink) return false;
  const entry: QuarantinedMessage = {
    kind: 'message',
    at: (options.now ?? (() => new Date()))().toISOString(),
    consumer: options.consumer,
    reason: failure.reason,
    sqsMessageId: failed.sqsMessageId,
    ...(failed.messageId && { messageId: failed.messageId }),
    bytes: failed.bytes,
  };
  await sink.quarantineMessage(entry);
  options.logger.warn('poison message quarantined', {
    consumer: entry.consumer,
    reason: entry.reason,
    sqsMessageId: entry.sqsMessageId,
    messageId: entry.messageId,
    bytes: entry.bytes,
  });
  return true;
}

/**
 * Wraps the record handler of an SQS consumer so that a message it can never process is recorded
 * in the quarantine (quarantineIfPermanent) and reported processed: SQS deletes it instead of
 * redelivering it until the DLQ. Other failures are rethrown, so the record is reported in
 * batchItemFailures and retried. If the quarantine cannot be written, the record is retried too:
 * nothing is dropped unrecorded.
 */
export function quarantinePoisonMessages(options: PoisonMessageOptions, handle: (record: SQSRecord) => Promise<void>): (record: SQSRecord) => Promise<void> {
  return async (record) => {
    try {
      await handle(record);
    } catch (error) {
      const messageId = platformMessageId(record.body);
      const failed = { sqsMessageId: record.messageId, ...(messageId && { messageId }), bytes: Buffer.byteLength(record.body, 'utf8') };
      if (!(await quarantineIfPermanent(options, error, failed))) throw error;
    }
  };
}

/** The sink of dependencies that may quarantine (`quarantineMessage` is optional on them). */
export function quarantineSinkOf(owner: { quarantineMessage?(entry: QuarantinedMessage): Promise<void> }): PoisonMessageSink | undefined {
  const quarantine = owner.quarantineMessage?.bind(owner);
  return quarantine ? { quarantineMessage: quarantine } : undefined;
}

/**
 * The SQS batch handler of a queue consumer: each record through `handle`, a poison message
 * quarantined (quarantinePoisonMessages), partial batch responses for whatever else failed.
 */
export function sqsConsumer(
  options: PoisonMessageOptions,
  handle: (record: SQSRecord) => Promise<void>,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const record = quarantinePoisonMessages(options, handle);
  return async (event, context) => {
    options.logger.addContext(context);
    return processPartialResponse(event, record, processor, { context });
  };
}
