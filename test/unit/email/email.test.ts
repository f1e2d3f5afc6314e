import { checkSendGuards, quietHoursEnd, type RecipientState } from '../../../functions/domain/email/send-guards';
import { describePlaceholders, renderEmail, traitValues, unknownPlaceholders } from '../../../functions/domain/email/templates';
import { createHmac } from 'node:crypto';
import {
  checkUnsubscribeToken,
  LEGACY_V1_ACCEPTED_UNTIL,
  UNSUBSCRIBE_TOKEN_LIFETIME_DAYS,
  unsubscribeToken,
  verifyUnsubscribeToken,
} from '../../../functions/domain/email/unsubscribe-token';
import { DEFAULT_JOURNEY_CONFIG } from '../../../functions/domain/journeys/journey-config';

const NOON_UTC = new Date('2026-03-01T12:00:00.000Z');
const ready: RecipientState = { email: 'ana@shop.test', marketingConsent: true, suppressed: false, unsubscribed: false, recentSends: [] };

describe('send guards', () => {
  test.each([
    [{ email: undefined }, 'no-email'],
    [{ marketingConsent: false }, 'no-consent'],
    [{ suppressed: true }, 'suppressed'],
    [{ unsubscribed: true }, 'unsubscribed'],
    [{ recentSends: ['2026-03-01T01:00:00.000Z', '2026-03-01T11:00:00.000Z'] }, 'frequency-cap'],
  ])('%j skips with %s', (change, reason) => {
    expect(checkSendGuards({ ...ready, ...change } as RecipientState, DEFAULT_JOURNEY_CONFIG, NOON_UTC)).toEqual({ kind: 'skip', reason });
  });

  test('sends that left the cap window no longer count', () => {
    expect(checkSendGuards({ ...ready, recentSends: ['2026-02-28T11:00:00.000Z', '2026-03-01T11:00:00.000Z'] }, DEFAULT_JOURNEY_CONFIG, NOON_UTC)).toEqual({
      kind: 'send',
    });
  });

  test('quiet hours in the profile time zone defer the send to their end', () => {
    // 12:00 UTC is 21:00 in Tokyo: quiet until 08:00 there, 23:00 UTC.
    expect(checkSendGuards({ ...ready, timeZone: 'Asia/Tokyo' }, DEFAULT_JOURNEY_CONFIG, NOON_UTC)).toEqual({
      kind: 'defer',
      until: '2026-03-01T23:00:00.000Z',
    });
    expect(checkSendGuards({ ...ready, timeZone: 'Not/AZone' }, DEFAULT_JOURNEY_CONFIG, NOON_UTC)).toEqual({ kind: 'send' });
  });

  test('a window inside one day and a disabled window', () => {
    expect(quietHoursEnd(new Date('2026-03-01T13:30:20.000Z'), 'UTC', 13, 15)).toBe('2026-03-01T15:00:00.000Z');
    expect(quietHoursEnd(new Date('2026-03-01T15:00:00.000Z'), 'UTC', 13, 15)).toBeUndefined();
    expect(quietHoursEnd(NOON_UTC, 'UTC', 12, 12)).toBeUndefined();
  });
});

describe('templates', () => {
  test('values are escaped in HTML, kept in text, and the subject stays one line', () => {
    const rendered = renderEmail(
      {
        subject: 'Hi {{firstName}}',
        html: '<p>{{firstName}}</p><ul>{{#cart}}<li>{{name}} x{{quantity}} {{price}}</li>{{/cart}}</ul>{{missing}}',
        text: '{{#cart}}{{name}};{{/cart}}',
      },
      {
        values: { firstName: '<script>x</script>\r\nBcc: evil@x' },
        cart: [
          { name: 'A & B', quantity: 2, price: '3.00 EUR', productId: 'p1' },
          { name: '"C"', quantity: 1, price: '', productId: 'p2' },
        ],
      },
    );
    expect(rendered.subject).toBe('Hi <script>x</script> Bcc: evil@x');
    expect(rendered.html).toBe('<p>&lt;script&gt;x&lt;/script&gt;\r\nBcc: evil@x</p><ul><li>A &amp; B x2 3.00 EUR</li><li>&quot;C&quot; x1 </li></ul>');
    expect(rendered.text).toBe('A & B;"C";');
  });
});

describe('template values', () => {
  const template = { subject: 'For {{traits.city|you}}', html: '<p>{{traits.plan|a member}} in {{traits.city|your town}}</p>', text: '{{firstName | there}}' };

  test('traits by name, fallbacks for missing or empty values, escaped in HTML like any value', () => {
    const values = { ...traitValues({ city: { value: 'Lyon <Rhône>' }, plan: { value: '' }, tags: { value: ['a'] }, visits: { value: 3 } }), firstName: '' };
    expect(values).toEqual({ 'traits.city': 'Lyon <Rhône>', 'traits.plan': '', 'traits.visits': 3, firstName: '' });
    expect(renderEmail(template, { values, cart: [] })).toEqual({ subject: 'For Lyon <Rhône>', html: '<p>a member in Lyon &lt;Rhône&gt;</p>', text: 'there' });
    expect(renderEmail({ ...template, html: '{{traits.city|<b>you</b>}}' }, { values: {}, cart: [] }).html).toBe('&lt;b&gt;you&lt;/b&gt;');
  });

  test('traits.* admits every trait; other unknown names are reported with what may be used', () => {
    expect(unknownPlaceholders(template, ['firstName', 'traits.*'])).toEqual([]);
    expect(unknownPlaceholders(template, ['firstName'])).toEqual(['traits.city', 'traits.plan']);
    expect(describePlaceholders(['firstName', 'traits.*'])).toBe('{{firstName}}, {{traits.<name>}}');
  });
});

describe('unsubscribe tokens', () => {
  const issued = new Date('2026-12-01T10:00:00.000Z');
  const day = 86_400_000;

  test('round trip, and tampering or another secret fails', () => {
    const token = unsubscribeToken('secret-1', 'profile-42', issued);
    expect(verifyUnsubscribeToken('secret-1', token, issued)).toBe('profile-42');
    expect(verifyUnsubscribeToken('secret-2', token, issued)).toBeUndefined();
    const [version, , expires, mac] = token.split('.');
    const forged = `${version}.${Buffer.from('profile-43').toString('base64url')}.${expires}.${mac}`;
    expect(verifyUnsubscribeToken('secret-1', forged, issued)).toBeUndefined();
    expect(verifyUnsubscribeToken('secret-1', 'garbage', issued)).toBeUndefined();
  });

  test(`expires ${UNSUBSCRIBE_TOKEN_LIFETIME_DAYS} days after the send, and the expiry cannot be extended`, () => {
    expect(UNSUBSCRIBE_TOKEN_LIFETIME_DAYS).toBe(90);
    const token = unsubscribeToken('secret-1', 'profile-42', issued);
    const lastSecond = new Date(issued.getTime() + 90 * day - 1_000);
    const expiry = new Date(issued.getTime() + 90 * day);
    expect(checkUnsubscribeToken('secret-1', token, lastSecond)).toEqual({ status: 'valid', profileId: 'profile-42', expiresAt: expiry.toISOString() });
    expect(checkUnsubscribeToken('secret-1', token, expiry)).toEqual({ status: 'expired', expiredAt: expiry.toISOString() });
    expect(verifyUnsubscribeToken('secret-1', token, expiry)).toBeUndefined();
    const [version, profile, expires, mac] = token.split('.');
    const extended = `${version}.${profile}.${Number(expires) + 365 * 86_400}.${mac}`;
    expect(checkUnsubscribeToken('secret-1', extended, lastSecond)).toEqual({ status: 'invalid' });
  });

  test('v1 links (no expiry, sent before v2) work until the documented cutoff', () => {
    const v1 = `v1.${Buffer.from('profile-7').toString('base64url')}.${createHmac('sha256', 'secret-1').update('unsubscribe:v1:profile-7').digest('base64url')}`;
    const cutoff = new Date(LEGACY_V1_ACCEPTED_UNTIL);
    expect(checkUnsubscribeToken('secret-1', v1, issued)).toMatchObject({ status: 'valid', profileId: 'profile-7' });
    expect(checkUnsubscribeToken('secret-1', v1, new Date(cutoff.getTime() + 1_000))).toMatchObject({ status: 'expired' });
    expect(checkUnsubscribeToken('secret-2', v1, issued)).toEqual({ status: 'invalid' });
    expect(cutoff.getTime() - issued.getTime()).toBeGreaterThanOrEqual(UNSUBSCRIBE_TOKEN_LIFETIME_DAYS * day);
  });

  const malformed = [
    '',
    '.',
    'v2',
    'v2...',
    'v2.cA.1e9.x',
    'v2.cA.-5.AAAA',
    'v3.cA.1.AAAA',
    'v1.cA',
    `v2.cA.1.${'A'.repeat(5_000)}`,
    'v2.\u0000.\u0000.\u0000',
  ];
  test.each(malformed.map((token) => [token.length > 24 ? `${token.slice(0, 12)}… (${token.length} chars)` : JSON.stringify(token), token]))(
    'never throws on a malformed token: %s is invalid',
    (_label, token) => {
      expect(checkUnsubscribeToken('secret-1', token, issued)).toEqual({ status: 'invalid' });
    },
  );
});
