import { normalizeEmail } from '../identity/identifiers';
import { hasMarketingConsent } from '../privacy/purposes';
import { newestIdentity, type ProfileRecord } from '../profile/profile';

/** A trait as trimmed text, the first of `names` that has one. */
export function traitText(profile: ProfileRecord, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = profile.traits[name]?.value;
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return undefined;
}

/** The newest email identity, else the `email` trait. */
export function emailOf(profile: ProfileRecord): string | undefined {
  return newestIdentity(profile.identities, 'email') ?? traitText(profile, 'email');
}

/**
 * Whether the profile itself allows marketing email: a valid address and marketing consent (the
 * first guards of checkSendGuards). Journeys start only for such profiles; suppression, the
 * frequency cap and quiet hours are checked at each send, as they live outside the profile.
 */
export function canReceiveMarketingEmail(profile: ProfileRecord): boolean {
  const email = emailOf(profile);
  return email !== undefined && normalizeEmail(email) !== undefined && hasMarketingConsent(profile.consent);
}
