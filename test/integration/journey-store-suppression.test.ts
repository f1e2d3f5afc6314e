import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoJourneyStore } from '../../functions/adapters/dynamodb-journey-store';
import { DynamoProfileStore } from '../../functions/adapters/dynamodb-profile-store';
import { Pseudonyms } from '../../functions/domain/identity/pseudonym';
import { PROFILES_TABLE } from '../../lib/definitions/tables';
import { ensureTables, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';

/** The email suppression list (SES bounces and complaints) against the real DynamoDB engine. */
let dynamo: DynamoDbLocal;
let tableName: string;
let journeys: DynamoJourneyStore;
let profiles: DynamoProfileStore;
const now = new Date('2026-03-01T12:00:00.000Z');

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000, logger: new Logger({ logLevel: 'ERROR' }) });
  tableName = `profiles-${randomUUID()}`;
  await ensureTables(dynamo.client, [PROFILES_TABLE], () => tableName);
  journeys = new DynamoJourneyStore(dynamo.client, tableName, async () => new Pseudonyms('test-pseudonym-secret-0123456789'));
  profiles = new DynamoProfileStore(dynamo.client, {
    tableName,
    eventTtlDays: 395,
    lenientIdentifierLifetimeDays: 30,
    lenientTypes: ['anonymous_id'],
    dedupeWindowHours: 24,
  });
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

test('a suppressed address is suppressed for every later send, whatever its case; others are not', async () => {
  await journeys.suppress(['Bounced@Shop.test '], 'bounce', now);
  expect(await journeys.recipientFlags('p-1', 'bounced@shop.test')).toEqual({ suppressed: true, unsubscribed: false });
  expect(await journeys.recipientFlags('p-2', 'BOUNCED@shop.test')).toEqual({ suppressed: true, unsubscribed: false });
  expect(await journeys.recipientFlags('p-1', 'fine@shop.test')).toEqual({ suppressed: false, unsubscribed: false });
});

test('the record keeps the first reason and time and holds no address', async () => {
  await journeys.suppress(['twice@shop.test', 'twice@shop.test'], 'complaint', now);
  await journeys.suppress(['twice@shop.test'], 'bounce', new Date(now.getTime() + 60_000));
  const { Items = [] } = await DynamoDBDocumentClient.from(dynamo.client).send(new ScanCommand({ TableName: tableName }));
  const records = Items.filter((item) => String(item.PK).startsWith('MAILSUP#'));
  expect(records).toContainEqual({
    PK: expect.stringMatching(/^MAILSUP#k1\.[0-9a-f]{64}$/),
    SK: 'MAILSUP',
    reason: 'complaint',
    suppressedAt: now.toISOString(),
  });
  expect(JSON.stringify(Items)).not.toMatch(/@shop\.test/i);
});

test('a suppressed address is not an erased identifier: messages carrying it still reconcile', async () => {
  await journeys.suppress(['person@shop.test'], 'bounce', now);
  const snapshot = await profiles.loadSnapshot(['m-1'], [{ type: 'email', value: 'person@shop.test' }], now);
  expect(snapshot.suppressed).toEqual([]);
});

test('a number that replied STOP is opted out (keyed pseudonym only, first time kept) until it replies START; an erased number is suppressed', async () => {
  expect(await journeys.smsRecipientFlags('+33612345678')).toEqual({ suppressed: false, unsubscribed: false });
  await journeys.optOutNumber('+33612345678', now);
  await journeys.optOutNumber('+33612345678', new Date(now.getTime() + 60_000));
  expect(await journeys.smsRecipientFlags('+33612345678')).toEqual({ suppressed: false, unsubscribed: true });
  expect(await journeys.smsRecipientFlags('+33612345679')).toEqual({ suppressed: false, unsubscribed: false });
  const { Items = [] } = await DynamoDBDocumentClient.from(dynamo.client).send(new ScanCommand({ TableName: tableName }));
  expect(Items.filter((item) => String(item.PK).startsWith('SMSOPTOUT#'))).toEqual([
    { PK: expect.stringMatching(/^SMSOPTOUT#k1\.[0-9a-f]{64}$/), SK: 'SMSOPTOUT', optedOutAt: now.toISOString(), reason: 'stop' },
  ]);
  expect(JSON.stringify(Items)).not.toContain('612345678');
  await journeys.optInNumber('+33612345678');
  expect(await journeys.smsRecipientFlags('+33612345678')).toEqual({ suppressed: false, unsubscribed: false });

  // An erasure record of the phone identifier (SUP#) bars the number like an erased address.
  const pseudonyms = new Pseudonyms('test-pseudonym-secret-0123456789');
  await DynamoDBDocumentClient.from(dynamo.client).send(
    new PutCommand({ TableName: tableName, Item: { PK: `SUP#${pseudonyms.keyed({ type: 'phone', value: '+33698765432' })}`, SK: 'SUP' } }),
  );
  expect(await journeys.smsRecipientFlags('+33698765432')).toEqual({ suppressed: true, unsubscribed: false });
});

test('a number that cannot receive texts is suppressed, not opted out; a STOP before or after keeps the first reason', async () => {
  await journeys.optOutNumber('+33611111111', now, 'undeliverable');
  expect(await journeys.smsRecipientFlags('+33611111111')).toEqual({ suppressed: true, unsubscribed: false });
  await journeys.optOutNumber('+33611111111', new Date(now.getTime() + 60_000));
  expect(await journeys.smsRecipientFlags('+33611111111')).toEqual({ suppressed: true, unsubscribed: false });
  await journeys.optOutNumber('+33622222222', now);
  await journeys.optOutNumber('+33622222222', now, 'undeliverable');
  expect(await journeys.smsRecipientFlags('+33622222222')).toEqual({ suppressed: false, unsubscribed: true });
});

test('a text sent counts in the same frequency-cap list as an email: the cap is per person across channels', async () => {
  const base = { runId: 'aud-sms-1', profileId: 'p-cap', segmentId: 'vip', segmentName: 'VIP', transitionId: 't1', enteredAt: now.toISOString() };
  await journeys.recordOutcome({ ...base, journey: 'audience-sms', template: { text: 'Hi' } }, 'audience', { outcome: 'sent', messageId: 'sms-1' }, now, 24);
  await journeys.recordOutcome(
    { ...base, runId: 'aud-email-1', journey: 'audience-email', template: { subject: 'Hi', html: 'Hi', text: 'Hi' } },
    'audience',
    { outcome: 'sent', messageId: 'ses-1' },
    new Date(now.getTime() + 1_000),
    24,
  );
  expect(await journeys.recentSends('p-cap', new Date(now.getTime() - 3_600_000).toISOString())).toHaveLength(2);
});
