import { extractIdentifiers, normalizeIdentifier } from '../../../functions/domain/identity/identifiers';
import { DEFAULT_IDENTITY_CONFIG as config } from '../../../functions/domain/identity/identity-config';
import { acceptedMessage } from '../../helpers/messages';

describe('identifiers', () => {
  it('extracts every identifier of a message, most trusted first, normalized', () => {
    const message = acceptedMessage({
      type: 'identify',
      userId: 'u-42',
      anonymousId: 'cookie-1',
      traits: { email: '  Ana.Lima@Shop.IO ', phone: '(415) 555-2671', crm_id: 'CRM-9' },
      context: { device: { id: 'device-7' }, externalIds: [{ id: 'ext-1', type: 'Shopify_ID', collection: 'users' }] },
    });
    expect(extractIdentifiers(config, message)).toEqual([
      { type: 'user_id', value: 'u-42' },
      { type: 'email', value: 'ana.lima@shop.io' },
      { type: 'phone', value: '+14155552671' },
      { type: 'device_id', value: 'device-7' },
      { type: 'shopify_id', value: 'ext-1' },
      { type: 'crm_id', value: 'CRM-9' },
      { type: 'anonymous_id', value: 'cookie-1' },
    ]);
  });

  it.each(['', '  ', 'null', 'undefined', 'anonymous', '0', '-1', 'NULL', '00000000-0000-0000-0000-000000000000'])(
    'never links the blocked value %j',
    (value) => {
      expect(normalizeIdentifier(config, 'user_id', value)).toBeUndefined();
      expect(normalizeIdentifier(config, 'anonymous_id', value)).toBeUndefined();
    },
  );

  it('refuses test and invalid email addresses and invalid phones', () => {
    expect(normalizeIdentifier(config, 'email', 'qa@example.com')).toBeUndefined();
    expect(normalizeIdentifier(config, 'email', 'not-an-email')).toBeUndefined();
    expect(normalizeIdentifier(config, 'phone', '12')).toBeUndefined();
  });

  it('reads national phone numbers in the configured region', () => {
    expect(normalizeIdentifier({ ...config, defaultPhoneRegion: 'FR' }, 'phone', '06 12 34 56 78')).toEqual({ type: 'phone', value: '+33612345678' });
  });

  it('reads the previousId of an alias as the anonymous id to link', () => {
    const identifiers = extractIdentifiers(config, acceptedMessage({ type: 'alias', userId: 'u-1', previousId: 'cookie-9' }));
    expect(identifiers).toEqual([
      { type: 'user_id', value: 'u-1' },
      { type: 'anonymous_id', value: 'cookie-9' },
    ]);
  });
});
