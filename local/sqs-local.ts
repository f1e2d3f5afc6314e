import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ListQueuesCommand, SendMessageBatchCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { QueueDefinition } from '../lib/definitions/queues';
import type { PolledQueue } from './event-source-poller';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, localAwsCredentials } from './lambda-runtime';
import { openJournal, replayJournal, type Journal } from './sqs/journal';
import { QueueEngine, type QueueDepth } from './sqs/queue-engine';
import { startSqsEndpoint } from './sqs/sqs-endpoint';
import { SqsRequestCounter, type SqsRequestCounts } from './sqs/request-counts';

const SECONDS_PER_DAY = 86_400;
/** SQS's maximum retention, used for dead-letter queues so nothing expires while investigated. */
const MAX_RETENTION_SECONDS = 14 * SECONDS_PER_DAY;
const SQS_MAX_MESSAGES_PER_CALL = 10;
/** The local SQS's write-ahead log, inside `DMP_DATA_DIR`. */
export const SQS_JOURNAL_FILE = path.join('sqs', 'journal.jsonl');
/** What platforms before the journal saved at stop; imported once, then removed. */
const LEGACY_SNAPSHOT_FILE = 'sqs-snapshot.json';

export interface LocalQueue {
  readonly definition: QueueDefinition;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly deadLetterName: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
}

/** What a start found in the journal: messages per queue, and how many had been received (in flight or awaiting a retry). */
export interface RecoveredQueue {
  readonly queue: string;
  readonly messages: number;
  readonly received: number;
}

export interface QueueDepths {
  readonly queue: QueueDepth;
  readonly deadLetter: QueueDepth;
}

export interface LocalSqs {
  readonly endpoint: string;
  readonly client: SQSClient;
  readonly queues: readonly LocalQueue[];
  /** Empty when the queues are in memory or the journal was empty. */
  readonly recovered: readonly RecoveredQueue[];
  /** Visible, in-flight and delayed messages of each platform queue and its DLQ, by queue id. */
  depths(): Record<string, QueueDepths>;
  /** Bytes and commits of the journal so far (zero in memory). */
  journalStats(): { readonly bytes: number; readonly commits: number };
  /** A queue by name as the event source pollers reach it: the engine itself, no HTTP. */
  polledQueue(name: string): PolledQueue;
  /** Requests answered so far, by queue and action, as SQS bills them (see sqs/request-counts.ts). */
  requestCounts(): SqsRequestCounts;
  isHealthy(): Promise<boolean>;
  /** Answers pending long polls, closes the server and the journal (everything accepted is on disk). */
  stop(): Promise<void>;
}

export interface LocalSqsOptions {
  /** `DMP_DATA_DIR`: the journal lives there and is replayed at start. Undefined keeps queues in memory. */
  readonly dataDirectory?: string;
  readonly logger: Logger;
}

function deadLetterQueueName(definition: QueueDefinition): string {
  return `${definition.id}-dlq`;
}

/**
 * Starts the local SQS on a free loopback port and creates (or updates) every queue with its
 * DLQ, redrive policy, visibility timeout and retention from the definitions. With a data
 * directory every accepted message is in the journal before SendMessage answers, and a restart
 * replays it: nothing accepted is lost, received-but-undeleted messages come back with their
 * receive count, deleted ones never do.
 */
export async function startLocalSqs(definitions: readonly QueueDefinition[], options: LocalSqsOptions): Promise<LocalSqs> {
  const { logger } = options;
  const engine = new QueueEngine({ region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID });
  const journalFile = options.dataDirectory ? path.join(options.dataDirectory, SQS_JOURNAL_FILE) : undefined;
  let journal: Journal | undefined;
  if (journalFile) {
    const replay = await replayJournal(journalFile, (record) => engine.replay(record));
    if (replay.skipped > 0)
      logger.warn('unreadable lines in the SQS journal were skipped (a write cut short by a crash)', { lines: replay.skipped, file: journalFile });
    journal = await openJournal(journalFile, () => engine.snapshot());
    engine.useJournal(journal);
  }
  const recovered = engine.contents().filter((content) => content.messages > 0);
  const requests = new SqsRequestCounter();
  const server = await startSqsEndpoint(engine, logger, requests);
  const client = new SQSClient({ endpoint: server.endpoint, region: LOCAL_REGION, credentials: localAwsCredentials() });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      engine.close();
      client.destroy();
      await server.close();
      await journal?.close();
    })();
    return stopped;
  };
  try {
    const queues: LocalQueue[] = [];
    for (const definition of definitions) {
      const deadLetterName = deadLetterQueueName(definition);
      const deadLetterUrl = await engine.putQueue(deadLetterName, { MessageRetentionPeriod: String(MAX_RETENTION_SECONDS) });
      const url = await engine.putQueue(definition.id, {
        VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(Math.min(definition.retentionDays * SECONDS_PER_DAY, MAX_RETENTION_SECONDS)),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: engine.arnOf(deadLetterName), maxReceiveCount: definition.maxReceiveCount }),
      });
      queues.push({
        definition,
        name: definition.id,
        url,
        arn: engine.arnOf(definition.id),
        deadLetterName,
        deadLetterUrl,
        deadLetterArn: engine.arnOf(deadLetterName),
      });
    }
    const local: LocalSqs = {
      endpoint: server.endpoint,
      client,
      queues,
      recovered,
      depths: () =>
        Object.fromEntries(queues.map((queue) => [queue.name, { queue: engine.depth(queue.name), deadLetter: engine.depth(queue.deadLetterName) }])),
      journalStats: () => journal?.stats() ?? { bytes: 0, commits: 0 },
      polledQueue: (name) => ({
        receive: async (maxMessages, waitSeconds) => {
          // A stopped engine answers every receive at once: failing keeps a poller from spinning on it.
          if (stopped) throw new Error('the local SQS is stopped');
          return engine.receive(name, { maxMessages, waitSeconds, systemAttributeNames: ['All'], messageAttributeNames: ['All'] });
        },
        delete: (receiptHandle) => engine.delete(name, receiptHandle),
        depth: () => engine.depth(name),
      }),
      requestCounts: () => requests.snapshot(),
      isHealthy: async () => {
        try {
          await client.send(new ListQueuesCommand({ MaxResults: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
          return true;
        } catch {
          return false;
        }
      },
      stop,
    };
    if (options.dataDirectory) await importLegacySnapshot(local, path.join(options.dataDirectory, LEGACY_SNAPSHOT_FILE), logger);
    return local;
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

function isSnapshot(value: unknown): value is SqsSnapshot {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<SqsSnapshot>;
  return candidate.version === 1 && typeof candidate.queues === 'object' && candidate.queues !== null;
}

/**
 * Sends the messages of a snapshot (what platforms before the journal saved at stop) to their
 * queues, then removes the file: an upgrade loses nothing that was left queued.
 */
async function importLegacySnapshot(sqs: LocalSqs, file: string, logger: Logger): Promise<void> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
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
  logger.info('imported the queue snapshot of an earlier version into the SQS journal', { messages: restored });
}
