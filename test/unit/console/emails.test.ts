import { emailOutcomeOf, emailOutcomes } from '../../../console/src/emails';

describe("a person's emails and their outcomes, from the profile's events", () => {
  it('reads each SES outcome event', () => {
    expect(
      ['Email Delivered', 'Email Opened', 'Email Link Clicked', 'Email Bounced', 'Email Marked as Spam', 'Email Rejected', 'Email Unsubscribed'].map(
        emailOutcomeOf,
      ),
    ).toEqual(['delivered', 'opened', 'clicked', 'bounced', 'complained', 'rejected', 'unsubscribed']);
    expect(emailOutcomeOf('Order Completed')).toBeUndefined();
    expect(emailOutcomeOf(undefined)).toBeUndefined();
  });

  it('groups the outcomes by email, newest email first, whatever the order of the events', () => {
    const promotion = { email_id: 'ses-1', journey: 'product-view', step: 'promotion' };
    const reminder = { email_id: 'ses-2', journey: 'cart-abandonment', step: 'email1' };
    const events = [
      { event: 'Email Link Clicked', timestamp: '2026-12-01T10:05:00Z', properties: promotion },
      { event: 'Order Completed', timestamp: '2026-12-01T11:00:00Z', properties: { order_id: 'o-1' } },
      { event: 'Email Delivered', timestamp: '2026-12-01T10:00:00Z', properties: promotion },
      { event: 'Email Opened', timestamp: '2026-12-01T10:04:00Z', properties: promotion },
      { event: 'Email Bounced', timestamp: '2026-12-02T09:00:00Z', properties: reminder },
      { event: 'Email Opened', timestamp: '2026-12-02T09:00:00Z', properties: {} },
    ];
    expect(emailOutcomes(events)).toEqual([
      { emailId: 'ses-2', journey: 'cart-abandonment', step: 'email1', firstAt: '2026-12-02T09:00:00Z', outcomes: ['bounced'], result: 'bounced' },
      {
        emailId: 'ses-1',
        journey: 'product-view',
        step: 'promotion',
        firstAt: '2026-12-01T10:00:00Z',
        outcomes: ['delivered', 'opened', 'clicked'],
        result: 'clicked',
      },
    ]);
  });
});
