import { feedbackOf, InvalidSesEventError, parseSesEventBody, type EmailOutcome } from '../../../functions/domain/email/feedback';

/** SES events as SES publishes them for a configuration set (the EventBridge `detail`, the SNS message). */
const SENT_AT = '2026-03-01T12:00:00.000Z';
const mail = {
  timestamp: SENT_AT,
  source: 'shop@shop.test',
  sendingAccountId: '123456789012',
  messageId: '0100018e-ses-id-000000',
  destination: ['ana@shop.test'],
  headersTruncated: false,
  tags: {
    'ses:configuration-set': ['dmp-email'],
    'ses:caller-identity': ['journey-send'],
    journey: ['cart-abandonment'],
    step: ['email1'],
    run: ['run-1'],
    profile: ['3b0c7a4e-profile'],
  },
};
const ids = { email_id: mail.messageId, journey: 'cart-abandonment', step: 'email1', run: 'run-1' };

const outcome = (event: unknown): EmailOutcome => {
  const feedback = feedbackOf(event);
  if (feedback.kind === 'ignored') throw new Error(`ignored ${feedback.eventType}`);
  return feedback;
};

describe('feedbackOf', () => {
  test('a delivery becomes Email Delivered on the tagged profile, at the delivery time, ids only', () => {
    const feedback = outcome({
      eventType: 'Delivery',
      mail,
      delivery: { timestamp: '2026-03-01T12:00:02.000Z', recipients: ['ana@shop.test'], smtpResponse: '250 ok' },
    });
    expect(feedback).toEqual({
      kind: 'delivery',
      sesMessageId: mail.messageId,
      profileId: '3b0c7a4e-profile',
      occurredAt: '2026-03-01T12:00:02.000Z',
      event: 'Email Delivered',
      eventMessageId: `ses-${mail.messageId}-Delivery`,
      properties: ids,
      suppress: [],
    });
    expect(JSON.stringify(feedback.properties)).not.toContain('@');
  });

  test('a permanent bounce suppresses the bounced recipients', () => {
    const feedback = outcome({
      eventType: 'Bounce',
      mail,
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: 'General',
        bouncedRecipients: [{ emailAddress: 'ana@shop.test', status: '5.1.1' }],
        timestamp: '2026-03-01T12:00:03.000Z',
      },
    });
    expect(feedback).toMatchObject({
      kind: 'bounce',
      event: 'Email Bounced',
      occurredAt: '2026-03-01T12:00:03.000Z',
      eventMessageId: `ses-${mail.messageId}-Bounce`,
      properties: { ...ids, bounce_type: 'Permanent', bounce_sub_type: 'General' },
      suppress: ['ana@shop.test'],
      suppressReason: 'bounce',
    });
  });

  test.each(['Transient', 'Undetermined'])('a %s bounce is recorded but suppresses nothing', (bounceType) => {
    const feedback = outcome({
      eventType: 'Bounce',
      mail,
      bounce: { bounceType, bounceSubType: 'MailboxFull', bouncedRecipients: [{ emailAddress: 'ana@shop.test' }] },
    });
    expect(feedback).toMatchObject({ kind: 'bounce', properties: { bounce_type: bounceType, bounce_sub_type: 'MailboxFull' }, suppress: [] });
    expect(feedback).not.toHaveProperty('suppressReason');
    // No own timestamp: the send's.
    expect(feedback.occurredAt).toBe(SENT_AT);
  });

  test('a complaint becomes Email Marked as Spam and suppresses the complaining recipients', () => {
    const feedback = outcome({
      eventType: 'Complaint',
      mail,
      complaint: {
        complainedRecipients: [{ emailAddress: 'ana@shop.test' }],
        complaintFeedbackType: 'abuse',
        timestamp: '2026-03-02T08:00:00.000Z',
        userAgent: 'Mail',
      },
    });
    expect(feedback).toMatchObject({
      kind: 'complaint',
      event: 'Email Marked as Spam',
      occurredAt: '2026-03-02T08:00:00.000Z',
      properties: { ...ids, complaint_feedback_type: 'abuse' },
      suppress: ['ana@shop.test'],
      suppressReason: 'complaint',
    });
  });

  test('a "not-spam" feedback report is no complaint', () => {
    expect(
      feedbackOf({ eventType: 'Complaint', mail, complaint: { complainedRecipients: [{ emailAddress: 'ana@shop.test' }], complaintFeedbackType: 'not-spam' } }),
    ).toEqual({
      kind: 'ignored',
      eventType: 'Complaint',
      sesMessageId: mail.messageId,
    });
  });

  test('opens and clicks: one event each, told apart by time (and link), so only a re-delivery is deduplicated', () => {
    const open = (at: string) => outcome({ eventType: 'Open', mail, open: { timestamp: at, ipAddress: '192.0.2.1', userAgent: 'Mail' } });
    const first = open('2026-03-01T13:00:00.000Z');
    expect(first).toMatchObject({ kind: 'open', event: 'Email Opened', occurredAt: '2026-03-01T13:00:00.000Z', properties: ids, suppress: [] });
    expect(first.eventMessageId).toBe(`ses-${mail.messageId}-Open-${Date.parse('2026-03-01T13:00:00.000Z')}`);
    expect(open('2026-03-01T13:00:00.000Z').eventMessageId).toBe(first.eventMessageId);
    expect(open('2026-03-01T14:00:00.000Z').eventMessageId).not.toBe(first.eventMessageId);

    const click = (link: string) => outcome({ eventType: 'Click', mail, click: { link, timestamp: '2026-03-01T13:00:05.000Z', linkTags: {} } });
    const shop = click('https://shop.test/cart?utm_source=email');
    expect(shop).toMatchObject({ kind: 'click', event: 'Email Link Clicked', properties: { ...ids, link_url: 'https://shop.test/cart' } });
    expect(shop.eventMessageId).toMatch(new RegExp(`^ses-${mail.messageId}-Click-\\d+-[0-9a-f]{12}$`));
    expect(click('https://shop.test/cart?utm_source=email').eventMessageId).toBe(shop.eventMessageId);
    expect(click('https://shop.test/mugs').eventMessageId).not.toBe(shop.eventMessageId);
  });

  test('a reject becomes Email Rejected with its reason and suppresses nothing', () => {
    expect(outcome({ eventType: 'Reject', mail, reject: { reason: 'Bad content' } })).toMatchObject({
      kind: 'reject',
      event: 'Email Rejected',
      occurredAt: SENT_AT,
      properties: { ...ids, reject_reason: 'Bad content' },
      suppress: [],
    });
  });

  test('without a profile tag (an email the journeys did not send) it still suppresses, with no profile', () => {
    const untagged = { ...mail, tags: { 'ses:configuration-set': ['dmp-email'] } };
    const feedback = outcome({
      eventType: 'Bounce',
      mail: untagged,
      bounce: { bounceType: 'Permanent', bounceSubType: 'Suppressed', bouncedRecipients: [{ emailAddress: 'x@shop.test' }] },
    });
    expect(feedback).not.toHaveProperty('profileId');
    expect(feedback.properties).toEqual({ email_id: mail.messageId, bounce_type: 'Permanent', bounce_sub_type: 'Suppressed' });
    expect(feedback.suppress).toEqual(['x@shop.test']);
  });

  test.each(['Send', 'DeliveryDelay', 'Rendering Failure', 'Subscription', 'SomethingNew'])('%s is acknowledged and ignored', (eventType) => {
    expect(feedbackOf({ eventType, mail, send: {} })).toEqual({ kind: 'ignored', eventType, sesMessageId: mail.messageId });
  });

  test.each([
    ['no eventType', { mail }, 'eventType'],
    ['no mail', { eventType: 'Delivery', delivery: {} }, 'mail'],
    ['a bounce without its bounce', { eventType: 'Bounce', mail }, 'bounce'],
    [
      'an unknown bounce type',
      { eventType: 'Bounce', mail, bounce: { bounceType: 'Soft', bounceSubType: 'General', bouncedRecipients: [] } },
      'bounce.bounceType',
    ],
    ['a click without a link', { eventType: 'Click', mail, click: { timestamp: SENT_AT } }, 'click.link'],
    ['a send time that is no date', { eventType: 'Delivery', mail: { ...mail, timestamp: 'yesterday' }, delivery: {} }, 'mail.timestamp'],
    ['not an object', 'Delivery', '(root)'],
  ])('a body with %s is not an SES event (typed error naming the field)', (_case, body, path) => {
    expect(() => feedbackOf(body)).toThrow(InvalidSesEventError);
    expect(() => feedbackOf(body)).toThrow(path);
  });

  test('the error names fields, never the values (addresses)', () => {
    const badRecipient = { eventType: 'Complaint', mail, complaint: { complainedRecipients: [{ emailAddress: 42 }, { address: 'ana@shop.test' }] } };
    expect(() => feedbackOf(badRecipient)).toThrow(InvalidSesEventError);
    try {
      feedbackOf(badRecipient);
    } catch (error) {
      expect((error as Error).message).not.toContain('ana@shop.test');
    }
  });

  test('a body that is not JSON is not an SES event', () => {
    expect(() => parseSesEventBody('{"eventType": "Deliv')).toThrow(InvalidSesEventError);
    expect(parseSesEventBody('{"a":1}')).toEqual({ a: 1 });
  });
});
