import { normalizeEmail, normalizePhone } from '../identity/identifiers';
import { precedenceTime } from '../tracking/timestamps';
import { PROFILE_LIMITS, dynamoSize, jsonDepth, quarantinePreview, reservedName, unsafeValueReason, utf8Bytes, type RejectedValue } from './limits';

/** Who supplied a value. First-party data outranks partner (second) and bought (third) data. */
export type Party = 'first' | 'second' | 'third';

const PARTY_RANK: Record<Party, number> = { first: 3, second: 2, third: 1 };

/** A trait value with its provenance: when it was true (event time), where it came from. */
export interface TraitValue {
  readonly value: unknown;
  /** Event time of the message that set it (bounded: see functions/domain/tracking/timestamps.ts), ISO 8601. */
  readonly at: string;
  /** When the platform received that message; absent on values stored before it was kept. */
  readonly receivedAt?: string;
  readonly source: string;
  readonly party: Party;
  readonly messageId: string;
}

/**
 * Whether `candidate` replaces `current`: a less trusted party never overwrites a more trusted
 * one; within a party the newest event time wins, whatever the arrival order, where the time is
 * never later than the value's receipt (`precedenceTime`): a forged future time cannot outrank a
 * message received after it. Ties go to the later event time, then the larger message id, so that
 * any delivery order ends in the same state.
 */
export function supersedes(candidate: TraitValue, current: TraitValue | undefined): boolean {
  if (!current) return true;
  const byParty = PARTY_RANK[candidate.party] - PARTY_RANK[current.party];
  if (byParty !== 0) return byParty > 0;
  const candidateTime = precedenceTime(candidate.at, candidate.receivedAt);
  const currentTime = precedenceTime(current.at, current.receivedAt);
  if (candidateTime !== currentTime) return candidateTime > currentTime;
  if (candidate.at !== current.at) return candidate.at > current.at;
  return candidate.messageId > current.messageId;
}

export function mergeTraitMaps(base: Readonly<Record<string, TraitValue>>, incoming: Readonly<Record<string, TraitValue>>): Record<string, TraitValue> {
  return mergeTraitMapsWithinLimits(base, incoming).traits;
}

/** Whether a trait is one of the typed schema (bounded by its rules, never counted against the custom caps). */
/** Contact and identity traits: personal data, never a model feature (and unique per person, so useless as one). */
const PERSONAL_TRAITS = new Set(['email', 'phone', 'firstname', 'lastname', 'first_name', 'last_name', 'name', 'address', 'street', 'birthday', 'username']);

export const isPersonalTrait = (name: string): boolean => PERSONAL_TRAITS.has(name.toLowerCase());

export const isSchemaTrait = (name: string): boolean => Object.hasOwn(KNOWN_TRAITS, name);

/** What a custom trait costs against PROFILE_LIMITS.maxCustomTraitsBytes: its stored name, value and provenance. */
export const storedTraitBytes = (name: string, value: TraitValue): number => 1 + utf8Bytes(name) + dynamoSize(value);

/**
 * Merges incoming trait values (a message's, or an absorbed profile's) into a profile's traits
 * within the profile caps: schema traits always; a custom trait only while the profile keeps
 * fewer than `maxCustomTraits` of them and their stored size stays within `maxCustomTraitsBytes`.
 * Existing traits always accept newer values that fit. What does not fit is returned, with the
 * reason, for the quarantine; the profile keeps what it had.
 */
export function mergeTraitMapsWithinLimits(
  base: Readonly<Record<string, TraitValue>>,
  incoming: Readonly<Record<string, TraitValue>>,
): { traits: Record<string, TraitValue>; rejected: RejectedValue[] } {
  const merged: Record<string, TraitValue> = { ...base };
  const rejected: RejectedValue[] = [];
  let customCount = 0;
  let customBytes = 0;
  for (const [name, value] of Object.entries(merged)) {
    if (isSchemaTrait(name)) continue;
    customCount += 1;
    customBytes += storedTraitBytes(name, value);
  }
  // Sorted, so that which traits fit under a cap does not depend on the JSON key order.
  for (const name of Object.keys(incoming).sort()) {
    const value = incoming[name] as TraitValue;
    const current = merged[name];
    if (!supersedes(value, current)) continue;
    if (isSchemaTrait(name)) {
      merged[name] = value;
      continue;
    }
    const growth = storedTraitBytes(name, value) - (current ? storedTraitBytes(name, current) : 0);
    if (!current && customCount >= PROFILE_LIMITS.maxCustomTraits) {
      rejected.push({ trait: name, reason: `profile already keeps ${PROFILE_LIMITS.maxCustomTraits} custom traits`, value: quarantinePreview(value.value) });
    } else if (customBytes + growth > PROFILE_LIMITS.maxCustomTraitsBytes) {
      rejected.push({
        trait: name,
        reason: `custom traits of the profile would exceed ${PROFILE_LIMITS.maxCustomTraitsBytes / 1024} KiB`,
        value: quarantinePreview(value.value),
      });
    } else {
      if (!current) customCount += 1;
      customBytes += growth;
      merged[name] = value;
    }
  }
  return { traits: merged, rejected };
}

/** A trait value that was refused, with the reason (kept in the quarantine). */
export type RejectedTrait = RejectedValue;

export interface TraitNormalization {
  readonly accepted: Record<string, unknown>;
  readonly rejected: RejectedTrait[];
}

type TraitRule = (value: unknown, options: { defaultPhoneRegion: string }) => { value: unknown } | { reason: string };

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const COUNTRY_CODE = /^[A-Za-z]{2}$/;
const MAX_TRAIT_BYTES = PROFILE_LIMITS.maxTraitValueBytes;
/** RFC 5321: an address is at most 254 characters. */
const MAX_EMAIL_LENGTH = 254;
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters refused
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

const text =
  (max: number): TraitRule =>
  (value) =>
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
    const email = typeof value === 'string' && value.trim().length <= MAX_EMAIL_LENGTH ? normalizeEmail(value) : undefined;
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

/** Why a trait name cannot be kept, if it cannot. */
function traitNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'empty trait name';
  if (name.length > PROFILE_LIMITS.maxTraitNameLength) return `trait name longer than ${PROFILE_LIMITS.maxTraitNameLength} characters`;
  if (CONTROL_CHARACTERS.test(name)) return 'control character in the trait name';
  if (reservedName(name)) return `"${name}" is a reserved name`;
  return undefined;
}

/** Validates and normalizes incoming traits; nothing is dropped silently. */
export function normalizeTraits(raw: Readonly<Record<string, unknown>>, options: { defaultPhoneRegion: string }): TraitNormalization {
  const accepted: Record<string, unknown> = {};
  const rejected: RejectedTrait[] = [];
  for (const [rawName, value] of Object.entries(raw)) {
    const name = Object.hasOwn(TRAIT_ALIASES, rawName) ? (TRAIT_ALIASES[rawName] as string) : rawName;
    if (value === undefined) continue;
    const nameProblem = traitNameProblem(name);
    if (nameProblem) {
      rejected.push({ trait: quarantinePreview(name, 256) as string, reason: nameProblem, value: quarantinePreview(value) });
      continue;
    }
    if (utf8Bytes(JSON.stringify(value)) > MAX_TRAIT_BYTES) {
      rejected.push({ trait: name, reason: `value larger than ${MAX_TRAIT_BYTES} bytes`, value: '[too large]' });
      continue;
    }
    if (jsonDepth(value) > PROFILE_LIMITS.maxTraitValueDepth) {
      rejected.push({ trait: name, reason: `value nested deeper than ${PROFILE_LIMITS.maxTraitValueDepth} levels`, value: '[too deep]' });
      continue;
    }
    const unsafe = unsafeValueReason(value);
    if (unsafe) {
      rejected.push({ trait: name, reason: unsafe, value: quarantinePreview(value) });
      continue;
    }
    const rule = Object.hasOwn(KNOWN_TRAITS, name) ? KNOWN_TRAITS[name] : undefined;
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
