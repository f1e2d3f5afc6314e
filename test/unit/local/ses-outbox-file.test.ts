import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { SendBulkEmailCommand, SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { startLocalSes, type LocalSes } from '../../../local/ses-local';

/** The local SES outbox kept in a file: it survives a restart (or a crash) on the same data directory. */

const logger = new Logger({ serviceName: 'test', logLevel: 'CRITICAL' });
let directory: string;
let file: string;
const running = new Set<LocalSes>();
const clients: SESv2Client[] = [];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ses-outbox-'));
  file = join(directory, 'ses-outbox.jsonl');
});

afterEach(async () => {
  jest.restoreAllMocks();
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all([...running].map((ses) => ses.stop()));
  running.clear();
  await rm(directory, { recursive: true, force: true });
});

async function start(): Promise<LocalSes> {
  const ses = await startLocalSes(logger, { file });
  running.add(ses);
  return ses;
}

async function stop(ses: LocalSes): Promise<void> {
  running.delete(ses);
  await ses.stop();
}

function client(ses: LocalSes): SESv2Client {
  const created = new SESv2Client({
    endpoint: ses.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  clients.push(created);
  return created;
}

const simple = (subject: string) =>
  new SendEmailCommand({
    FromEmailAddress: 'Shop <shop@example.com>',
    Destination: { ToAddresses: ['ann@example.com'], CcAddresses: ['cc@example.com'] },
    ReplyToAddresses: ['help@example.com'],
    ConfigurationSetName: 'dmp-local',
    EmailTags: [
      { Name: 'journey', Value: 'cart-abandonment' },
      { Name: 'step', Value: subject },
    ],
    Content: {
      Simple: {
        Subject: { Data: subject },
        Body: { Html: { Data: `<p>${subject} – ünïcode ✓</p>\n<p>two lines</p>` }, Text: { Data: `${subject} text` } },
        Headers: [{ Name: 'List-Unsubscribe', Value: '<https://example.com/u/1>' }],
      },
    },
  });

const raw = (subject: string) =>
  new SendEmailCommand({
    Destination: { ToAddresses: ['bob@example.com'] },
    EmailTags: [{ Name: 'kind', Value: 'raw' }],
    Content: {
      Raw: {
        Data: Buffer.from(
          [
            'From: shop@example.com',
            'To: bob@example.com',
            `Subject: ${subject}`,
            'List-Unsubscribe: <https://example.com/u/2>,',
            ' <mailto:u@example.com>',
            'MIME-Version: 1.0',
            'Content-Type: text/html; charset=utf-8',
            '',
            `<h1>${subject}</h1>`,
          ].join('\r\n'),
        ),
      },
    },
  });

const lines = async (): Promise<string[]> => (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');

describe('an outbox file', () => {
  it('keeps every send across a restart, recovered emails first, and their events can still be published', async () => {
    const first = await start();
    const firstIds = [(await client(first).send(simple('first'))).MessageId, (await client(first).send(raw('second'))).MessageId];
    // Answered only once recorded: both lines are in the file before the platform stops.
    expect(await lines()).toHaveLength(2);
    const before = await first.outbox();
    const sentBefore = first.sentEmail(firstIds[0] ?? '');
    await stop(first);

    expect(before.map((email) => email.messageId)).toEqual(firstIds);
    expect(before[0]).toMatchObject({
      from: 'Shop <shop@example.com>',
      to: ['ann@example.com'],
      cc: ['cc@example.com'],
      replyTo: ['help@example.com'],
      subject: 'first',
      html: '<p>first – ünïcode ✓</p>\n<p>two lines</p>',
      text: 'first text',
      tags: { journey: 'cart-abandonment', step: 'first' },
      headers: { 'list-unsubscribe': '<https://example.com/u/1>' },
    });
    expect(before[1]).toMatchObject({
      subject: 'second',
      html: '<h1>second</h1>',
      tags: { kind: 'raw' },
      headers: { 'list-unsubscribe': '<https://example.com/u/2>, <mailto:u@example.com>' },
    });

    const second = await start();
    expect(await second.outbox()).toEqual(before);
    expect(second.sentEmail(firstIds[0] ?? '')).toEqual(sentBefore);
    expect(sentBefore).toEqual({
      messageId: firstIds[0],
      from: 'Shop <shop@example.com>',
      destination: ['ann@example.com', 'cc@example.com'],
      tags: { journey: 'cart-abandonment', step: 'first' },
      sentAt: before[0]?.sentAt,
      configurationSet: 'dmp-local',
    });
    expect(second.sentEmail(firstIds[1] ?? '')).toMatchObject({ from: '', destination: ['bob@example.com'], tags: { kind: 'raw' } });

    const third = (await client(second).send(simple('third'))).MessageId;
    expect((await second.outbox()).map((email) => email.messageId)).toEqual([...firstIds, third]);
    expect(await lines()).toHaveLength(3);
    await stop(second);

    const after = await start();
    expect((await after.outbox()).map((email) => email.subject)).toEqual(['first', 'second', 'third']);
    expect(after.sentEmail(third ?? '')?.tags).toEqual({ journey: 'cart-abandonment', step: 'third' });
  });

  it('records every email of a bulk send', async () => {
    const ses = await start();
    const { BulkEmailEntryResults: results = [] } = await client(ses).send(
      new SendBulkEmailCommand({
        FromEmailAddress: 'shop@example.com',
        DefaultContent: { Template: { TemplateContent: { Subject: 'Hi {{name}}', Html: '<p>{{name}}</p>' }, TemplateData: '{"name":"you"}' } },
        DefaultEmailTags: [{ Name: 'campaign', Value: 'spring' }],
        BulkEmailEntries: [
          { Destination: { ToAddresses: ['a@example.com'] }, ReplacementEmailContent: { ReplacementTemplate: { ReplacementTemplateData: '{"name":"Ann"}' } } },
          { Destination: { ToAddresses: ['b@example.com'] }, ReplacementTags: [{ Name: 'campaign', Value: 'summer' }] },
        ],
      }),
    );
    expect(results.map((result) => result.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    await stop(ses);

    const restarted = await start();
    const outbox = await restarted.outbox();
    expect(outbox.map((email) => email.messageId)).toEqual(results.map((result) => result.MessageId));
    expect(outbox.map((email) => [email.to, email.tags])).toEqual([
      [['a@example.com'], { campaign: 'spring' }],
      [['b@example.com'], { campaign: 'summer' }],
    ]);
  });

  it('answers a send it could not record with an error, and does not list it', async () => {
    const ses = await start();
    // Every FileHandle shares this prototype: the outbox's next append fails as on a full disk.
    const handle = await open(file, 'r');
    await handle.close();
    const fileHandle = Object.getPrototypeOf(handle) as { appendFile: () => Promise<void> };
    jest.spyOn(fileHandle, 'appendFile').mockRejectedValueOnce(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));

    await expect(client(ses).send(simple('lost'))).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    const kept = (await client(ses).send(simple('kept'))).MessageId;
    expect((await ses.outbox()).map((email) => email.messageId)).toEqual([kept]);
    expect(await lines()).toHaveLength(1);
  });

  it('is emptied, file and all, by clearOutbox', async () => {
    const ses = await start();
    const one = (await client(ses).send(simple('one'))).MessageId;
    await client(ses).send(simple('two'));
    expect(await lines()).toHaveLength(2);
    await ses.clearOutbox();
    expect(await ses.outbox()).toEqual([]);
    expect((await stat(file)).size).toBe(0);
    expect(ses.sentEmail(one ?? '')).toBeUndefined();

    const next = (await client(ses).send(simple('after'))).MessageId;
    await stop(ses);
    const restarted = await start();
    expect((await restarted.outbox()).map((email) => email.messageId)).toEqual([next]);

    // The Clear button of the emulator's web inbox clears it all too.
    expect((await fetch(`${restarted.endpoint}/clear-store`, { method: 'POST' })).status).toBe(200);
    expect(await restarted.outbox()).toEqual([]);
    expect((await stat(file)).size).toBe(0);
  });

  it('loads the complete lines of a file whose last write was cut off, and appends after them', async () => {
    const big = (index: number) => `<p>${'x'.repeat(100_000)} ${index}</p>`;
    const line = (index: number) =>
      JSON.stringify({
        v: 1,
        messageId: `ses-10000000${index}`,
        from: 'shop@example.com',
        to: ['ann@example.com'],
        cc: [],
        bcc: [],
        replyTo: [],
        subject: `crash ${index}`,
        html: big(index),
        text: null,
        sentAt: `2026-01-01T00:00:0${index}.000Z`,
        tags: { run: `r-${index}` },
        headers: {},
        sending: { from: 'shop@example.com', destination: ['ann@example.com'], configurationSet: 'dmp-local' },
      });
    // Lines longer than a read chunk, the last cut mid-way (no newline).
    await writeFile(file, `${line(1)}\n${line(2)}\n${line(3).slice(0, 70_000)}`);
    const warn = jest.spyOn(logger, 'warn');

    const ses = await start();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('incomplete last line'), expect.objectContaining({ file, line: 3 }));
    const recovered = await ses.outbox();
    expect(recovered.map((email) => [email.subject, email.html, email.tags])).toEqual([
      ['crash 1', big(1), { run: 'r-1' }],
      ['crash 2', big(2), { run: 'r-2' }],
    ]);
    expect(ses.sentEmail('ses-100000002')).toMatchObject({ configurationSet: 'dmp-local', destination: ['ann@example.com'] });

    await client(ses).send(simple('after the crash'));
    await stop(ses);
    const restarted = await start();
    expect((await restarted.outbox()).map((email) => email.subject)).toEqual(['crash 1', 'crash 2', 'after the crash']);
  });

  it('starts empty when neither the file nor its directory exists yet, and creates them', async () => {
    file = join(directory, 'data', 'ses-outbox.jsonl');
    const ses = await start();
    expect(await ses.outbox()).toEqual([]);
    expect((await stat(file)).size).toBe(0);
  });
});

describe('without a file', () => {
  it('keeps the outbox in memory, as before', async () => {
    const ses = await startLocalSes(logger);
    running.add(ses);
    const id = (await client(ses).send(simple('memory'))).MessageId;
    expect((await ses.outbox()).map((email) => email.subject)).toEqual(['memory']);
    expect(ses.sentEmail(id ?? '')?.configurationSet).toBe('dmp-local');
    await ses.clearOutbox();
    expect(await ses.outbox()).toEqual([]);
  });
});
