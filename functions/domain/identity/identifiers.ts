import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { AcceptedMessage } from '../tracking/accepted-message';
import { identifierRank, type IdentityConfig } from './identity-config';
import { asObject } from '../tracking/json';
import { PROFILE_LIMITS, quarantinePreview, reservedName, type RejectedValue } from '../profile/limits';

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
  return parsed?.isValid() ? parsed.number : undefined;
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

/** Where a message may carry identifiers, as (type, raw value) pairs, most trusted fields first. */
function identifierCandidates(config: IdentityConfig, message: AcceptedMessage): Array<[string, unknown]> {
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
  return candidates;
}

/** Identifier types are printable ASCII (`crm_id`, `ga4_client_id`...). */
const IDENTIFIER_TYPE = /^[\x20-\x7e]+$/;

/** Why an identifier cannot be linked although it is valid (profile caps), if it cannot. */
function identifierCapProblem(identifier: Identifier): string | undefined {
  if (identifier.type.length > PROFILE_LIMITS.maxIdentifierTypeLength || !IDENTIFIER_TYPE.test(identifier.type) || reservedName(identifier.type)) {
    return `identifier type not printable ASCII of at most ${PROFILE_LIMITS.maxIdentifierTypeLength} characters, or reserved`;
  }
  if (identifier.value.length > PROFILE_LIMITS.maxIdentifierLength) return `identifier longer than ${PROFILE_LIMITS.maxIdentifierLength} characters`;
  return undefined;
}

/**
 * Every identifier a message carries, most trusted first, without duplicates: userId,
 * anonymousId, `context.device.id`, email and phone traits (identify traits or context.traits),
 * `context.externalIds` and configured external-id traits. For `alias`, `previousId` is the
 * anonymous id the person had before logging in (analytics.js `alias`), linked like one; profiles
 * with two different user ids still never merge.
 */
export function extractIdentifiers(config: IdentityConfig, message: AcceptedMessage): Identifier[] {
  return extractIdentifiersWithinLimits(config, message).identifiers;
}

/**
 * The identifiers of a message (as `extractIdentifiers`) within the profile caps: types and values
 * of bounded length, at most PROFILE_LIMITS.maxIdentifiersPerMessage (the most trusted). The
 * others are returned for the quarantine and never linked.
 */
export function extractIdentifiersWithinLimits(config: IdentityConfig, message: AcceptedMessage): { identifiers: Identifier[]; rejected: RejectedValue[] } {
  const seen = new Set<string>();
  const identifiers: Identifier[] = [];
  const rejected: RejectedValue[] = [];
  for (const [type, raw] of identifierCandidates(config, message)) {
    const identifier = normalizeIdentifier(config, type, raw);
    if (!identifier || seen.has(identifierKey(identifier))) continue;
    seen.add(identifierKey(identifier));
    const problem = identifierCapProblem(identifier);
    if (problem)
      rejected.push({
        trait: `identifier:${quarantinePreview(identifier.type, 128) as string}`,
        reason: problem,
        value: quarantinePreview(identifier.value, 256),
      });
    else identifiers.push(identifier);
  }
  identifiers.sort((a, b) => identifierRank(config, a.type) - identifierRank(config, b.type));
  for (const identifier of identifiers.slice(PROFILE_LIMITS.maxIdentifiersPerMessage)) {
    rejected.push({
      trait: `identifier:${identifier.type}`,
      reason: `more than ${PROFILE_LIMITS.maxIdentifiersPerMessage} identifiers in one message`,
      value: identifier.value,
    });
  }
  return { identifiers: identifiers.slice(0, PROFILE_LIMITS.maxIdentifiersPerMessage), rejected };
}

/**
 * The message without the given identifiers (erased ones): every field that carries one of them
 * (`userId`, `anonymousId`, alias `previousId`, `context.device.id`, the email, phone and
 * external-id traits in `traits` and `context.traits`, `context.externalIds` entries) is removed,
 * so neither the profile nor the stored event keeps them.
 */
export function withoutIdentifiers(config: IdentityConfig, message: AcceptedMessage, identifiers: readonly Identifier[]): AcceptedMessage {
  const keys = new Set(identifiers.map(identifierKey));
  const carries = (type: string, raw: unknown): boolean => {
    const identifier = normalizeIdentifier(config, type, raw);
    return identifier !== undefined && keys.has(identifierKey(identifier));
  };
  const { userId, anonymousId, previousId, ...rest } = message;
  const traitIdentifiers: Array<[string, string]> = [['email', 'email'], ['phone', 'phone'], ...Object.entries(config.externalIdTraits)];
  const withoutTraitIdentifiers = (traits: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(traits).filter(([name, value]) => !traitIdentifiers.some(([trait, type]) => trait === name && carries(type, value))));

  const context: Record<string, unknown> = { ...message.context };
  const device = asObject(context.device);
  if (carries('device_id', device.id)) {
    const { id: _id, ...otherDeviceFields } = device;
    context.device = otherDeviceFields;
  }
  if (context.traits !== undefined) context.traits = withoutTraitIdentifiers(asObject(context.traits));
  if (Array.isArray(context.externalIds)) {
    context.externalIds = context.externalIds.filter((entry) => {
      const { id, type } = asObject(entry);
      return !(typeof type === 'string' && carries(type.trim().toLowerCase(), id));
    });
  }
  return {
    ...rest,
    ...(userId !== undefined && !carries('user_id', userId) && { userId }),
    ...(anonymousId !== undefined && !carries('anonymous_id', anonymousId) && { anonymousId }),
    ...(previousId !== undefined && !(message.type === 'alias' && carries('anonymous_id', previousId)) && { previousId }),
    traits: withoutTraitIdentifiers(message.traits),
    context,
  };
}
