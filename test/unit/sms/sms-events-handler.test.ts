import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { newProfile, type IdentityLink, type ProfileRecord } from '../../../functions/domain/profile/profile';
import type { FeedbackCount } from '../../../functions/domain/reports/journey-counters';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { createSmsEventsHandler, type SmsEventsDependencies } from '../../../functions/handlers/sms-events';

const NOW = new Date('2026-03-01T12:05:00.000Z');
const context = { awsRequestId: 'req-1', functionName: 'smsEvents' } as Context;
const link = (type: string, value: string): IdentityLink => ({ type, value, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-02-01T00:00:00.000Z' });

class Fakes implements SmsEventsDependencies {
  readonly queued: AcceptedMessage[] = [];
  readonly optedOut: string[] = [];
  readonly optedIn: string[] = [];
  readonly suppressed: string[] = [];
  readonly counted: FeedbackCount[] = [];
  readonly profiles = new Map<string, ProfileRecord>();
  async loadProfile(profileId: string) {
    return this.profiles.get(profileId);
  }
  async findProfileByPhone(phone: string) {
    return [...this.profiles.values()].find((profile) => profile.identities.some((identity) => identity.type === 'phone' && identity.value === phone));
  }
  async optOutNumber(phone: string) {
    this.optedOut.push(phone);
  }
  async optInNumber(phone: string) {
    this.optedIn.push(phone);
  }
  async suppressNumber(phone: string) {
    this.suppressed.push(phone);
  }
  async enqueue(messages: readonly AcceptedMessage[]) {
    this.queued.push(...messages);
  }
  async countReceipt(count: FeedbackCount) {
    this.counted.push(count);
    return 'counted' as const;
  }
  now() {
    return NOW;
  }
}

let fakes: Fakes;
const run = (bodies: unknown[]) =>
  createSmsEventsHandler(new Logger({ logLevel: 'SILENT' }), () => fakes)(
    {
      Records: bodies.map(
        (body, index) =>
          ({
            messageId: `sqs-${index}`,
            body: typeof body === 'string' ? body : JSON.stringify(body),
            attributes: { ApproximateReceiveCount: '1' },
          }) as unknown as SQSRecord,
      ),
    } as SQSEvent,
    context,
  );

beforeEach(() => {
  fakes = new Fakes();
  fakes.profiles.set('p1', { ...newProfile('p1', NOW), identities: [link('user_id', 'u1'), link('phone', '+33612345678')] });
});

test('a delivery receipt is queued as SMS Delivered for the profile of its context, with the ids and no number', async () => {
  const result = await run([
    {
      eventType: 'TEXT_DELIVERED',
      messageId: 'm1',
      eventTimestamp: Date.parse('2026-03-01T12:00:02.000Z'),
      destinationPhoneNumber: '+33612345678',
      messageStatus: 'DELIVERED',
      context: { profile: 'p1', journey: 'audience-sms', step: 'audience', run: 'r1', segment: 'vip' },
    },
  ]);
  expect(result.batchItemFailures).toEqual([]);
  expect(fakes.queued).toEqual([
    expect.objectContaining({
      type: 'track',
      userId: 'u1',
      event: 'SMS Delivered',
      messageId: 'sms-m1-TEXT_DELIVERED',
      timestamp: '2026-03-01T12:00:02.000Z',
      context: { channel: 'sms' },
      properties: { sms_id: 'm1', journey: 'audience-sms', step: 'audience', run: 'r1', segment: 'vip', status: 'DELIVERED' },
    }),
  ]);
  expect(JSON.stringify(fakes.queued)).not.toContain('+33612345678');
  // Counted in the journey report on the SMS journey's line and the segment's sms row.
  expect(fakes.counted).toEqual([
    {
      journeyKey: 'audience-sms:vip',
      day: '2026-03-01',
      counter: 'delivered:audience',
      sesMessageId: 'm1',
      kind: 'delivery',
      segmentId: 'vip',
      channel: 'sms',
    },
  ]);
});

test('a failed text of a segment journey counts as bounced; a receipt of a text no journey sent is not counted', async () => {
  await run([
    { eventType: 'TEXT_BLOCKED', messageId: 'm3', context: { profile: 'p1', journey: 'audience-sms', step: 'audience', run: 'r1', segment: 'vip' } },
    { eventType: 'TEXT_DELIVERED', messageId: 'm4', context: {} },
  ]);
  expect(fakes.counted.map((count) => count.counter)).toEqual(['bounced:audience']);
  expect(fakes.queued.map((message) => message.event)).toEqual(['SMS Failed']);
});

test('a failure of the number itself (invalid, blocking texts) suppresses it, as a hard bounce does an address; a passing failure does not', async () => {
  const receipt = (eventType: string, messageId: string, destinationPhoneNumber: string) => ({
    eventType,
    messageId,
    destinationPhoneNumber,
    messageStatus: eventType.replace('TEXT_', ''),
    context: { profile: 'p1', journey: 'audience-sms', step: 'audience', run: messageId, segment: 'vip' },
  });
  const result = await run([
    receipt('TEXT_INVALID', 'm5', '+33 6 12 34 56 78'),
    receipt('TEXT_BLOCKED', 'm6', '+14155552671'),
    receipt('TEXT_CARRIER_UNREACHABLE', 'm7', '+33612345678'),
    receipt('TEXT_UNREACHABLE', 'm8', '+33612345678'),
    receipt('TEXT_SPAM', 'm9', '+33612345678'),
    // Nothing to suppress by a number that is not one.
    receipt('TEXT_INVALID', 'm10', '12345'),
  ]);
  expect(result.batchItemFailures).toEqual([]);
  expect(fakes.suppressed).toEqual(['+33612345678', '+14155552671']);
  // Not a consent decision: no opt-out, and the profile events are the receipts only, without the number.
  expect(fakes.optedOut).toEqual([]);
  expect(fakes.queued.map((message) => message.event)).toEqual(Array(6).fill('SMS Failed'));
  expect(JSON.stringify(fakes.queued)).not.toMatch(/\+33|\+1415/);
});

test('STOP from a known number: the number is opted out at once and sms_marketing denied on its profile', async () => {
  const result = await run([{ originationNumber: '+33612345678', destinationNumber: '+18005550100', messageBody: 'arrêt', inboundMessageId: 'in-1' }]);
  expect(result.batchItemFailures).toEqual([]);
  expect(fakes.optedOut).toEqual(['+33612345678']);
  expect(fakes.queued).toEqual([
    expect.objectContaining({
      userId: 'u1',
      event: 'SMS Opted Out',
      messageId: 'sms-reply-in-1',
      context: { channel: 'sms', consent: { categoryPreferences: { sms_marketing: false } } },
    }),
  ]);
});

test('STOP from an unknown number still suppresses it; START lifts the opt-out and grants again; other replies do nothing', async () => {
  await run([
    { originationNumber: '+33698765432', messageBody: 'STOP', inboundMessageId: 'in-2' },
    { originationNumber: '+33612345678', messageBody: 'Start', inboundMessageId: 'in-3' },
    { originationNumber: '+33612345678', messageBody: 'thanks!', inboundMessageId: 'in-4' },
  ]);
  expect(fakes.optedOut).toEqual(['+33698765432']);
  expect(fakes.optedIn).toEqual(['+33612345678']);
  expect(fakes.queued.map((message) => [message.event, message.context])).toEqual([
    ['SMS Opted In', { channel: 'sms', consent: { categoryPreferences: { sms_marketing: true } } }],
  ]);
});

test('a body that is no SMS event fails its record (left for the DLQ); the others pass', async () => {
  const result = await run(['not json', { hello: 'world' }, { eventType: 'TEXT_SUCCESSFUL', messageId: 'm2', context: {} }]);
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'sqs-0' }, { itemIdentifier: 'sqs-1' }]);
  expect(fakes.queued).toEqual([]);
});
