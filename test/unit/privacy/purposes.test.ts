import {
  consentRegion,
  hasMarketingConsent,
  historyWithPurposes,
  parsePurposeConfig,
  purposeDecision,
  purposeStates,
} from '../../../functions/domain/privacy/purposes';
import { consentOfMessage, EMPTY_CONSENT, mergeConsentWithinLimits, type ConsentState } from '../../../functions/domain/profile/consent';
import { platformEmail, platformPhone } from '../../../functions/domain/segments/export';
import { acceptedMessage } from '../../helpers/messages';

/** The consent a sequence of messages leaves on a profile. */
function consentAfter(...messages: Array<{ at: string; categories?: Record<string, boolean>; unsubscribed?: boolean; importSource?: string }>): ConsentState {
  return messages.reduce((consent, { at, categories, unsubscribed, importSource }) => {
    const message = acceptedMessage({
      type: 'identify',
      userId: 'u',
      timestamp: at,
      receivedAt: at,
      context: {
        ...(categories && { consent: { categoryPreferences: categories } }),
        ...(importSource && { dmp: { origin: { source: importSource, party: 'first' } } }),
      },
    });
    return mergeConsentWithinLimits(consent, consentOfMessage(message, unsubscribed).consent).consent;
  }, EMPTY_CONSENT);
}

describe('purposes from Segment consent categories', () => {
  it('maps the categories per docs/contract.md §9, case-insensitively, with the time and source of each decision', () => {
    const consent = consentAfter({ at: '2026-05-01T10:00:00.000Z', categories: { Advertising: true, Analytics: false, Functional: true } });
    const states = purposeStates(consent, 'eu');
    expect(states.ad_user_data).toEqual({ state: 'granted', at: '2026-05-01T10:00:00.000Z', source: 'tracking', basis: 'explicit' });
    expect(states.ad_personalization?.state).toBe('granted');
    expect(states.analytics?.state).toBe('denied');
    expect(states.personalization?.state).toBe('granted');
    // Nothing said about email or SMS: opt-in, so not granted.
    expect(states.email_marketing).toEqual({ state: 'unknown', basis: 'default' });
    expect(states.sms_marketing?.state).toBe('unknown');
    // Advertising consent is not email consent.
    expect(hasMarketingConsent(consent)).toBe(false);
  });

  it('decides phone marketing by the phone category or its own name only, opt-in: email or SMS consent is not consent to be called', () => {
    const emailAndSms = consentAfter({ at: '2026-05-01T10:00:00.000Z', categories: { marketing: true, email: true, sms: true } });
    expect(purposeDecision(emailAndSms, 'phone_marketing', 'eu')).toEqual({ state: 'unknown', basis: 'default' });
    expect(purposeDecision(emailAndSms, 'phone_marketing', 'other').state).toBe('unknown');
    const phone = consentAfter({ at: '2026-05-01T10:00:00.000Z', categories: { Phone: true } });
    expect(purposeDecision(phone, 'phone_marketing', 'eu')).toMatchObject({ state: 'granted', basis: 'explicit' });
    expect(purposeDecision(phone, 'sms_marketing', 'eu').state).toBe('unknown');
    const withdrawn = consentAfter(
      { at: '2026-05-01T10:00:00.000Z', categories: { phone: true } },
      { at: '2026-05-02T10:00:00.000Z', categories: { phone_marketing: false } },
    );
    expect(purposeDecision(withdrawn, 'phone_marketing', 'eu')).toMatchObject({ state: 'denied', at: '2026-05-02T10:00:00.000Z' });
  });

  it('lets the newest decision win, an unsubscribe deny email marketing, and lifting it grant nothing', () => {
    const granted = consentAfter({ at: '2026-05-01T10:00:00.000Z', categories: { marketing: true } });
    expect(hasMarketingConsent(granted)).toBe(true);
    const unsubscribed = consentAfter(
      { at: '2026-05-01T10:00:00.000Z', categories: { marketing: true } },
      { at: '2026-05-02T10:00:00.000Z', unsubscribed: true },
    );
    expect(purposeDecision(unsubscribed, 'email_marketing', 'eu')).toMatchObject({ state: 'denied', at: '2026-05-02T10:00:00.000Z' });
    const lifted = consentAfter({ at: '2026-05-02T10:00:00.000Z', unsubscribed: true }, { at: '2026-05-03T10:00:00.000Z', unsubscribed: false });
    expect(purposeDecision(lifted, 'email_marketing', 'eu').state).toBe('unknown');
    const regranted = consentAfter(
      { at: '2026-05-02T10:00:00.000Z', unsubscribed: true },
      { at: '2026-05-03T10:00:00.000Z', categories: { email: true }, importSource: 'crm' },
    );
    expect(purposeDecision(regranted, 'email_marketing', 'eu')).toMatchObject({ state: 'granted', source: 'import:crm' });
  });

  it('keeps a history of changes only, in time order whatever the arrival order, with the purposes each decided', () => {
    const consent = consentAfter(
      { at: '2026-05-03T10:00:00.000Z', categories: { Advertising: false } },
      { at: '2026-05-01T10:00:00.000Z', categories: { Advertising: true } },
      { at: '2026-05-02T10:00:00.000Z', categories: { Advertising: true } },
      { at: '2026-05-04T10:00:00.000Z', unsubscribed: true },
    );
    expect(historyWithPurposes(consent)).toEqual([
      { category: 'Advertising', state: 'granted', at: '2026-05-01T10:00:00.000Z', source: 'tracking', purposes: ['ad_user_data', 'ad_personalization'] },
      { category: 'Advertising', state: 'denied', at: '2026-05-03T10:00:00.000Z', source: 'tracking', purposes: ['ad_user_data', 'ad_personalization'] },
      { category: 'unsubscribed', state: 'denied', at: '2026-05-04T10:00:00.000Z', source: 'tracking', purposes: ['email_marketing'] },
    ]);
    expect(purposeDecision(consent, 'ad_user_data', 'eu').state).toBe('denied');
  });

  it('applies the region default only where nothing was decided; an unknown country counts as the EU', () => {
    const config = parsePurposeConfig(JSON.stringify({ grantedByDefault: { other: ['analytics'] } }));
    expect(consentRegion('US')).toBe('other');
    expect(consentRegion('fr')).toBe('eu');
    expect(consentRegion('NO')).toBe('eu');
    expect(consentRegion(undefined)).toBe('eu');
    expect(purposeDecision(EMPTY_CONSENT, 'analytics', 'other', config)).toEqual({ state: 'granted', basis: 'default' });
    expect(purposeDecision(EMPTY_CONSENT, 'analytics', 'eu', config).state).toBe('unknown');
    const denied = consentAfter({ at: '2026-05-01T10:00:00.000Z', categories: { analytics: false } });
    expect(purposeDecision(denied, 'analytics', 'other', config).state).toBe('denied');
  });

  it('refuses a configuration naming a purpose it does not list, or a malformed one, with the path', () => {
    expect(() => parsePurposeConfig(JSON.stringify({ categoryPurposes: { newsletter: ['newsletters'] } }))).toThrow(/newsletters is not one of the purposes/);
    expect(() => parsePurposeConfig(JSON.stringify({ grantedByDefault: { mars: [] } }))).toThrow(/DMP_PRIVACY_CONFIG: grantedByDefault/);
    expect(parsePurposeConfig(JSON.stringify({ categoryPurposes: { newsletter: ['email_marketing'] } })).categoryPurposes.newsletter).toEqual([
      'email_marketing',
    ]);
  });

  it('keeps a configuration that lists its purposes without phone_marketing: the phone category then decides nothing', () => {
    const purposes = ['analytics', 'personalization', 'email_marketing', 'sms_marketing', 'ad_user_data', 'ad_personalization'];
    const config = parsePurposeConfig(JSON.stringify({ purposes }));
    expect(config.purposes).toEqual(purposes);
    expect(config.categoryPurposes.phone).toEqual([]);
    expect(config.categoryPurposes.sms).toEqual(['sms_marketing']);
    expect(purposeStates(consentAfter({ at: '2026-05-01T10:00:00.000Z', categories: { phone: true } }), 'eu', config)).not.toHaveProperty('phone_marketing');
    expect(() => parsePurposeConfig(JSON.stringify({ purposes, categoryPurposes: { phone: ['phone_marketing'] } }))).toThrow(
      /phone_marketing is not one of the purposes/,
    );
  });
});

describe('ad platform normalization before hashing', () => {
  it('removes the dots of gmail.com and googlemail.com local parts for Google only', () => {
    expect(platformEmail('  Jane.Doe@GMail.com ', 'google')).toBe('janedoe@gmail.com');
    expect(platformEmail('jane.doe+news@googlemail.com', 'google')).toBe('janedoe+news@googlemail.com');
    expect(platformEmail('jane.doe@example.com', 'google')).toBe('jane.doe@example.com');
    expect(platformEmail(' Jane.Doe@GMail.com', 'meta')).toBe('jane.doe@gmail.com');
    expect(platformEmail('not an email', 'google')).toBeUndefined();
  });

  it('writes phones in E.164 for Google and as digits with the country code for Meta', () => {
    expect(platformPhone('+1 (650) 555-1212', 'US', 'google')).toBe('+16505551212');
    expect(platformPhone('+1 (650) 555-1212', 'US', 'meta')).toBe('16505551212');
    expect(platformPhone('06 12 34 56 78', 'FR', 'meta')).toBe('33612345678');
    expect(platformPhone('12', 'US', 'meta')).toBeUndefined();
  });
});
