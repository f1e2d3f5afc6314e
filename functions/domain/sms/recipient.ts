import { traitText } from '../email/recipient';
import { purposeGranted, type PurposeConfig, DEFAULT_PURPOSE_CONFIG } from '../privacy/purposes';
import { newestIdentity, type ProfileRecord } from '../profile/profile';

/** The purpose an SMS marketing send needs (docs/contract.md §9): granted explicitly, opt-in everywhere by default. */
export const SMS_PURPOSE = 'sms_marketing';

/** The number to text: the newest phone identity, else the `phone` trait (checked as E.164 at the send). */
export function phoneOf(profile: ProfileRecord): string | undefined {
  return newestIdentity(profile.identities, 'phone') ?? traitText(profile, 'phone');
}

/**
 * Whether `sms_marketing` is granted, read like email marketing's consent (hasMarketingConsent):
 * the newest decision, else the EU default (opt-in), whatever the profile's country.
 */
export const hasSmsConsent = (consent: ProfileRecord['consent'], config: PurposeConfig = DEFAULT_PURPOSE_CONFIG): boolean =>
  purposeGranted(consent, SMS_PURPOSE, 'eu', config);
