import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import type { FunctionId } from '../lib/definitions/functions';
import type { QueueDefinition } from '../lib/definitions/queues';
import { LOCAL_REGION } from './lambda-runtime';
import type { MessageAttribute } from './sqs/message-md5';
import type { QueueDepth, ReceivedMessage } from './sqs/queue-engine';

/** SQS returns at most 10 messages per ReceiveMessage. */
const SQS_MAX_MESSAGES_PER_CALL = 10;
/**
 * Idle long polls are kept short so that stopping never waits long: an in-flight receive is
 * never aborted, because the emulator would still hide the messages it picked for it.
 */
const IDLE_WAIT_SECONDS = 1;
const RECEIVE_ERROR_BACKOFF_MS = 500;
/** Locally a few batches at a time are enough and keep a 2-core machine responsive. */
const LOCAL_MAX_CONCURRENT_BATCHES = 4;
const DRAIN_CHECK_INTERVAL_MS = 50;

export interface PollerStats {
  /** Messages received from the queue, redeliveries included. */
  readonly received: number;
  /** Messages the handler processed successfully (then deleted). */
  readonly succeeded: number;
  /** Messages reported in `batchItemFailures` or in a batch whose invocation failed. */
  readonly failed: number;
  /** Messages received and not yet settled. */
  readonly inFlight: number;
}

export interface PollerHealth extends PollerStats {
  readonly state: 'up' | 'down';
  readonly function: string;
  readonly lastError?: string;
}

/**
 * The queue as Lambda's event source mapping reaches it. The mapping is part of the AWS service,
 * not a client of its public API: locally it calls the queue engine directly, which spares the
 * platform's event loop an SDK call and an HTTP round trip per receive and per delete.
 */
export interface PolledQueue {
  /** Long-polls up to `waitSeconds` for the first message; system and message attributes included. */
  receive(maxMessages: number, waitSeconds: number): Promise<readonly ReceivedMessage[]>;
  /** Resolves once the deletion is durable. */
  delete(receiptHandle: string): Promise<void>;
  depth(): QueueDepth;
}

export interface EventSourcePollerOptions {
  /** The queue with its consumer settings (batch size, window, concurrency, visibility). */
  readonly queue: QueueDefinition;
  readonly queueArn: string;
  readonly source: PolledQueue;
  /** The consumer, for logs and health. */
  readonly functionId: FunctionId;
  /** Runs the consumer with a batch; resolves with its result (a batch response or nothing). */
  readonly invoke: (event: SQSEvent) => Promise<unknown>;
  readonly logger: Logger;
}

interface HeldMessage {
  /** When the queue makes it visible again unless it is deleted first. */
  readonly visibleAgainAt: number;
}

function wait(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function recordMessageAttributes(attributes: Readonly<Record<string, MessageAttribute>> | undefined): SQSMessageAttributes {
  const converted: SQSMessageAttributes = {};
  for (const [name, attribute] of Object.entries(attributes ?? {})) {
    const value: SQSMessageAttributes[string] = { stringListValues: [], binaryListValues: [], dataType: attribute.DataType };
    if (attribute.StringValue !== undefined) value.stringValue = attribute.StringValue;
    if (attribute.BinaryValue !== undefined) value.binaryValue = attribute.BinaryValue;
    converted[name] = value;
  }
  return converted;
}

const OPTIONAL_SYSTEM_ATTRIBUTES = ['AWSTraceHeader', 'SequenceNumber', 'MessageGroupId', 'MessageDeduplicationId', 'DeadLetterQueueSourceArn'] as const;

/** One record of the event Lambda's SQS event source mapping passes to the function. */
export function toSqsRecord(message: ReceivedMessage, queueArn: string, region = LOCAL_REGION): SQSRecord {
  const system = message.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ApproximateReceiveCount: system.ApproximateReceiveCount ?? '1',
    SentTimestamp: system.SentTimestamp ?? '',
    SenderId: system.SenderId ?? '',
    ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? '',
  };
  for (const name of OPTIONAL_SYSTEM_ATTRIBUTES) {
    const value = system[name];
    if (value !== undefined) attributes[name] = value;
  }
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body,
    attributes,
    messageAttributes: recordMessageAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody,
    ...(message.MD5OfMessageAttributes !== undefined && { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * The message ids to keep in the queue after an invocation returned `result`, with Lambda's
 * rules for `reportBatchItemFailures`: no response or no `batchItemFailures` means all
 * succeeded; a malformed list or an identifier that is empty or not in the batch fails the
 * whole batch.
 */
export function failedMessageIds(result: unknown, records: readonly SQSRecord[]): ReadonlySet<string> {
  const everyMessage = new Set(records.map((record) => record.messageId));
  if (typeof result !== 'object' || result === null || !('batchItemFailures' in result)) return new Set();
  const failures: unknown = result.batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return everyMessage;
  const failed = new Set<string>();
  for (const failure of failures as unknown[]) {
    const identifier = typeof failure === 'object' && failure !== null && 'itemIdentifier' in failure ? failure.itemIdentifier : undefined;
    if (typeof identifier !== 'string' || !everyMessage.has(identifier)) return everyMessage;
    failed.add(identifier);
  }
  return failed;
}

/**
 * Plays Lambda's SQS event source mapping for one queue: long-polls, gathers up to `batchSize`
 * messages within `maxBatchingWindowSeconds`, invokes the consumer, deletes what succeeded.
 * Failed messages stay in the queue: SQS shows them again after the visibility timeout and its
 * redrive policy moves them to the DLQ after `maxReceiveCount` receives.
 */
export class EventSourcePoller {
  private readonly options: EventSourcePollerOptions;
  private readonly maxConcurrentBatches: number;
  private readonly logger: Logger;
  private state: 'created' | 'running' | 'stopping' | 'stopped' = 'created';
  private loop: Promise<void> | undefined;
  private readonly batchesInFlight = new Set<Promise<void>>();
  /** Received and not deleted: in a batch, or failed and invisible until the timeout passes. */
  private readonly held = new Map<string, HeldMessage>();
  private unsettled = 0;
  private counts = { received: 0, succeeded: 0, failed: 0 };
  private lastError: string | undefined;

  constructor(options: EventSourcePollerOptions) {
    this.options = options;
    this.maxConcurrentBatches = Math.max(1, Math.min(options.queue.consumer.maxConcurrency, LOCAL_MAX_CONCURRENT_BATCHES));
    this.logger = options.logger.createChild({ persistentKeys: { queue: options.queue.id, functionId: options.functionId } });
  }

  start(): void {
    if (this.state !== 'created') throw new Error(`poller for ${this.options.queue.id} was already started`);
    this.state = 'running';
    this.loop = this.pollUntilStopped();
  }

  stats(): PollerStats {
    return { ...this.counts, inFlight: this.unsettled };
  }

  health(): PollerHealth {
    const up = this.state === 'running' && this.lastError === undefined;
    return {
      state: up ? 'up' : 'down',
      function: this.options.functionId,
      ...this.stats(),
      ...(this.lastError !== undefined && { lastError: this.lastError }),
    };
  }

  /**
   * Waits until nothing is left to do right now: no visible message, none being processed and
   * no message picked by a receive still on its way. Failed messages waiting out their
   * visibility timeout do not count. Returns false if `deadline` (epoch ms) came first.
   */
  async drain(deadline: number): Promise<boolean> {
    for (;;) {
      if (this.isIdle()) return true;
      if (Date.now() >= deadline) return false;
      await wait(Math.min(DRAIN_CHECK_INTERVAL_MS, Math.max(0, deadline - Date.now())));
    }
  }

  /** Stops receiving, then waits for batches in flight until `deadline`; true if all settled. */
  async stop(deadline: number): Promise<boolean> {
    if (this.state === 'created' || this.state === 'stopped') {
      this.state = 'stopped';
      return true;
    }
    this.state = 'stopping';
    const settled = (async (): Promise<boolean> => {
      // The loop may still dispatch the batch it was gathering: list the batches after it ends.
      await this.loop;
      await Promise.allSettled([...this.batchesInFlight]);
      return true;
    })();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
    });
    const finished = await Promise.race([settled, expired]);
    clearTimeout(timer);
    this.state = 'stopped';
    if (!finished) this.logger.warn('stopped with batches still in flight', { inFlight: this.unsettled });
    return finished;
  }

  private forgetExpired(): void {
    const now = Date.now();
    for (const [messageId, held] of this.held) {
      if (held.visibleAgainAt <= now) this.held.delete(messageId);
    }
  }

  private isIdle(): boolean {
    if (this.unsettled > 0) return false;
    const { visible, inFlight } = this.options.source.depth();
    this.forgetExpired();
    // More invisible messages than the failed ones held here: a receive is still on its way.
    return visible === 0 && inFlight <= this.held.size;
  }

  private async pollUntilStopped(): Promise<void> {
    while (this.state === 'running') {
      if (this.batchesInFlight.size >= this.maxConcurrentBatches) {
        await Promise.race(this.batchesInFlight);
        continue;
      }
      let batch: ReceivedMessage[];
      try {
        batch = await this.gatherBatch();
        if (this.lastError !== undefined) this.logger.info('receiving again');
        this.lastError = undefined;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (this.lastError === undefined) this.logger.warn('receive failed; retrying', { error: message });
        this.lastError = message;
        await wait(RECEIVE_ERROR_BACKOFF_MS);
        continue;
      }
      if (batch.length === 0) continue;
      const invocation = this.processBatch(batch).finally(() => this.batchesInFlight.delete(invocation));
      this.batchesInFlight.add(invocation);
    }
  }

  private async receive(maxMessages: number, waitSeconds: number): Promise<readonly ReceivedMessage[]> {
    const messages = await this.options.source.receive(maxMessages, waitSeconds);
    this.forgetExpired();
    const visibleAgainAt = Date.now() + this.options.queue.visibilityTimeoutSeconds * 1000;
    for (const message of messages) this.held.set(message.MessageId, { visibleAgainAt });
    this.counts.received += messages.length;
    this.unsettled += messages.length;
    return messages;
  }

  /**
   * A short long poll waits for the first messages (it answers as soon as there is one); then
   * the batch fills until it is full or the batching window closes, like the event source mapping.
   */
  private async gatherBatch(): Promise<ReceivedMessage[]> {
    const { batchSize, maxBatchingWindowSeconds } = this.options.queue.consumer;
    const batch = [...(await this.receive(Math.min(SQS_MAX_MESSAGES_PER_CALL, batchSize), IDLE_WAIT_SECONDS))];
    if (batch.length === 0) return batch;
    const windowEnds = Date.now() + maxBatchingWindowSeconds * 1000;
    let sweptOnce = false;
    while (batch.length < batchSize && this.state === 'running') {
      const remainingMs = windowEnds - Date.now();
      if (remainingMs <= 0 && sweptOnce) break;
      sweptOnce = true;
      const wanted = Math.min(SQS_MAX_MESSAGES_PER_CALL, batchSize - batch.length);
      try {
        batch.push(...(await this.receive(wanted, Math.max(0, Math.min(20, Math.ceil(remainingMs / 1000))))));
      } catch (error) {
        // Messages already received are hidden from everyone else: invoke with them now.
        this.logger.warn('receive failed while filling a batch', { error: error instanceof Error ? error.message : String(error) });
        break;
      }
    }
    return batch;
  }

  private async processBatch(messages: readonly ReceivedMessage[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, this.options.queueArn)) };
    let failed: ReadonlySet<string>;
    try {
      const result = await this.options.invoke(event);
      failed = failedMessageIds(result, event.Records);
    } catch (error) {
      this.logger.error('invocation failed; the whole batch will be retried', { batchSize: messages.length, error });
      failed = new Set(event.Records.map((record) => record.messageId));
    }
    const succeeded = messages.filter((message) => !failed.has(message.MessageId));
    if (failed.size > 0) this.logger.debug('batch item failures', { failed: failed.size, batchSize: messages.length });
    await this.deleteMessages(succeeded);
    this.counts.succeeded += succeeded.length;
    this.counts.failed += messages.length - succeeded.length;
    this.unsettled -= messages.length;
  }

  /** Concurrent deletes share one journal commit. */
  private async deleteMessages(messages: readonly ReceivedMessage[]): Promise<void> {
    const outcomes = await Promise.allSettled(messages.map((message) => this.options.source.delete(message.ReceiptHandle)));
    outcomes.forEach((outcome, index) => {
      const messageId = messages[index]?.MessageId;
      if (outcome.status === 'fulfilled' && messageId !== undefined) this.held.delete(messageId);
    });
    const failures = outcomes.filter((outcome) => outcome.status === 'rejected');
    if (failures.length > 0)
      this.logger.warn('some deletes failed; those messages will be delivered again', { failed: failures.length, error: failures[0]?.reason });
  }
}
