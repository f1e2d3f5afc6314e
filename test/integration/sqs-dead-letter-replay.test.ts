import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  cloudFormationQueuePrefixes,
  listDeadLetters,
  replayDeadLetters,
  resolveDeadLetterQueues,
  type SqsSender,
} from '../../functions/adapters/sqs-dead-letter-replay';
import { ACTIVATION_QUEUE, QUEUES, type QueueDefinition } from '../../lib/definitions/queues';
import { withSavedQueues } from '../../local/saved-queues';
import { startLocalSqs, type LocalQueue, type LocalSqs } from '../../local/sqs-local';

/** DLQ listing and replay against the local SQS emulator (the same API calls as on AWS). */
const ROOT = path.join(__dirname, '..', '..');
const logger = new Logger({ serviceName: 'dlq-test', logLevel: 'ERROR' });
/** One queue pair per test, so tests never see each other's messages. */
const TEST_QUEUES = ['Resolve', 'Moves', 'Max', 'Listing', 'SendFails', 'PartlyFails'];
const definition = (id: string): QueueDefinition => ({ ...ACTIVATION_QUEUE, id });

let sqs: LocalSqs;

beforeAll(async () => {
  sqs = await startLocalSqs(TEST_QUEUES.map(definition), { logger });
}, 30_000);

afterAll(async () => {
  await sqs?.stop();
});

function queue(id: string): LocalQueue {
  const found = sqs.queues.find((candidate) => candidate.name === id);
  if (!found) throw new Error(`no queue ${id}`);
  return found;
}

const pairOf = (id: string) => ({ sourceUrl: queue(id).url, deadLetterUrl: queue(id).deadLetterUrl });

const attributesOf = (index: number): Record<string, MessageAttributeValue> => ({
  transition: { DataType: 'String', StringValue: `t-${index}` },
  attempt: { DataType: 'Number', StringValue: String(index) },
  digest: { DataType: 'Binary', BinaryValue: Uint8Array.from([index, 0, 255]) },
});

/** `count` dead letters with distinct bodies and string, number and binary attributes. */
async function deadLetters(client: SQSClient, queueUrl: string, count: number): Promise<string[]> {
  const bodies = Array.from({ length: count }, (_, index) => JSON.stringify({ kind: 'audience-transition', transitionId: `t-${index}`, note: 'ünïcode ✓' }));
  for (let start = 0; start < count; start += 10) {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies
          .slice(start, start + 10)
          .map((body, offset) => ({ Id: String(offset), MessageBody: body, MessageAttributes: attributesOf(start + offset) })),
      }),
    );
  }
  return bodies;
}

interface Received {
  readonly body: string;
  readonly attributes: Record<string, { DataType?: string; StringValue?: string; BinaryValue?: number[] }>;
}

/** Takes every visible message of a queue, attributes made comparable. */
async function drain(client: SQSClient, queueUrl: string): Promise<Received[]> {
  const taken: Received[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300, MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return taken;
    for (const message of Messages) {
      const attributes = Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          {
            DataType: value.DataType,
            ...(value.StringValue !== undefined && { StringValue: value.StringValue }),
            ...(value.BinaryValue !== undefined && { BinaryValue: [...value.BinaryValue] }),
          },
        ]),
      );
      taken.push({ body: message.Body ?? '', attributes });
    }
  }
}

const expectedAttributes = (index: number) => ({
  transition: { DataType: 'String', StringValue: `t-${index}` },
  attempt: { DataType: 'Number', StringValue: String(index) },
  digest: { DataType: 'Binary', BinaryValue: [index, 0, 255] },
});

const indexOf = (body: string): number => Number((JSON.parse(body) as { transitionId: string }).transitionId.slice(2));

describe('resolveDeadLetterQueues', () => {
  it('finds the local platform pair by name', async () => {
    expect(await resolveDeadLetterQueues(sqs.client, 'Resolve', { stackName: 'DmpStorage' })).toEqual(pairOf('Resolve'));
  });

  it('finds the pair CloudFormation named, the source by its redrive policy', async () => {
    const prefixes = cloudFormationQueuePrefixes('DmpStorage', 'Activation');
    const dlq = await sqs.client.send(new CreateQueueCommand({ QueueName: `${prefixes.deadLetter}5E6F7A8B-Q1w2E3r4T5y6` }));
    const source = await sqs.client.send(
      new CreateQueueCommand({
        QueueName: `${prefixes.source}1A2B3C4D-Z9x8C7v6B5n4`,
        Attributes: {
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: `arn:aws:sqs:us-east-1:123456789012:${prefixes.deadLetter}5E6F7A8B-Q1w2E3r4T5y6`,
            maxReceiveCount: 10,
          }),
        },
      }),
    );
    expect(await resolveDeadLetterQueues(sqs.client, 'Activation', { stackName: 'DmpStorage' })).toEqual({
      sourceUrl: source.QueueUrl,
      deadLetterUrl: dlq.QueueUrl,
    });
    await expect(resolveDeadLetterQueues(sqs.client, 'Activation', { stackName: 'OtherStack' })).rejects.toThrow(
      /no queue named OtherStack-ActivationDeadLetterQueue\*/,
    );
  });
});

describe('replayDeadLetters', () => {
  it('moves every message back to the source queue with body and attributes intact, and empties the DLQ', async () => {
    const bodies = await deadLetters(sqs.client, queue('Moves').deadLetterUrl, 25);
    const report = await replayDeadLetters(sqs.client, pairOf('Moves'));
    expect(report).toEqual({ moved: 25, notDeleted: [], failed: [] });
    const replayed = await drain(sqs.client, queue('Moves').url);
    expect(replayed.map((message) => message.body).sort()).toEqual([...bodies].sort());
    for (const message of replayed) expect(message.attributes).toEqual(expectedAttributes(indexOf(message.body)));
    expect(await listDeadLetters(sqs.client, queue('Moves').deadLetterUrl, { max: 100 })).toEqual([]);
  });

  it('moves at most --max messages and leaves the others', async () => {
    await deadLetters(sqs.client, queue('Max').deadLetterUrl, 12);
    expect(await replayDeadLetters(sqs.client, pairOf('Max'), { max: 3 })).toMatchObject({ moved: 3 });
    expect(await drain(sqs.client, queue('Max').url)).toHaveLength(3);
    expect(await listDeadLetters(sqs.client, queue('Max').deadLetterUrl, { max: 100 })).toHaveLength(9);
  });

  it('leaves every message in the DLQ, visible, when the source queue refuses them', async () => {
    const bodies = await deadLetters(sqs.client, queue('SendFails').deadLetterUrl, 4);
    const gone = { sourceUrl: queue('SendFails').url.replace(/SendFails$/, 'NoSuchQueue'), deadLetterUrl: queue('SendFails').deadLetterUrl };
    const report = await replayDeadLetters(sqs.client, gone);
    expect(report.moved).toBe(0);
    expect(report.failed).toHaveLength(4);
    expect(report.failed[0]?.reason).toMatch(/QueueDoesNotExist/);
    const left = await listDeadLetters(sqs.client, queue('SendFails').deadLetterUrl, { max: 100 });
    expect(left.map((message) => message.body).sort()).toEqual([...bodies].sort());
  });

  it('deletes only what the source queue accepted when a batch partly fails, and stops there', async () => {
    await deadLetters(sqs.client, queue('PartlyFails').deadLetterUrl, 3);
    // The source queue accepts every entry but the first of each batch.
    const partlyFailing: SqsSender = {
      send: (async (command: unknown) => {
        if (!(command instanceof SendMessageBatchCommand)) return sqs.client.send(command as never);
        const [first, ...rest] = command.input.Entries ?? [];
        for (const entry of rest)
          await sqs.client.send(
            new SendMessageCommand({ QueueUrl: command.input.QueueUrl, MessageBody: entry.MessageBody, MessageAttributes: entry.MessageAttributes }),
          );
        return {
          Successful: rest.map((entry) => ({ Id: entry.Id, MessageId: 'm', MD5OfMessageBody: '' })),
          Failed: [{ Id: first?.Id, Code: 'KMS.ThrottlingException', SenderFault: false }],
        };
      }) as SqsSender['send'],
    };
    const report = await replayDeadLetters(partlyFailing, pairOf('PartlyFails'));
    expect(report.moved).toBe(2);
    expect(report.failed).toEqual([{ messageId: expect.any(String), reason: 'KMS.ThrottlingException:' }]);
    const [left, ...others] = await listDeadLetters(sqs.client, queue('PartlyFails').deadLetterUrl, { max: 100 });
    expect(others).toEqual([]);
    expect(left?.messageId).toBe(report.failed[0]?.messageId);
    const moved = await drain(sqs.client, queue('PartlyFails').url);
    expect(moved.map((message) => message.body)).not.toContain(left?.body);
    expect(moved).toHaveLength(2);
  });
});

describe('listDeadLetters', () => {
  it('shows the messages with their send time and receive count without removing them', async () => {
    const bodies = await deadLetters(sqs.client, queue('Listing').deadLetterUrl, 13);
    const first = await listDeadLetters(sqs.client, queue('Listing').deadLetterUrl, { max: 100 });
    expect(first.map((message) => message.body).sort()).toEqual([...bodies].sort());
    expect(first[0]).toEqual({
      messageId: expect.any(String),
      sentAt: expect.any(String),
      receiveCount: 1,
      body: expect.any(String),
      attributes: expect.any(Object),
    });
    // Listed messages are visible again at once: a second listing sees them all.
    const second = await listDeadLetters(sqs.client, queue('Listing').deadLetterUrl, { max: 100 });
    expect(second.map((message) => message.messageId).sort()).toEqual(first.map((message) => message.messageId).sort());
    expect(await listDeadLetters(sqs.client, queue('Listing').deadLetterUrl, { max: 5 })).toHaveLength(5);
  });
});

describe('the queues a stopped local platform saved', () => {
  /** The queues of a stopped platform on `dataDir`, with `count` messages in Activation-dlq. */
  async function savedPlatform(count: number): Promise<{ dataDir: string; bodies: string[] }> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'dlq-'));
    const platformQueues = await startLocalSqs(QUEUES, { dataDirectory: dataDir, logger });
    try {
      const activation = platformQueues.queues.find((candidate) => candidate.name === 'Activation') as LocalQueue;
      const bodies = await deadLetters(platformQueues.client, activation.deadLetterUrl, count);
      return { dataDir, bodies };
    } finally {
      await platformQueues.stop();
    }
  }

  /** What the next start would find in each queue, read from the journal. */
  async function savedQueues(dataDir: string): Promise<Record<string, { body: string }[]>> {
    const reopened = await startLocalSqs(QUEUES, { dataDirectory: dataDir, logger });
    try {
      const contents: Record<string, { body: string }[]> = {};
      for (const { name, url, deadLetterName, deadLetterUrl } of reopened.queues) {
        contents[name] = (await listDeadLetters(reopened.client, url, { max: 1000 })).map(({ body }) => ({ body }));
        contents[deadLetterName] = (await listDeadLetters(reopened.client, deadLetterUrl, { max: 1000 })).map(({ body }) => ({ body }));
      }
      return contents;
    } finally {
      await reopened.stop();
    }
  }

  it('replays the saved Activation-dlq into the saved Activation queue, which the next start sends again', async () => {
    const { dataDir, bodies } = await savedPlatform(12);
    try {
      const listed = await withSavedQueues({ dataDir, queues: QUEUES, logger }, async (local) =>
        listDeadLetters(local.client, (await resolveDeadLetterQueues(local.client, 'Activation', { stackName: 'DmpStorage' })).deadLetterUrl, { max: 100 }),
      );
      expect(listed).toHaveLength(12);
      expect((await savedQueues(dataDir))['Activation-dlq']).toHaveLength(12);

      const report = await withSavedQueues({ dataDir, queues: QUEUES, logger }, async (local) =>
        replayDeadLetters(local.client, await resolveDeadLetterQueues(local.client, 'Activation', { stackName: 'DmpStorage' })),
      );
      expect(report).toEqual({ moved: 12, notDeleted: [], failed: [] });
      const saved = await savedQueues(dataDir);
      expect(saved['Activation-dlq']).toEqual([]);
      expect((saved.Activation ?? []).map((message) => message.body).sort()).toEqual([...bodies].sort());
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('runs nothing where no platform has run', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'dlq-empty-'));
    try {
      expect(await withSavedQueues({ dataDir, queues: QUEUES, logger }, async () => 'ran')).toBeUndefined();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('npm run dlq replays them from the command line', async () => {
    const { dataDir } = await savedPlatform(3);
    try {
      const run = (...args: string[]) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          execFile(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/dlq.ts', ...args], { cwd: ROOT, timeout: 90_000 }, (error, stdout, stderr) =>
            resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
          );
        });
      const usage = await run('replay', 'NoSuchQueue', '--data-dir', dataDir);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/unknown queue NoSuchQueue/);
      const replay = await run('replay', 'Activation', '--data-dir', dataDir);
      expect(replay.code).toBe(0);
      expect(JSON.parse(replay.stdout)).toEqual({ queue: 'Activation', moved: 3, notDeleted: [], failed: [] });
      expect((await savedQueues(dataDir)).Activation).toHaveLength(3);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
