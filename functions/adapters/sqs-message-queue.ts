import {
  SendMessageBatchCommand,
  type MessageAttributeValue,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { EventQueueUnavailableError } from '../ports/event-queue';

/** SendMessageBatch limits: 10 entries and 256 KiB of bodies plus attributes per call. */
const MAX_ENTRIES_PER_CALL = 10;
const MAX_BYTES_PER_CALL = 256 * 1024;

export interface SqsJsonQueueOptions<T> {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** SendMessageBatch calls in flight at once for one `enqueue` (a 2,500-message batch is 250 calls). */
  readonly maxConcurrentCalls?: number;
  /** Attempts for entries SQS reports as failed (the SDK itself retries failed calls). */
  readonly maxAttempts?: number;
  /** First backoff delay; doubled per attempt, with jitter. */
  readonly retryBaseDelayMs?: number;
  /** Test seam for the backoff wait. */
  readonly wait?: (milliseconds: number) => Promise<void>;
  /** String message attributes for routing and operations: ids and types only, never PII. */
  readonly attributesOf: (message: T) => Readonly<Record<string, string>>;
}

interface PreparedEntry {
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  /** What SQS counts against the per-call limit: body plus attribute names, types and values. */
  readonly bytes: number;
}

/**
 * Sends JSON messages to an SQS queue, one SQS message each: SendMessageBatch calls of at most
 * 10 entries and 256 KiB, in parallel, re-sending only the entries SQS reports failed. Resolves
 * only once every message is stored; otherwise throws EventQueueUnavailableError.
 */
export class SqsJsonQueue<T> {
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly maxConcurrentCalls: number;
  private readonly maxAttempts: number;
  private readonly retryBaseDelayMs: number;
  private readonly wait: (milliseconds: number) => Promise<void>;
  private readonly attributesOf: (message: T) => Readonly<Record<string, string>>;

  constructor(options: SqsJsonQueueOptions<T>) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.maxConcurrentCalls = options.maxConcurrentCalls ?? 8;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 50;
    this.wait = options.wait ?? ((milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)));
    this.attributesOf = options.attributesOf;
  }

  async send(messages: readonly T[]): Promise<void> {
    const calls = chunkForSendMessageBatch(messages.map((message) => prepareEntry(message, this.attributesOf(message))));
    await forEachWithConcurrency(calls, this.maxConcurrentCalls, (entries) => this.sendWithRetries(entries));
  }

  /** Sends one call's entries, re-sending only those SQS reports as failed, with backoff. */
  private async sendWithRetries(entries: readonly PreparedEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 1; ; attempt += 1) {
      const failedCodes = await this.sendOnce(pending);
      pending = pending.filter((_, position) => failedCodes.has(entryId(position)));
      if (pending.length === 0) return;
      if (attempt >= this.maxAttempts) {
        const codes = [...new Set(failedCodes.values())].join(', ');
        throw new EventQueueUnavailableError(`SQS did not accept ${pending.length} messages after ${attempt} attempts (${codes})`);
      }
      await this.wait(this.backoffDelay(attempt));
    }
  }

  /** One SendMessageBatch call; returns the error code of each entry that did not succeed, by Id. */
  private async sendOnce(entries: readonly PreparedEntry[]): Promise<Map<string, string>> {
    const request: SendMessageBatchRequestEntry[] = entries.map((entry, position) => ({
      Id: entryId(position),
      MessageBody: entry.body,
      MessageAttributes: entry.attributes,
    }));
    let output: SendMessageBatchCommandOutput;
    try {
      output = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: request }));
    } catch (error) {
      throw new EventQueueUnavailableError('SendMessageBatch call failed', { cause: error });
    }
    const succeeded = new Set((output.Successful ?? []).map((entry) => entry.Id));
    const reportedFailures = new Map((output.Failed ?? []).map((entry) => [entry.Id, entry.Code ?? 'Unknown']));
    // An entry reported neither successful nor failed is not known to be stored: treat it as failed.
    const failed = new Map<string, string>();
    for (const { Id } of request) {
      if (Id !== undefined && !succeeded.has(Id)) failed.set(Id, reportedFailures.get(Id) ?? 'NotReported');
    }
    return failed;
  }

  private backoffDelay(attempt: number): number {
    const ceiling = this.retryBaseDelayMs * 2 ** (attempt - 1);
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }
}

function entryId(position: number): string {
  return `m${position}`;
}

/**
 * SQS accepts only XML characters in a body. JSON.stringify already escapes control characters and
 * lone surrogates; U+FFFE and U+FFFF it leaves raw, so they are escaped here (same JSON value).
 */
function sqsSafeJson(message: unknown): string {
  return JSON.stringify(message).replace(/[\uFFFE\uFFFF]/g, (character) => `\\u${character.charCodeAt(0).toString(16)}`);
}

function prepareEntry(message: unknown, stringAttributes: Readonly<Record<string, string>>): PreparedEntry {
  const body = sqsSafeJson(message);
  const attributes: Record<string, MessageAttributeValue> = Object.fromEntries(
    Object.entries(stringAttributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
  );
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? '');
  }
  return { body, attributes, bytes };
}

/** Greedy packing into calls of at most 10 entries and 256 KiB, preserving order. */
function chunkForSendMessageBatch(entries: readonly PreparedEntry[]): PreparedEntry[][] {
  const calls: PreparedEntry[][] = [];
  let current: PreparedEntry[] = [];
  let currentBytes = 0;
  for (const entry of entries) {
    if (current.length === MAX_ENTRIES_PER_CALL || (current.length > 0 && currentBytes + entry.bytes > MAX_BYTES_PER_CALL)) {
      calls.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += entry.bytes;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

/** Runs `work` over every item with at most `limit` in flight; after a failure starts no more, then rethrows it. */
async function forEachWithConcurrency<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < items.length) {
      const item = items[next] as T;
      next += 1;
      try {
        await work(item);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
}
