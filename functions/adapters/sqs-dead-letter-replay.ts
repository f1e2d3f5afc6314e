import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListQueuesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * Operations on a queue's dead-letter queue: look at what is there, and move it back to the
 * queue it came from (after the cause was fixed) so its consumer tries again.
 */

/** SQS takes at most 10 messages per receive and per batch call. */
const SQS_BATCH = 10;
/** How long a listed message stays hidden while the listing goes on; it is made visible again at the end. */
const LIST_VISIBILITY_SECONDS = 30;
/** Long enough to send a batch to the source queue and delete it from the DLQ. */
const REPLAY_VISIBILITY_SECONDS = 60;

export type SqsSender = Pick<SQSClient, 'send'>;

export interface DeadLetterQueues {
  /** The queue the messages are replayed to. */
  readonly sourceUrl: string;
  readonly deadLetterUrl: string;
}

export interface DeadLetter {
  readonly messageId: string;
  /** When the message was first sent (to the source queue). */
  readonly sentAt?: string;
  /** Receives so far, the source queue's included. */
  readonly receiveCount?: number;
  readonly body: string;
  readonly attributes: Readonly<Record<string, MessageAttributeValue>>;
}

export interface ReplayReport {
  /** Sent to the source queue and deleted from the DLQ. */
  readonly moved: number;
  /** Sent, but the delete failed: the message reappears in the DLQ and a later replay sends it again. */
  readonly notDeleted: readonly string[];
  /** Not sent: left in the DLQ (made visible again), with the reason. */
  readonly failed: ReadonlyArray<{ readonly messageId: string; readonly reason: string }>;
}

export class DeadLetterQueueNotFoundError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'DeadLetterQueueNotFoundError';
  }
}

async function queueUrlNamed(sqs: SqsSender, name: string): Promise<string | undefined> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if (error instanceof QueueDoesNotExist) return undefined;
    throw error;
  }
}

async function queueUrlsStartingWith(sqs: SqsSender, prefix: string): Promise<string[]> {
  const urls: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 1_000, ...(nextToken && { NextToken: nextToken }) }));
    urls.push(...(page.QueueUrls ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return urls;
}

/**
 * Name prefixes of a queue's pair as CloudFormation names them: the constructs set no physical
 * names, so a queue is `<stack>-<logical id>-<random>`, the logical id being the construct path
 * `<QueueId>/Queue` or `<QueueId>/DeadLetterQueue` (lib/constructs/queue-with-dlq.ts) plus a hash.
 */
export function cloudFormationQueuePrefixes(stackName: string, queueId: string): { readonly source: string; readonly deadLetter: string } {
  return { source: `${stackName}-${queueId}Queue`, deadLetter: `${stackName}-${queueId}DeadLetterQueue` };
}

/**
 * Finds a queue's DLQ and the queue it feeds back to. The local platform names them `<QueueId>`
 * and `<QueueId>-dlq` (local/sqs-local.ts); on AWS they are looked up by the names
 * CloudFormation generated in `stackName`, and the source is the queue whose redrive policy
 * targets the DLQ.
 */
export async function resolveDeadLetterQueues(sqs: SqsSender, queueId: string, options: { readonly stackName: string }): Promise<DeadLetterQueues> {
  const localDeadLetter = await queueUrlNamed(sqs, `${queueId}-dlq`);
  if (localDeadLetter) {
    const localSource = await queueUrlNamed(sqs, queueId);
    if (!localSource) throw new DeadLetterQueueNotFoundError(`queue ${queueId} not found beside ${queueId}-dlq`);
    return { sourceUrl: localSource, deadLetterUrl: localDeadLetter };
  }
  const prefix = cloudFormationQueuePrefixes(options.stackName, queueId).deadLetter;
  const candidates = await queueUrlsStartingWith(sqs, prefix);
  if (candidates.length !== 1) {
    throw new DeadLetterQueueNotFoundError(
      `${candidates.length === 0 ? 'no queue' : `${candidates.length} queues`} named ${prefix}*: pass the URLs with --dlq-url and --queue-url`,
    );
  }
  const deadLetterUrl = candidates[0] as string;
  return { sourceUrl: await sourceQueueOf(sqs, deadLetterUrl), deadLetterUrl };
}

/** The one queue whose redrive policy targets `deadLetterUrl`. */
export async function sourceQueueOf(sqs: SqsSender, deadLetterUrl: string): Promise<string> {
  const { queueUrls = [] } = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: deadLetterUrl }));
  if (queueUrls.length !== 1) {
    throw new DeadLetterQueueNotFoundError(`${queueUrls.length} queues redrive to ${deadLetterUrl}: pass the one to replay to with --queue-url`);
  }
  return queueUrls[0] as string;
}

async function receive(sqs: SqsSender, queueUrl: string, max: number, visibilitySeconds: number): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.min(SQS_BATCH, max),
      VisibilityTimeout: visibilitySeconds,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
      // Both names: the local emulator reads only the legacy one, SQS prefers the new one.
      AttributeNames: ['All'],
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    }),
  );
  return Messages;
}

/** Best effort: a message left hidden reappears by itself when its visibility timeout ends. */
async function makeVisible(sqs: SqsSender, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let start = 0; start < messages.length; start += SQS_BATCH) {
    const entries = messages
      .slice(start, start + SQS_BATCH)
      .map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries })).catch(() => undefined);
  }
}

function deadLetterOf(message: Message): DeadLetter {
  const sentTimestamp = Number(message.Attributes?.SentTimestamp);
  const receiveCount = Number(message.Attributes?.ApproximateReceiveCount);
  return {
    messageId: message.MessageId ?? '',
    ...(Number.isFinite(sentTimestamp) && sentTimestamp > 0 && { sentAt: new Date(sentTimestamp).toISOString() }),
    ...(Number.isFinite(receiveCount) && receiveCount > 0 && { receiveCount }),
    body: message.Body ?? '',
    attributes: message.MessageAttributes ?? {},
  };
}

/**
 * Up to `max` messages of the DLQ, without removing them: each is hidden while the listing runs
 * (so the next receive returns others), then made visible again. Receiving raises their receive
 * count, which matters to no one on a DLQ.
 */
export async function listDeadLetters(sqs: SqsSender, deadLetterUrl: string, options: { readonly max: number }): Promise<DeadLetter[]> {
  const listed: Message[] = [];
  try {
    while (listed.length < options.max) {
      const batch = await receive(sqs, deadLetterUrl, options.max - listed.length, LIST_VISIBILITY_SECONDS);
      if (batch.length === 0) break;
      listed.push(...batch);
    }
  } finally {
    await makeVisible(sqs, deadLetterUrl, listed);
  }
  return listed.map(deadLetterOf);
}

/** Only the value fields SendMessage accepts (the list fields are reserved by SQS). */
function attributesToSend(message: Message): Record<string, MessageAttributeValue> | undefined {
  const entries = Object.entries(message.MessageAttributes ?? {});
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map(([name, value]) => [
      name,
      {
        DataType: value.DataType,
        ...(value.StringValue !== undefined && { StringValue: value.StringValue }),
        ...(value.BinaryValue !== undefined && { BinaryValue: value.BinaryValue }),
      },
    ]),
  );
}

const reasonOf = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * Moves up to `max` messages (all by default) from the DLQ back to the source queue, body and
 * message attributes unchanged, 10 at a time: each is deleted from the DLQ only after the source
 * queue accepted it, so a crash or failure in between sends a message twice rather than never
 * (consumers are idempotent: the activation delivery log skips destinations already served).
 * Stops at the first batch the source queue refuses, leaving those messages in the DLQ.
 */
export async function replayDeadLetters(sqs: SqsSender, queues: DeadLetterQueues, options: { readonly max?: number } = {}): Promise<ReplayReport> {
  const max = options.max ?? Number.POSITIVE_INFINITY;
  let moved = 0;
  const notDeleted: string[] = [];
  const failed: Array<{ messageId: string; reason: string }> = [];
  while (moved + notDeleted.length < max && failed.length === 0) {
    const batch = await receive(sqs, queues.deadLetterUrl, max - moved - notDeleted.length, REPLAY_VISIBILITY_SECONDS);
    if (batch.length === 0) break;
    const entries = batch.map((message, index) => ({ Id: String(index), MessageBody: message.Body ?? '', MessageAttributes: attributesToSend(message) }));
    const sentIds = new Set<string>();
    const reasons = new Map<string, string>();
    try {
      const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queues.sourceUrl, Entries: entries }));
      for (const entry of result.Successful ?? []) sentIds.add(entry.Id ?? '');
      for (const entry of result.Failed ?? []) reasons.set(entry.Id ?? '', `${entry.Code ?? 'Failed'}: ${entry.Message ?? ''}`.trim());
    } catch (error) {
      for (const entry of entries) reasons.set(entry.Id, reasonOf(error));
    }
    const sent = batch.filter((_, index) => sentIds.has(String(index)));
    const unsent = batch.filter((_, index) => !sentIds.has(String(index)));
    failed.push(
      ...unsent.map((message) => ({ messageId: message.MessageId ?? '', reason: reasons.get(String(batch.indexOf(message))) ?? 'not acknowledged' })),
    );
    await makeVisible(sqs, queues.deadLetterUrl, unsent);
    if (sent.length === 0) continue;
    const deleted = await sqs
      .send(
        new DeleteMessageBatchCommand({
          QueueUrl: queues.deadLetterUrl,
          Entries: sent.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      )
      .then(
        (result) => new Set((result.Successful ?? []).map((entry) => entry.Id ?? '')),
        () => new Set<string>(),
      );
    sent.forEach((message, index) => {
      if (deleted.has(String(index))) moved += 1;
      else notDeleted.push(message.MessageId ?? '');
    });
  }
  return { moved, notDeleted, failed };
}
