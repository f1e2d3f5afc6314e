import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openJournal, replayJournal, type Journal } from '../../../local/sqs/journal';
import { QueueEngine } from '../../../local/sqs/queue-engine';

/** The local SQS's queue semantics and write-ahead log, without HTTP. */

let directory: string;
let file: string;
const journals: Journal[] = [];

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sqs-journal-'));
  file = path.join(directory, 'journal.jsonl');
});

afterEach(async () => {
  await Promise.all(journals.splice(0).map((journal) => journal.close().catch(() => undefined)));
  await rm(directory, { recursive: true, force: true });
});

/** A queue engine as a start builds it: replay the file, then journal every change. */
async function open(now?: () => number): Promise<QueueEngine> {
  const engine = new QueueEngine({ region: 'us-east-1', accountId: '000000000000', ...(now && { now }) });
  await replayJournal(file, (record) => engine.replay(record));
  const journal = await openJournal(file, () => engine.snapshot());
  journals.push(journal);
  engine.useJournal(journal);
  return engine;
}

async function withQueues(engine: QueueEngine, maxReceiveCount = 3): Promise<void> {
  await engine.putQueue('work-dlq', {});
  await engine.putQueue('work', {
    VisibilityTimeout: '30',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: engine.arnOf('work-dlq'), maxReceiveCount }),
  });
}

const bodies = (messages: readonly { Body: string }[]): string[] => messages.map((message) => message.Body).sort();

it('keeps every sent message, visible again with its receive count, and never a deleted one, without a clean close', async () => {
  const first = await open();
  await withQueues(first);
  await first.send('work', [{ body: 'a', attributes: { kind: { DataType: 'String', StringValue: 'x' } } }, { body: 'b' }, { body: 'c' }]);
  const received = await first.receive('work', { maxMessages: 10, systemAttributeNames: ['All'] });
  expect(bodies(received)).toEqual(['a', 'b', 'c']);
  const deleted = received.find((message) => message.Body === 'c');
  await first.delete('work', deleted?.ReceiptHandle ?? '');
  // A receive count is written with the next commit: this delete's.

  // No close(): the process is gone, what reached the file is all there is.
  const second = await open();
  const again = await second.receive('work', { maxMessages: 10, systemAttributeNames: ['All'], messageAttributeNames: ['All'] });
  expect(bodies(again)).toEqual(['a', 'b']);
  expect(again.map((message) => message.Attributes?.ApproximateReceiveCount)).toEqual(['2', '2']);
  expect(again.find((message) => message.Body === 'a')?.MessageAttributes).toEqual({ kind: { DataType: 'String', StringValue: 'x' } });
  expect(again.map((message) => message.MessageId).sort()).toEqual(
    received
      .filter((message) => message.Body !== 'c')
      .map((message) => message.MessageId)
      .sort(),
  );
});

it('still moves a message to the DLQ after maxReceiveCount receives counted across restarts', async () => {
  let clock = 1_000_000;
  const now = (): number => clock;
  const first = await open(now);
  await withQueues(first, 2);
  await first.send('work', [{ body: 'poison' }]);
  expect(await first.receive('work', {})).toHaveLength(1);
  await first.send('work', [{ body: 'commit' }]);

  const second = await open(now);
  const [redelivered] = await second.receive('work', { systemAttributeNames: ['ApproximateReceiveCount'] });
  expect(redelivered?.Attributes).toEqual({ ApproximateReceiveCount: '2' });
  clock += 31_000;
  // The third receive would pass maxReceiveCount 2: the message goes to the DLQ instead.
  const third = await second.receive('work', { maxMessages: 10 });
  expect(bodies(third)).toEqual(['commit']);
  expect(bodies(await second.receive('work-dlq', { maxMessages: 10 }))).toEqual(['poison']);
});

it('does not count a visibility change as a receive, as SQS does not', async () => {
  const engine = await open();
  await withQueues(engine, 2);
  await engine.send('work', [{ body: 'retry' }]);
  const [first] = await engine.receive('work', {});
  engine.changeVisibility('work', first?.ReceiptHandle ?? '', 0);
  const [second] = await engine.receive('work', { systemAttributeNames: ['All'] });
  expect(second?.Attributes?.ApproximateReceiveCount).toBe('2');
  expect(() => engine.changeVisibility('work', first?.ReceiptHandle ?? '', 10)).toThrow(/not available for visibility timeout change/);
});

it('skips a last line cut short by a crash and reads the rest', async () => {
  const first = await open();
  await withQueues(first);
  await first.send('work', [{ body: 'whole' }]);
  await appendFile(file, '{"t":"send","q":"work","id":"cut","bo');
  const replay = await replayJournal(file, () => undefined);
  expect(replay.skipped).toBe(1);
  const second = await open();
  expect(bodies(await second.receive('work', { maxMessages: 10 }))).toEqual(['whole']);
});

it('starts from a snapshot of what is live: deleted messages leave no trace in the file', async () => {
  const first = await open();
  await withQueues(first);
  await first.send(
    'work',
    Array.from({ length: 20 }, (_, index) => ({ body: `gone-${index}` })),
  );
  for (const message of await first.receive('work', { maxMessages: 10 })) await first.delete('work', message.ReceiptHandle);
  for (const message of await first.receive('work', { maxMessages: 10 })) await first.delete('work', message.ReceiptHandle);
  await first.send('work', [{ body: 'kept' }]);
  await open();
  const content = await readFile(file, 'utf8');
  expect(content).not.toContain('gone-');
  expect(content.match(/"t":"send"/g)).toHaveLength(1);
});

it('answers a long poll as soon as a message arrives, and at once when closed', async () => {
  const engine = await open();
  await withQueues(engine);
  const polling = engine.receive('work', { waitSeconds: 20 });
  await engine.send('work', [{ body: 'late' }]);
  expect(bodies(await polling)).toEqual(['late']);
  const idle = engine.receive('work', { waitSeconds: 20 });
  engine.close();
  expect(await idle).toEqual([]);
});

it('refuses what SQS refuses, with its error codes', async () => {
  const engine = await open();
  await withQueues(engine);
  await expect(engine.send('missing', [{ body: 'x' }])).rejects.toMatchObject({ code: 'QueueDoesNotExist' });
  await expect(engine.createQueue('work', { VisibilityTimeout: '5' })).rejects.toMatchObject({ code: 'QueueAlreadyExists' });
  await expect(engine.receive('work', { maxMessages: 11 })).rejects.toMatchObject({ code: 'InvalidParameterValue' });
  await expect(engine.delete('work', 'not-a-handle')).rejects.toMatchObject({ code: 'ReceiptHandleIsInvalid' });
  await expect(engine.send('work', [{ body: 'x'.repeat(1024 * 1024 + 1) }])).rejects.toMatchObject({ code: 'InvalidParameterValue' });
});
