import { normalizeEmail, normalizePhone } from '../identity/identifiers';

/** Who supplied a value. First-party data outranks partner (second) and bought (third) data. */
export type Party = 'first' | 'second' | 'third';

const PARTY_RANK: Record<Party, number> = { first: 3, second: 2, third: 1 };

/** A trait value with its provenance: when it was true (event time), where it came from. */
export interface TraitValue {
  readonly value: unknown;
  /** Event time of the message that set it, ISO 8601. */
  readonly at: string;
  readonly source: string;
  readonly party: Party;
  readonly messageId: string;
}

/**
 * Whether `candidate` replaces `current`: a less trusted party never overwrites a more trusted
 * one; within a party the newest event time wins, whatever the arrival order (ties broken by
 * message id so that any delivery order ends in the same state).
 */
export function supersedes(candidate: TraitValue, current: TraitValue | undefined): boolean {
  if (!current) return true;
  const byParty = PARTY_RANK[candidate.party] - PARTY_RANK[current.party];
  if (byParty !== 0) return byParty > 0;
  if (candidate.at !== current.at) return candidate.at > current.at;
  return candidate.messageId > current.messageId;
}

export function mergeTraitMaps(
  base: Readonly<Record<string, TraitValue>>,
  incoming: Readonly<Record<string, TraitValue>>,
): Record<string, TraitValue> {
  const merged: Record<string, TraitValue> = { ...base };
  for (const [name, value] of Object.entries(incoming)) {
    if (supersedes(value, merged[name])) merged[name] = value;
  }
  return merged;
}

export interface RejectedTrait {
  readonly trait: string;
  readonly reason: string;
  readonly value: unknown;
}

export interface TraitNormalization {
  readonly accepted: Record<string, unknown>;
  readonly rejected: RejectedTrait[];
}

type TraitRule = (value: unknown, options: { defaultPhoneRegion: string }) => { value: unknown } | { reason: string };

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const COUNTRY_CODE = /^[A-Za-z]{2}$/;
const MAX_TRAIT_BYTES = 4_096;

const text = (max: number): TraitRule => (value) =>
  typeof value === 'string' && value.trim() !== '' && value.length <= max
    ? { value: value.trim() }
    : { reason: `expected a non-empty string of at most ${max} characters` };

const dateOnly: TraitRule = (value) => {
  if (typeof value !== 'string') return { reason: 'expected an ISO 8601 date' };
  const trimmed = value.trim();
  const time = Date.parse(trimmed);
  if (Number.isNaN(time)) return { reason: 'expected an ISO 8601 date' };
  const date = ISO_DATE.test(trimmed) ? trimmed : new Date(time).toISOString().slice(0, 10);
  return date > '1900-01-01' ? { value: date } : { reason: 'date before 1900' };
};

const dateTime: TraitRule = (value) => {
  const time = typeof value === 'string' || typeof value === 'number' ? Date.parse(String(value)) : Number.NaN;
  return Number.isNaN(time) ? { reason: 'expected an ISO 8601 date-time' } : { value: new Date(time).toISOString() };
};

const country: TraitRule = (value) =>
  typeof value === 'string' && COUNTRY_CODE.test(value.trim())
    ? { value: value.trim().toUpperCase() }
    : { reason: 'expected an ISO 3166-1 alpha-2 country code' };

const timeZone: TraitRule = (value) => {
  if (typeof value !== 'string') return { reason: 'expected an IANA time zone' };
  try {
    return { value: new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone };
  } catch {
    return { reason: 'expected an IANA time zone' };
  }
};

const booleanTrait: TraitRule = (value) => {
  if (typeof value === 'boolean') return { value };
  if (value === 'true' || value === 'false') return { value: value === 'true' };
  return { reason: 'expected a boolean' };
};

/**
 * The typed schema of known traits (Segment reserved traits plus the CDP's own). A value that
 * fails its rule goes to quarantine with the reason; unknown traits are kept as given.
 */
const KNOWN_TRAITS: Record<string, TraitRule> = {
  email: (value) => {
    const email = typeof value === 'string' ? normalizeEmail(value) : undefined;
    return email ? { value: email } : { reason: 'invalid email address' };
  },
  phone: (value, { defaultPhoneRegion }) => {
    const phone = typeof value === 'string' || typeof value === 'number' ? normalizePhone(String(value), defaultPhoneRegion) : undefined;
    return phone ? { value: phone } : { reason: 'invalid phone number' };
  },
  firstName: text(200),
  lastName: text(200),
  name: text(400),
  gender: text(50),
  title: text(200),
  company: (value) => (typeof value === 'object' && value !== null ? { value } : text(200)(value, { defaultPhoneRegion: '' })),
  birthday: dateOnly,
  createdAt: dateTime,
  age: (value) => {
    const age = typeof value === 'string' ? Number(value) : value;
    return typeof age === 'number' && Number.isInteger(age) && age >= 0 && age <= 130 ? { value: age } : { reason: 'expected an age from 0 to 130' };
  },
  country,
  timezone: timeZone,
  unsubscribed: booleanTrait,
  address: (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { reason: 'expected an address object' };
    const address = { ...(value as Record<string, unknown>) };
    if (address.country !== undefined) {
      const code = country(address.country, { defaultPhoneRegion: '' });
      if ('reason' in code) return { reason: `address.country: ${code.reason}` };
      address.country = code.value;
    }
    return { value: address };
  },
};

/** Segment's snake_case spellings of reserved traits, read as the camelCase ones. */
const TRAIT_ALIASES: Record<string, string> = {
  first_name: 'firstName',
  last_name: 'lastName',
  created_at: 'createdAt',
  time_zone: 'timezone',
};

/** Validates and normalizes incoming traits; nothing is dropped silently. */
export function normalizeTraits(raw: Readonly<Record<string, unknown>>, options: { defaultPhoneRegion: string }): TraitNormalization {
  const accepted: Record<string, unknown> = {};
  const rejected: RejectedTrait[] = [];
  for (const [rawName, value] of Object.entries(raw)) {
    const name = TRAIT_ALIASES[rawName] ?? rawName;
    if (value === undefined) continue;
    if (JSON.stringify(value).length > MAX_TRAIT_BYTES) {
      rejected.push({ trait: name, reason: `value larger than ${MAX_TRAIT_BYTES} bytes`, value: '[too large]' });
      continue;
    }
    const rule = KNOWN_TRAITS[name];
    if (!rule || value === null) {
      accepted[name] = value;
      continue;
    }
    const outcome = rule(value, options);
    if ('reason' in outcome) rejected.push({ trait: name, reason: outcome.reason, value });
    else accepted[name] = outcome.value;
  }
  return { accepted, rejected };
}
