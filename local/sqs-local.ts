import type { Server } from 'node:http';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import {
  CreateQueueCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createSqsServer } from 'local-aws-sqs';
import type { QueueDefinition } from '../lib/definitions/queues';
import { LOOPBACK } from './free-port';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, localAwsCredentials } from './lambda-runtime';

const SECONDS_PER_DAY = 86_400;
/** SQS's maximum retention, used for dead-letter queues so nothing expires while investigated. */
const MAX_RETENTION_SECONDS = 14 * SECONDS_PER_DAY;
const SQS_MAX_MESSAGES_PER_CALL = 10;

export interface LocalQueue {
  readonly definition: QueueDefinition;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly deadLetterName: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
}

export interface LocalSqs {
  readonly endpoint: string;
  readonly client: SQSClient;
  readonly queues: readonly LocalQueue[];
  isHealthy(): Promise<boolean>;
  stop(): Promise<void>;
}

function queueArn(name: string): string {
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`;
}

function deadLetterQueueName(definition: QueueDefinition): string {
  return `${definition.id}-dlq`;
}

/**
 * Starts the in-process SQS emulator on a free loopback port and creates every queue with its
 * DLQ, redrive policy, visibility timeout and retention from the definitions.
 */
export async function startLocalSqs(definitions: readonly QueueDefinition[]): Promise<LocalSqs> {
  const server: Server = await createSqsServer({
    port: 0,
    hostname: LOOPBACK,
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    emulateQueueCreationLifecycle: false,
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the SQS emulator has no TCP address');
  const endpoint = `http://${LOOPBACK}:${address.port}`;
  const client = new SQSClient({ endpoint, region: LOCAL_REGION, credentials: localAwsCredentials() });
  const stop = async (): Promise<void> => {
    client.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  try {
    const queues: LocalQueue[] = [];
    for (const definition of definitions) {
      const deadLetterName = deadLetterQueueName(definition);
      const deadLetter = await client.send(
        new CreateQueueCommand({ QueueName: deadLetterName, Attributes: { MessageRetentionPeriod: String(MAX_RETENTION_SECONDS) } }),
      );
      const queue = await client.send(
        new CreateQueueCommand({
          QueueName: definition.id,
          Attributes: {
            VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
            MessageRetentionPeriod: String(Math.min(definition.retentionDays * SECONDS_PER_DAY, MAX_RETENTION_SECONDS)),
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn(deadLetterName), maxReceiveCount: definition.maxReceiveCount }),
          },
        }),
      );
      if (!queue.QueueUrl || !deadLetter.QueueUrl) throw new Error(`queue ${definition.id} was created without a URL`);
      queues.push({
        definition,
        name: definition.id,
        url: queue.QueueUrl,
        arn: queueArn(definition.id),
        deadLetterName,
        deadLetterUrl: deadLetter.QueueUrl,
        deadLetterArn: queueArn(deadLetterName),
      });
    }
    const isHealthy = async (): Promise<boolean> => {
      try {
        await client.send(new ListQueuesCommand({ MaxResults: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        return true;
      } catch {
        return false;
      }
    };
    return { endpoint, client, queues, isHealthy, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A message as kept across restarts: what a producer sent, not its delivery state. */
interface SnapshotMessage {
  readonly body: string;
  readonly messageAttributes?: Record<string, { dataType: string; stringValue?: string; binaryValue?: string }>;
}

interface SqsSnapshot {
  readonly version: 1;
  readonly savedAt: string;
  /** By queue name (DLQs included). */
  readonly queues: Record<string, SnapshotMessage[]>;
}

/** The emulator may hand binary attribute values back as byte-indexed objects; accepts all forms. */
export function binaryAttributeToBase64(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'object') return Buffer.from(Object.values(value as Record<string, number>)).toString('base64');
  return undefined;
}

function toSnapshotMessage(message: Message): SnapshotMessage {
  const attributes = Object.entries(message.MessageAttributes ?? {});
  if (attributes.length === 0) return { body: message.Body ?? '' };
  return {
    body: message.Body ?? '',
    messageAttributes: Object.fromEntries(
      attributes.map(([name, value]) => {
        const binary = binaryAttributeToBase64(value.BinaryValue);
        return [
          name,
          {
            dataType: value.DataType ?? 'String',
            ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
            ...(binary !== undefined && { binaryValue: binary }),
          },
        ];
      }),
    ),
  };
}

function toAttributeValues(message: SnapshotMessage): Record<string, MessageAttributeValue> | undefined {
  if (!message.messageAttributes) return undefined;
  return Object.fromEntries(
    Object.entries(message.messageAttributes).map(([name, value]) => [
      name,
      {
        DataType: value.dataType,
        ...(value.stringValue !== undefined && { StringValue: value.stringValue }),
        ...(value.binaryValue !== undefined && { BinaryValue: Buffer.from(value.binaryValue, 'base64') }),
      },
    ]),
  );
}

/** Takes every visible message out of a queue (the platform is stopping; nobody else reads). */
async function takeVisibleMessages(client: SQSClient, queueUrl: string, deadline: number): Promise<Message[]> {
  const taken: Message[] = [];
  while (Date.now() < deadline) {
    const response = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: SQS_MAX_MESSAGES_PER_CALL,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 43_200,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = response.Messages ?? [];
    if (messages.length === 0) break;
    taken.push(...messages);
  }
  return taken;
}

/**
 * Saves what is left in every queue and DLQ (plus the messages the pollers still hold
 * invisible) to `file`, so that a restart loses nothing. No file is written when all are empty.
 */
export async function saveQueueSnapshot(
  sqs: LocalSqs,
  heldMessages: (queueId: string) => readonly Message[],
  file: string,
  deadline: number,
  logger: Logger,
): Promise<number> {
  const queues: Record<string, SnapshotMessage[]> = {};
  let count = 0;
  for (const queue of sqs.queues) {
    const byId = new Map<string, Message>();
    for (const message of [...heldMessages(queue.definition.id), ...(await takeVisibleMessages(sqs.client, queue.url, deadline))]) {
      byId.set(message.MessageId ?? String(byId.size), message);
    }
    const deadLetters = await takeVisibleMessages(sqs.client, queue.deadLetterUrl, deadline);
    queues[queue.name] = [...byId.values()].map(toSnapshotMessage);
    queues[queue.deadLetterName] = deadLetters.map(toSnapshotMessage);
    count += byId.size + deadLetters.length;
  }
  if (Date.now() >= deadline) logger.warn('queue snapshot hit its deadline; some messages may be missing');
  if (count === 0) {
    await rm(file, { force: true });
    return 0;
  }
  const snapshot: SqsSnapshot = { version: 1, savedAt: new Date().toISOString(), queues };
  const partial = `${file}.partial`;
  await writeFile(partial, JSON.stringify(snapshot));
  await rename(partial, file);
  return count;
}

function isSnapshot(value: unknown): value is SqsSnapshot {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<SqsSnapshot>;
  return candidate.version === 1 && typeof candidate.queues === 'object' && candidate.queues !== null;
}

/** Sends the messages of a snapshot back to their queues, then removes the snapshot file. */
export async function restoreQueueSnapshot(sqs: LocalSqs, file: string, logger: Logger): Promise<number> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const snapshot: unknown = JSON.parse(content);
  if (!isSnapshot(snapshot)) throw new Error(`${file} is not a queue snapshot of this version`);
  const urls = new Map(sqs.queues.flatMap((queue) => [[queue.name, queue.url] as const, [queue.deadLetterName, queue.deadLetterUrl] as const]));
  let restored = 0;
  for (const [name, messages] of Object.entries(snapshot.queues)) {
    const url = urls.get(name);
    if (!url) {
      logger.warn('snapshot names a queue that no longer exists; its messages are dropped', { queue: name, messages: messages.length });
      continue;
    }
    for (let start = 0; start < messages.length; start += SQS_MAX_MESSAGES_PER_CALL) {
      const chunk = messages.slice(start, start + SQS_MAX_MESSAGES_PER_CALL);
      const response = await sqs.client.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: chunk.map((message, index) => ({
            Id: String(index),
            MessageBody: message.body,
            MessageAttributes: toAttributeValues(message),
          })),
        }),
      );
      if ((response.Failed ?? []).length > 0) throw new Error(`restoring ${name} failed for ${response.Failed?.length} messages`);
      restored += chunk.length;
    }
  }
  await rm(file, { force: true });
  return restored;
}
