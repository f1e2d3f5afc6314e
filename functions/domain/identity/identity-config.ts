/**
 * Identity resolution settings. Defaults follow the README's "Identity and profiles"; every value can be
 * overridden per deployment (see functions/adapters/identity-config-from-env.ts).
 */
export interface IdentityConfig {
  /** Identifier types from most to least trusted; unknown external types rank before anonymous ids. */
  readonly priority: readonly string[];
  /** How many identifiers of a type one profile may hold. */
  readonly limits: Readonly<Record<string, number>>;
  /** Limit for external id types not listed in `limits`. */
  readonly defaultExternalLimit: number;
  /**
   * Types whose limit may never be exceeded: a message or merge that would break it keeps the
   * profiles apart. For the other types, the least recently seen identifier is released instead
   * (the oldest cookies expire first).
   */
  readonly strictTypes: readonly string[];
  /** Values that never link (compared lower-cased, trimmed). */
  readonly blockedValues: readonly string[];
  /** Email domains used for tests; such addresses never link. */
  readonly blockedEmailDomains: readonly string[];
  /** Traits that carry an external identifier, mapped to its type (e.g. `crm_id` → `crm_id`). */
  readonly externalIdTraits: Readonly<Record<string, string>>;
  /** Anonymous and device ids not seen for this long stop linking (cookie lifetime). */
  readonly anonymousIdLifetimeDays: number;
  /** Region used to read phone numbers written without a country code (ISO 3166 alpha-2). */
  readonly defaultPhoneRegion: string;
}

export const DEFAULT_IDENTITY_CONFIG: IdentityConfig = {
  priority: ['user_id', 'email', 'phone', 'device_id', 'anonymous_id'],
  limits: { user_id: 1, email: 5, phone: 5, device_id: 10, anonymous_id: 50 },
  defaultExternalLimit: 5,
  strictTypes: ['user_id', 'email', 'phone'],
  blockedValues: [
    '',
    'null',
    'undefined',
    'nil',
    'none',
    'n/a',
    'na',
    'anonymous',
    'unknown',
    'guest',
    '0',
    '-1',
    'false',
    'true',
    '[object object]',
    '00000000-0000-0000-0000-000000000000',
  ],
  blockedEmailDomains: ['example.com', 'example.org', 'example.net', 'test.com', 'mailinator.com'],
  externalIdTraits: { crm_id: 'crm_id' },
  anonymousIdLifetimeDays: 395,
  defaultPhoneRegion: 'US',
};

/** Rank of an identifier type: lower is more trusted. External ids sit just above anonymous ids. */
export function identifierRank(config: IdentityConfig, type: string): number {
  const index = config.priority.indexOf(type);
  if (index >= 0) return type === 'anonymous_id' ? 1_000 : index;
  return config.priority.length;
}

export function identifierLimit(config: IdentityConfig, type: string): number {
  return config.limits[type] ?? config.defaultExternalLimit;
}
