import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { CountResult } from '../../../functions/ports/journey-store';
import type { SuppressionReason } from '../../../functions/domain/email/feedback';
import { DEFAULT_IDENTITY_CONFIG } from '../../../functions/domain/identity/identity-config';
import { extractIdentifiers } from '../../../functions/domain/identity/identifiers';
import type { FeedbackCount } from '../../../functions/domain/reports/journey-counters';
import { newProfile, type IdentityLink, type ProfileRecord } from '../../../functions/domain/profile/profile';
import { profileMessage } from '../../../functions/domain/profile/profile-message';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { createEmailFeedbackHandler, type EmailFeedbackDependencies } from '../../../functions/handlers/email-feedback';

const NOW = new Date('2026-03-01T12:05:00.000Z');
const context = { awsRequestId: 'req-1', functionName: 'emailFeedback' } as Context;

const link = (type: string, value: string, lastSeen = '2026-02-01T00:00:00.000Z'): IdentityLink => ({
  type,
  value,
  firstSeen: '2026-01-01T00:00:00.000Z',
  lastSeen,
});
const profileWith = (profileId: string, identities: IdentityLink[]): ProfileRecord => ({ ...newProfile(profileId, NOW), identities });

class Fakes implements EmailFeedbackDependencies {
  readonly suppressed: { emails: readonly string[]; reason: SuppressionReason }[] = [];
  readonly queued: AcceptedMessage[] = [];
  readonly counted = new Map<string, FeedbackCount>();
  readonly profiles = new Map<string, ProfileRecord>();
  failEnqueue = false;

  async suppress(emails: readonly string[], reason: SuppressionReason): Promise<void> {
    this.suppressed.push({ emails, reason });
  }
  async loadProfile(profileId: string): Promise<ProfileRecord | undefined> {
    return this.profiles.get(profileId);
  }
  async enqueue(messages: readonly AcceptedMessage[]): Promise<void> {
    if (this.failEnqueue) throw new Error('SQS unavailable');
    this.queued.push(...messages);
  }
  async countFeedback(count: FeedbackCount): Promise<CountResult> {
    const marker = `${count.sesMessageId}/${count.kind}`;
    if (this.counted.has(marker)) return 'already-counted';
    this.counted.set(marker, count);
    return 'counted';
  }
  now(): Date {
    return NOW;
  }
}

let fakes: Fakes;
const run = (bodies: string[]) =>
  createEmailFeedbackHandler(new Logger({ logLevel: 'SILENT' }), () => fakes)(
    {
      Records: bodies.map((body, index) => ({ messageId: `sqs-${index}`, body, attributes: { ApproximateReceiveCount: '1' } }) as unknown as SQSRecord),
    } as SQSEvent,
    context,
  );

const sesEvent = (eventType: string, detail: Record<string, unknown>, profile = 'p-ana') =>
  JSON.stringify({
    eventType,
    mail: {
      messageId: 'ses-1',
      timestamp: '2026-03-01T12:00:00.000Z',
      destination: ['ana@shop.test'],
      tags: { profile: [profile], journey: ['cart-abandonment'], step: ['email1'], run: ['run-1'] },
    },
    ...detail,
  });

beforeEach(() => {
  fakes = new Fakes();
  fakes.profiles.set('p-ana', profileWith('p-ana', [link('email', 'ana@shop.test'), link('user_id', 'u-ana')]));
});

test('a bounce suppresses the address and sends Email Bounced for the profile, keyed on its user id', async () => {
  const result = await run([
    sesEvent('Bounce', {
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: 'General',
        bouncedRecipients: [{ emailAddress: 'ana@shop.test' }],
        timestamp: '2026-03-01T12:00:01.000Z',
      },
    }),
  ]);
  expect(result.batchItemFailures).toEqual([]);
  expect(fakes.suppressed).toEqual([{ emails: ['ana@shop.test'], reason: 'bounce' }]);
  expect(fakes.queued).toEqual([
    {
      type: 'track',
      messageId: 'ses-ses-1-Bounce',
      userId: 'u-ana',
      event: 'Email Bounced',
      properties: { email_id: 'ses-1', journey: 'cart-abandonment', step: 'email1', run: 'run-1', bounce_type: 'Permanent', bounce_sub_type: 'General' },
      traits: {},
      context: { channel: 'email' },
      timestamp: '2026-03-01T12:00:01.000Z',
      receivedAt: NOW.toISOString(),
    },
  ]);
});

test('a poison body fails only its own record (to the DLQ after retries); ignored types and good records pass', async () => {
  const result = await run([
    'not json',
    sesEvent('Send', { send: {} }),
    JSON.stringify({ eventType: 'Delivery', mail: { messageId: 'x' } }),
    sesEvent('Delivery', { delivery: {} }),
  ]);
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'sqs-0' }, { itemIdentifier: 'sqs-2' }]);
  expect(fakes.queued.map((message) => message.event)).toEqual(['Email Delivered']);
  expect(fakes.suppressed).toEqual([]);
});

test('a queue failure fails the record, so SQS delivers it again (the messageId dedupes it then)', async () => {
  fakes.failEnqueue = true;
  const result = await run([sesEvent('Send', { send: {} }), sesEvent('Open', { open: { timestamp: '2026-03-01T13:00:00.000Z' } })]);
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'sqs-1' }]);
  // A batch that fails whole is retried whole (Powertools throws).
  await expect(run([sesEvent('Open', { open: { timestamp: '2026-03-01T13:00:00.000Z' } })])).rejects.toThrow('All records failed');
});

test('an unknown profile gets no event, one known only by its address gets it keyed on the address; the suppression holds', async () => {
  fakes.profiles.set('p-emailonly', profileWith('p-emailonly', [link('email', 'ana@shop.test')]));
  const complaint = { complaint: { complainedRecipients: [{ emailAddress: 'ana@shop.test' }] } };
  const result = await run([sesEvent('Complaint', complaint, 'p-gone'), sesEvent('Complaint', complaint, 'p-emailonly')]);
  expect(result.batchItemFailures).toEqual([]);
  expect(fakes.queued).toHaveLength(1);
  expect(fakes.queued[0]).toMatchObject({ event: 'Email Marked as Spam', context: { channel: 'email', traits: { email: 'ana@shop.test' } } });
  expect(fakes.queued[0]).not.toHaveProperty('userId');
  expect(fakes.suppressed).toEqual([
    { emails: ['ana@shop.test'], reason: 'complaint' },
    { emails: ['ana@shop.test'], reason: 'complaint' },
  ]);
});

test('a journey email outcome is counted in the report of its journey, step and day; an audience email by its segment tag', async () => {
  const audience = JSON.stringify({
    eventType: 'Click',
    mail: {
      messageId: 'ses-2',
      timestamp: '2026-03-01T23:59:00.000Z',
      tags: { profile: ['p-ana'], journey: ['audience-email'], step: ['audience'], run: ['run-2'], segment: ['vip'] },
    },
    click: { link: 'https://shop.test/', timestamp: '2026-03-02T00:00:01.000Z' },
  });
  const result = await run([sesEvent('Delivery', { delivery: {} }), sesEvent('Delivery', { delivery: {} }), audience, sesEvent('Reject', { reject: {} })]);
  expect(result.batchItemFailures).toEqual([]);
  expect([...fakes.counted.values()].sort((a, b) => a.sesMessageId.localeCompare(b.sesMessageId))).toEqual([
    { journeyKey: 'cart-abandonment', day: '2026-03-01', counter: 'delivered:email1', sesMessageId: 'ses-1', kind: 'delivery' },
    { journeyKey: 'audience-email:vip', day: '2026-03-02', counter: 'clicked:audience', sesMessageId: 'ses-2', kind: 'click', segmentId: 'vip' },
  ]);
  // Records run concurrently: only the set of profile events is certain.
  expect(fakes.queued.map((message) => message.event).sort()).toEqual(['Email Delivered', 'Email Delivered', 'Email Link Clicked', 'Email Rejected']);
});

describe('profileMessage', () => {
  const fields = { type: 'identify', messageId: 'm-1', traits: { unsubscribed: true }, timestamp: NOW.toISOString() } as const;

  test('keys on the user id when the profile has one', () => {
    expect(profileMessage(profileWith('p', [link('anonymous_id', 'a-1'), link('user_id', 'u-1')]), fields, NOW)).toMatchObject({
      userId: 'u-1',
      traits: { unsubscribed: true },
      properties: {},
      context: {},
    });
  });

  test('else on the most recently seen anonymous id', () => {
    const message = profileMessage(
      profileWith('p', [link('anonymous_id', 'a-old', '2026-01-02T00:00:00.000Z'), link('anonymous_id', 'a-new', '2026-02-20T00:00:00.000Z')]),
      fields,
      NOW,
    );
    expect(message).toMatchObject({ anonymousId: 'a-new' });
    expect(message).not.toHaveProperty('userId');
  });

  test('else on its newest email (or phone) as context traits, which reconcile resolves like an import row', () => {
    const message = profileMessage(
      profileWith('p', [link('email', 'old@shop.test', '2026-01-02T00:00:00.000Z'), link('email', 'ana@shop.test', '2026-02-20T00:00:00.000Z')]),
      { ...fields, context: { channel: 'email' } },
      NOW,
    );
    expect(message).toMatchObject({ traits: { unsubscribed: true }, context: { channel: 'email', traits: { email: 'ana@shop.test' } } });
    expect(message).not.toHaveProperty('userId');
    expect(message).not.toHaveProperty('anonymousId');
    expect(extractIdentifiers(DEFAULT_IDENTITY_CONFIG, message as AcceptedMessage)).toEqual([{ type: 'email', value: 'ana@shop.test' }]);
    expect(profileMessage(profileWith('p', [link('phone', '+33612345678')]), fields, NOW)?.context).toEqual({ traits: { phone: '+33612345678' } });
  });

  test('none for a profile known only by other identifiers', () => {
    expect(profileMessage(profileWith('p', [link('crm_id', 'C-1')]), fields, NOW)).toBeUndefined();
  });
});
