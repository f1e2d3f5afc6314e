import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SmsVoiceSender } from '../../../functions/adapters/sms-voice-sender';
import { SmsRejectedError } from '../../../functions/domain/journeys/journey-send';
import { smsEventOf } from '../../../functions/domain/sms/sms-events';
import { startLocalSms, type LocalSms } from '../../../local/sms-local';

/** The End User Messaging SMS stand-in, driven by the platform's own adapter over its JSON protocol. */
const published: unknown[] = [];
const sqs = {
  send: async (command: SendMessageBatchCommand) => {
    for (const entry of command.input.Entries ?? []) published.push(JSON.parse(entry.MessageBody ?? 'null'));
    return { Successful: (command.input.Entries ?? []).map((entry) => ({ Id: entry.Id })), Failed: [] };
  },
} as unknown as SQSClient;

let directory: string;
let sms: LocalSms;
let sender: SmsVoiceSender;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'sms-local-'));
  sms = await startLocalSms({
    logger: new Logger({ logLevel: 'SILENT' }),
    sqs,
    queueUrl: 'http://queue/SmsEvents',
    configurationSet: 'dmp-local-sms',
    originationNumber: '+18005550100',
    file: path.join(directory, 'sms-outbox.jsonl'),
  });
  const client = new PinpointSMSVoiceV2Client({ endpoint: sms.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  sender = new SmsVoiceSender(client, { originationIdentity: '+18005550100', configurationSetName: 'dmp-local-sms' });
});

afterAll(async () => {
  await sms?.stop();
  await rm(directory, { recursive: true, force: true });
});

const context = { journey: 'audience-sms', step: 'audience', run: 'r1', profile: 'p1', segment: 'vip' };

test('records a text sent through the adapter and publishes its receipt; a number ending in 0000 fails', async () => {
  const id = await sender.send({ to: '+33612345678', text: 'Hi 🎉', context });
  const failing = await sender.send({ to: '+33612340000', text: 'Hi', context });
  expect(sms.messages()).toEqual([
    expect.objectContaining({ messageId: id, to: '+33612345678', body: 'Hi 🎉', messageType: 'PROMOTIONAL', context, segments: 1, encoding: 'UCS-2' }),
    expect.objectContaining({ messageId: failing, to: '+33612340000', encoding: 'GSM-7' }),
  ]);
  await sms.stop().catch(() => undefined);
  const outcomes = published.map((event) => smsEventOf(event, new Date()));
  expect(outcomes).toEqual([
    expect.objectContaining({ kind: 'receipt', outcome: 'delivered', smsMessageId: id, profileId: 'p1' }),
    expect.objectContaining({
      kind: 'receipt',
      outcome: 'failed',
      smsMessageId: failing,
      properties: expect.objectContaining({ status: 'CARRIER_UNREACHABLE' }),
    }),
  ]);
  // Restarted on the same file: the texts are still listed.
  sms = await startLocalSms({
    logger: new Logger({ logLevel: 'SILENT' }),
    sqs,
    queueUrl: 'http://queue/SmsEvents',
    configurationSet: 'dmp-local-sms',
    originationNumber: '+18005550100',
    file: path.join(directory, 'sms-outbox.jsonl'),
  });
  expect(sms.messages().map((message) => message.messageId)).toEqual([id, failing]);
  const client = new PinpointSMSVoiceV2Client({ endpoint: sms.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  sender = new SmsVoiceSender(client, { configurationSetName: 'dmp-local-sms' });
});

test('refuses a destination that is not E.164, as AWS does: the adapter sees a rejection', async () => {
  await expect(sender.send({ to: '0612345678', text: 'Hi', context })).rejects.toBeInstanceOf(SmsRejectedError);
  await expect(sender.send({ to: '0612345678', text: 'Hi', context })).rejects.toMatchObject({ code: 'ValidationException:INVALID_PARAMETER' });
});

test('the /dev/sms endpoints list, simulate a reply and clear', async () => {
  published.length = 0;
  const reply = await sms.handleDevRequest('POST', '/dev/sms/inbound', Buffer.from(JSON.stringify({ from: '+33612345678', text: 'ARRÊT' })));
  expect(reply?.status).toBe(202);
  expect(published.map((event) => smsEventOf(event, new Date()))).toEqual([
    expect.objectContaining({ kind: 'reply', intent: 'opt-out', from: '+33612345678' }),
  ]);
  expect((await sms.handleDevRequest('POST', '/dev/sms/inbound', Buffer.from('{"from": 1}')))?.status).toBe(400);
  expect((await sms.handleDevRequest('GET', '/dev/sms', Buffer.alloc(0)))?.body).toHaveLength(2);
  expect((await sms.handleDevRequest('POST', '/dev/sms/clear', Buffer.alloc(0)))?.status).toBe(200);
  expect((await sms.handleDevRequest('GET', '/dev/sms', Buffer.alloc(0)))?.body).toEqual([]);
  expect(await sms.handleDevRequest('GET', '/dev/other', Buffer.alloc(0))).toBeUndefined();
});
