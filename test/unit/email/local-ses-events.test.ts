import { feedbackOf } from '../../../functions/domain/email/feedback';
import { deliveryEvents, engagementEvent, LOCAL_CONFIGURATION_SET, type SentEmail } from '../../../local/ses-events';
import { sendRecords } from '../../../local/ses-local';

/** The local platform's stand-in for SES event publishing: SES's mailbox simulator outcomes, in SES's shape. */
const AT = new Date('2026-03-01T12:00:01.000Z');
const sentTo = (...destination: string[]): SentEmail => ({
  messageId: 'local-msg-1',
  from: 'Shop <shop@shop.test>',
  destination,
  tags: { journey: 'cart-abandonment', step: 'email1', run: 'run-1', profile: 'p-1' },
  sentAt: '2026-03-01T12:00:00.000Z',
  configurationSet: LOCAL_CONFIGURATION_SET,
});

const outcomesOf = (sent: SentEmail) =>
  deliveryEvents(sent, AT).map((event) => {
    const feedback = feedbackOf(JSON.parse(JSON.stringify(event)));
    return feedback.kind === 'ignored'
      ? 'ignored'
      : { kind: feedback.kind, suppress: feedback.suppress, profileId: feedback.profileId, properties: feedback.properties };
  });

interface Expected {
  readonly kind: string;
  readonly suppress: string[];
  /** The bounce sub-type, for bounces. */
  readonly sub?: string;
}

test.each<[string, Expected[]]>([
  ['bounce@simulator.amazonses.com', [{ kind: 'bounce', suppress: ['bounce@simulator.amazonses.com'], sub: 'General' }]],
  ['Bounce+label@Simulator.AmazonSES.com', [{ kind: 'bounce', suppress: ['Bounce+label@Simulator.AmazonSES.com'], sub: 'General' }]],
  ['suppressionlist@simulator.amazonses.com', [{ kind: 'bounce', suppress: ['suppressionlist@simulator.amazonses.com'], sub: 'OnAccountSuppressionList' }]],
  [
    'complaint@simulator.amazonses.com',
    [
      { kind: 'delivery', suppress: [] },
      { kind: 'complaint', suppress: ['complaint@simulator.amazonses.com'] },
    ],
  ],
  ['success@simulator.amazonses.com', [{ kind: 'delivery', suppress: [] }]],
  ['ana@shop.test', [{ kind: 'delivery', suppress: [] }]],
])('a send to %s publishes what the SES mailbox simulator would, and the handler reads it', (recipient, expected) => {
  const outcomes = outcomesOf(sentTo(recipient));
  expect(outcomes).toEqual(
    expected.map(({ kind, suppress, sub }) =>
      expect.objectContaining({
        kind,
        suppress,
        profileId: 'p-1',
        properties: expect.objectContaining({
          email_id: 'local-msg-1',
          journey: 'cart-abandonment',
          step: 'email1',
          run: 'run-1',
          ...(sub && { bounce_type: 'Permanent', bounce_sub_type: sub }),
        }),
      }),
    ),
  );
});

test('events carry the configuration set and the send tags as SES sets them (name: [value])', () => {
  const [event] = deliveryEvents(sentTo('ana@shop.test'), AT);
  expect(event?.mail.tags).toMatchObject({ 'ses:configuration-set': [LOCAL_CONFIGURATION_SET], 'ses:from-domain': ['shop.test'], profile: ['p-1'] });
  expect(event?.mail.timestamp).toBe('2026-03-01T12:00:00.000Z');
});

test('opens and clicks are read back as Email Opened and Email Link Clicked', () => {
  const sent = sentTo('ana@shop.test');
  expect(feedbackOf(engagementEvent(sent, { kind: 'open' }, AT))).toMatchObject({ kind: 'open', event: 'Email Opened', occurredAt: AT.toISOString() });
  expect(feedbackOf(engagementEvent(sent, { kind: 'click', link: 'https://shop.test/cart' }, AT))).toMatchObject({
    kind: 'click',
    event: 'Email Link Clicked',
    properties: expect.objectContaining({ link_url: 'https://shop.test/cart' }),
  });
});

test('the SES proxy notes sender, recipients and configuration set of a SESv2 send', () => {
  const request = {
    FromEmailAddress: 'shop@shop.test',
    Destination: { ToAddresses: ['ana@shop.test'], CcAddresses: ['bob@shop.test'] },
    ConfigurationSetName: LOCAL_CONFIGURATION_SET,
    EmailTags: [{ Name: 'profile', Value: 'p-1' }],
    Content: { Simple: {} },
  };
  const records = sendRecords(
    '/v2/email/outbound-emails',
    Buffer.from(JSON.stringify(request)),
    Buffer.from('{"MessageId":"m-1"}'),
    '2026-03-01T12:00:00.000Z',
  );
  expect(records.get('m-1')).toMatchObject({
    from: 'shop@shop.test',
    destination: ['ana@shop.test', 'bob@shop.test'],
    configurationSet: LOCAL_CONFIGURATION_SET,
    tags: { profile: 'p-1' },
  });
  const withoutSet = sendRecords(
    '/v2/email/outbound-emails',
    Buffer.from(JSON.stringify({ ...request, ConfigurationSetName: undefined })),
    Buffer.from('{"MessageId":"m-2"}'),
    '2026-03-01T12:00:00.000Z',
  );
  expect(withoutSet.get('m-2')).not.toHaveProperty('configurationSet');
});
