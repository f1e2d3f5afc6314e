/**
 * Bounds of one profile (issue "Hostile input": the write key is public, so anything a browser can
 * send, an attacker can send). Every part of a PROFILE item is capped so that the item stays far
 * below DynamoDB's 400 KB whatever is sent; a value beyond a cap goes to the quarantine with its
 * reason and the profile keeps taking events.
 *
 * Worst-case size of a PROFILE item with these caps and the default identity limits (DynamoDB
 * sizes: UTF-8 bytes of strings and attribute names, numbers <= 21 bytes, 3 bytes per map or list
 * plus 1 per element; a JavaScript character is at most 3 UTF-8 bytes):
 *
 * | part | worst case | arithmetic |
 * |---|---|---|
 * | custom traits | 48.7 KB | budget of 48 KiB on name + value + provenance, whatever their number (<= 200) |
 * | schema traits | 25.7 KB | 15 names; values 12 KB (address, company <= 4 KiB; texts <= 400 chars) + provenance 15 x ~900 B (messageId <= 255 chars, source <= 64) |
 * | identities | 91.1 KB | 100 links x (type <= 64 ASCII + value <= 255 chars = 765 B + 2 times 48 + names 26 + 8) |
 * | daily counters | 17.1 KB | 97 days (95 kept, today, 5 min ahead) x (day 10 + 8 counters x (name <= 13 + 9 + 1) + 3) |
 * | cart | 37.3 KB | 20 lines x (key 100 + ids, sku, category, cart 4 x 100 + name 200 + urls 2 x 512 + numbers + 2 times + names) |
 * | event names | 29.6 KB | 200 x (name <= 100 B + count + last 24 + names + 6) |
 * | categories | 11.0 KB | 100 x (name <= 100 B + count + 2) |
 * | consent | 8.5 KB | 32 categories x (name <= 64 chars = 192 B + granted + 2 times + names + 8) |
 * | mergedFrom | 1.9 KB | 50 newest profile ids (36 B) + a count; the full list is one MF# item per merge |
 * | channels, totals, scalars | 1 KB | 7 channels, 8 counters, times, revenue, currency (3 letters) |
 * | total | 271.6 KB | 66 % of 400 KB (measured by test/unit/profile/limits.test.ts); a typical profile is 2-10 KB |
 *
 * PROFILE_LIMITS.itemBudgetBytes (300 KiB) is checked before every write as a last guard: a
 * message that would push a profile past it (only possible with raised identity limits) is applied
 * with its counters only, its traits and consent quarantined.
 */
export const PROFILE_LIMITS = {
  /** Traits outside the schema (KNOWN_TRAITS) a profile keeps. */
  maxCustomTraits: 200,
  /** Total stored size of the custom traits: names, values and provenance. */
  maxCustomTraitsBytes: 48 * 1024,
  maxTraitNameLength: 128,
  /** One trait value, as JSON (UTF-8 bytes). */
  maxTraitValueBytes: 4_096,
  /** Objects and arrays inside a trait value. */
  maxTraitValueDepth: 8,
  /** Trait provenance `source` (an import's source name). */
  maxSourceLength: 64,
  /** Identifiers linked from one message, most trusted first. */
  maxIdentifiersPerMessage: 16,
  /** Identifiers one profile holds; beyond, the least recently seen lenient ones are released. */
  maxIdentitiesPerProfile: 100,
  /** An identifier value (user ids and anonymous ids are at most 255 characters at ingest too). */
  maxIdentifierLength: 255,
  /** An identifier type name (external ids: `context.externalIds[].type`). */
  maxIdentifierTypeLength: 64,
  maxCartLines: 20,
  /** Product id, sku, category and cart id of a cart line, UTF-8 bytes. */
  maxCartIdBytes: 100,
  maxCartNameBytes: 200,
  maxCartUrlBytes: 512,
  /** Prices and revenues beyond this magnitude are not counted (the Tracking API's own limit). */
  maxAmount: 1_000_000_000_000,
  maxQuantity: 10_000,
  maxEventNames: 200,
  maxEventNameBytes: 100,
  maxCategories: 100,
  maxCategoryBytes: 100,
  maxConsentCategories: 32,
  maxConsentCategoryLength: 64,
  /** The newest merged profile ids kept on the profile (all of them are kept as MF# items). */
  maxInlineMergedFrom: 50,
  /** Last guard before a write (see above). */
  itemBudgetBytes: 300 * 1024,
  /** Quarantine entries written with one message (the last one summarizes the rest). */
  maxQuarantinePerMessage: 10,
} as const;

/** A value refused by a validation rule or a cap, with the reason; it goes to the quarantine. */
export interface RejectedValue {
  /** The trait, or the profile field (`identifier:email`, `activity.cart`, `consent.categories`...). */
  readonly trait: string;
  readonly reason: string;
  readonly value: unknown;
}

export const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * Names of `Object.prototype` members (`constructor`, `__proto__`, `toString`...). As a key of a
 * profile map (traits, event names, categories, cart lines, consent) they collide with the
 * inherited member, and the DynamoDB document client cannot marshal an object with an own
 * `constructor`: one such key would make every later write of the profile fail.
 */
export const reservedName = (name: string): boolean => Object.hasOwn(Object.prototype, name);

/** Size DynamoDB counts for a number: 1 byte per 2 significant digits, plus 1. */
function numberBytes(value: number): number {
  const digits = Math.abs(value).toExponential().split('e')[0]?.replace('.', '').replace(/0+$/, '') ?? '';
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/**
 * The size DynamoDB counts for a value (an item when given the item's attributes), following its
 * documented rules: strings and attribute names in UTF-8 bytes, numbers by significant digits,
 * booleans and null 1 byte, 3 bytes per map or list plus 1 per element.
 */
export function dynamoSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8Bytes(value);
  if (typeof value === 'number') return numberBytes(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, item) => sum + 1 + dynamoSize(item), 0);
  if (typeof value === 'object') {
    let size = 3;
    for (const [name, item] of Object.entries(value as Record<string, unknown>)) {
      if (item === undefined) continue;
      size += 1 + utf8Bytes(name) + dynamoSize(item);
    }
    return size;
  }
  return utf8Bytes(String(value));
}

/** Size of an item (its top-level attributes, names included). */
export function dynamoItemSize(item: Readonly<Record<string, unknown>>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) if (value !== undefined) size += utf8Bytes(name) + dynamoSize(value);
  return size;
}

/** Nesting depth of a JSON value: 0 for a scalar, 1 for a flat object or array. */
export function jsonDepth(value: unknown, limit = 64): number {
  if (value === null || typeof value !== 'object') return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  for (const item of Object.values(value as Record<string, unknown>)) deepest = Math.max(deepest, jsonDepth(item, limit - 1));
  return 1 + deepest;
}

/** DynamoDB numbers: magnitudes from 1E-130 to below 1E+126 (and 0). */
export const storableNumber = (value: number): boolean => Number.isFinite(value) && (value === 0 || (Math.abs(value) < 1e126 && Math.abs(value) >= 1e-130));

/** What makes a JSON value unstorable in a PROFILE item (numbers outside ±2^53 are read back as BigInt). */
export function unsafeValueReason(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER ? undefined : 'number beyond ±2^53';
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(value) && key === '') return 'empty property name';
    if (!Array.isArray(value) && reservedName(key)) return `reserved property name "${key}"`;
    const reason = unsafeValueReason(item);
    if (reason) return reason;
  }
  return undefined;
}

/** A short, bounded preview of a refused value for the quarantine (never the whole of a large value). */
export function quarantinePreview(value: unknown, maxBytes = 1_024): unknown {
  if (typeof value === 'string') return utf8Bytes(value) <= maxBytes ? value : `${value.slice(0, Math.floor(maxBytes / 3))}…`;
  if (value === undefined) return undefined;
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    return '[not serializable]';
  }
  if (json === undefined) return undefined;
  return utf8Bytes(json) <= maxBytes && jsonDepth(value) <= PROFILE_LIMITS.maxTraitValueDepth && unsafeValueReason(value) === undefined
    ? value
    : `[${utf8Bytes(json)} bytes]`;
}
