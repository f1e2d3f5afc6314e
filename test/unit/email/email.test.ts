import { checkSendGuards, quietHoursEnd, type RecipientState } from '../../../functions/domain/email/send-guards';
import { describePlaceholders, renderEmail, traitValues, unknownPlaceholders } from '../../../functions/domain/email/templates';
import { unsubscribeToken, verifyUnsubscribeToken } from '../../../functions/domain/email/unsubscribe-token';
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
    expect(checkSendGuards({ ...ready, recentSends: ['2026-02-28T11:00:00.000Z', '2026-03-01T11:00:00.000Z'] }, DEFAULT_JOURNEY_CONFIG, NOON_UTC)).toEqual({ kind: 'send' });
  });

  test('quiet hours in the profile time zone defer the send to their end', () => {
    // 12:00 UTC is 21:00 in Tokyo: quiet until 08:00 there, 23:00 UTC.
    expect(checkSendGuards({ ...ready, timeZone: 'Asia/Tokyo' }, DEFAULT_JOURNEY_CONFIG, NOON_UTC)).toEqual({ kind: 'defer', until: '2026-03-01T23:00:00.000Z' });
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
      { subject: 'Hi {{firstName}}', html: '<p>{{firstName}}</p><ul>{{#cart}}<li>{{name}} x{{quantity}} {{price}}</li>{{/cart}}</ul>{{missing}}', text: '{{#cart}}{{name}};{{/cart}}' },
      { values: { firstName: '<script>x</script>\r\nBcc: evil@x' }, cart: [{ name: 'A & B', quantity: 2, price: '3.00 EUR', productId: 'p1' }, { name: '"C"', quantity: 1, price: '', productId: 'p2' }] },
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
  test('round trip, and tampering or another secret fails', () => {
    const token = unsubscribeToken('secret-1', 'profile-42');
    expect(verifyUnsubscribeToken('secret-1', token)).toBe('profile-42');
    expect(verifyUnsubscribeToken('secret-2', token)).toBeUndefined();
    const [version, , mac] = token.split('.');
    const forged = `${version}.${Buffer.from('profile-43').toString('base64url')}.${mac}`;
    expect(verifyUnsubscribeToken('secret-1', forged)).toBeUndefined();
    expect(verifyUnsubscribeToken('secret-1', 'garbage')).toBeUndefined();
  });
});
