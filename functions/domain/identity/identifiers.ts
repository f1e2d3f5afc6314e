import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { AcceptedMessage } from '../tracking/accepted-message';
import { identifierRank, type IdentityConfig } from './identity-config';
import { asObject } from '../tracking/json';

/** One identifier of a person, normalized, e.g. `{type: 'email', value: 'ana@shop.io'}`. */
export interface Identifier {
  readonly type: string;
  readonly value: string;
}

export const identifierKey = (id: Identifier): string => `${id.type}:${id.value}`;

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(raw: string): string | undefined {
  const email = raw.trim().toLowerCase();
  return EMAIL_PATTERN.test(email) ? email : undefined;
}

/** E.164 (`+33612345678`), reading national numbers in the configured default region. */
export function normalizePhone(raw: string, defaultRegion: string): string | undefined {
  const parsed = parsePhoneNumberFromString(raw.trim(), defaultRegion.toUpperCase() as CountryCode);
  return parsed && parsed.isValid() ? parsed.number : undefined;
}

/**
 * Normalizes an identifier value and says whether it may link profiles at all. Blocked values
 * (placeholders, test addresses) return undefined: linking on them would merge strangers.
 */
export function normalizeIdentifier(config: IdentityConfig, type: string, raw: unknown): Identifier | undefined {
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const text = String(raw).trim();
  if (config.blockedValues.includes(text.toLowerCase())) return undefined;
  if (type === 'email') {
    const email = normalizeEmail(text);
    if (!email) return undefined;
    const domain = email.slice(email.lastIndexOf('@') + 1);
    return config.blockedEmailDomains.includes(domain) ? undefined : { type, value: email };
  }
  if (type === 'phone') {
    const phone = normalizePhone(text, config.defaultPhoneRegion);
    return phone ? { type, value: phone } : undefined;
  }
  return { type, value: text };
}


/**
 * Every identifier a message carries, most trusted first, without duplicates: userId,
 * anonymousId, `context.device.id`, email and phone traits (identify traits or context.traits),
 * `context.externalIds` and configured external-id traits. For `alias`, `previousId` is the
 * anonymous id the person had before logging in (analytics.js `alias`), linked like one; profiles
 * with two different user ids still never merge.
 */
export function extractIdentifiers(config: IdentityConfig, message: AcceptedMessage): Identifier[] {
  const traits = { ...asObject(message.context.traits), ...message.traits };
  const candidates: Array<[string, unknown]> = [
    ['user_id', message.userId],
    ['anonymous_id', message.anonymousId],
    ['device_id', asObject(message.context.device).id],
    ['email', traits.email],
    ['phone', traits.phone],
  ];
  if (message.type === 'alias') candidates.push(['anonymous_id', message.previousId]);
  const externalIds = message.context.externalIds;
  if (Array.isArray(externalIds)) {
    for (const entry of externalIds) {
      const { id, type } = asObject(entry);
      if (typeof type === 'string' && type.trim() !== '') candidates.push([type.trim().toLowerCase(), id]);
    }
  }
  for (const [trait, type] of Object.entries(config.externalIdTraits)) candidates.push([type, traits[trait]]);

  const seen = new Set<string>();
  const identifiers: Identifier[] = [];
  for (const [type, raw] of candidates) {
    const identifier = normalizeIdentifier(config, type, raw);
    if (!identifier || seen.has(identifierKey(identifier))) continue;
    seen.add(identifierKey(identifier));
    identifiers.push(identifier);
  }
  return identifiers.sort((a, b) => identifierRank(config, a.type) - identifierRank(config, b.type));
}
