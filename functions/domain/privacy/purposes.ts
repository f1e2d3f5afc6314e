import * as z from 'zod';
import { compareDecisionTimes, type ConsentDecision, type ConsentState } from '../profile/consent';
import { describeIssues } from '../shared/schema-issues';

/**
 * Processing purposes (GDPR art. 6: consent is given per purpose). The advertising purposes are
 * Google's consent mode names: `ad_user_data` (sending a person's data to an ad platform, e.g.
 * Customer Match) and `ad_personalization` (targeting them with it). `phone_marketing` is being
 * called with an offer (a call-center destination hands the person to a dialer): a channel of its
 * own, decided apart from email and SMS (telemarketing rules differ, e.g. do-not-call lists).
 */
export const DEFAULT_PURPOSES = [
  'analytics',
  'personalization',
  'email_marketing',
  'sms_marketing',
  'phone_marketing',
  'ad_user_data',
  'ad_personalization',
] as const;

export type PurposeState = 'granted' | 'denied' | 'unknown';

/** Where a person's purposes default from when they expressed nothing: the EU (and EEA) or elsewhere. */
export type ConsentRegion = 'eu' | 'other';

export interface PurposeConfig {
  readonly purposes: readonly string[];
  /**
   * Segment consent categories (`context.consent.categoryPreferences`, compared lower-cased) →
   * the purposes they decide. A category named like a purpose decides that purpose too.
   */
  readonly categoryPurposes: Readonly<Record<string, readonly string[]>>;
  /** Purposes a person has until they decide otherwise (opt-out); every other purpose waits for a grant (opt-in). */
  readonly grantedByDefault: Readonly<Record<ConsentRegion, readonly string[]>>;
}

/** docs/contract.md §9. Opt-in for every purpose by default, in and out of the EU: a deployment may relax it outside. */
export const DEFAULT_PURPOSE_CONFIG: PurposeConfig = {
  purposes: DEFAULT_PURPOSES,
  categoryPurposes: {
    advertising: ['ad_user_data', 'ad_personalization'],
    marketing: ['email_marketing'],
    email: ['email_marketing'],
    sms: ['sms_marketing'],
    phone: ['phone_marketing'],
    personalization: ['personalization'],
    functional: ['personalization'],
    analytics: ['analytics'],
  },
  grantedByDefault: { eu: [], other: [] },
};

/** EU and EEA countries (ISO 3166-1 alpha-2), where consent is opt-in (GDPR, ePrivacy). */
const EEA_COUNTRIES = new Set('AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO'.split(' '));

/** The region of a profile's `country` trait; an unknown or unreadable country counts as the EU (the stricter rule). */
export function consentRegion(country: unknown): ConsentRegion {
  if (typeof country !== 'string') return 'eu';
  const code = country.trim().toUpperCase();
  return code.length === 2 && !EEA_COUNTRIES.has(code) ? 'other' : 'eu';
}

export interface PurposeDecision {
  readonly state: PurposeState;
  /** When the person decided; absent for a default. */
  readonly at?: string;
  readonly source?: string;
  /** `explicit` when the person decided, else the region's default. */
  readonly basis: 'explicit' | 'default';
}

/** Purposes that reach the person with marketing: a withdrawal of any of them is a complaint signal. */
export const MARKETING_PURPOSES = ['email_marketing', 'sms_marketing', 'ad_user_data', 'ad_personalization', 'personalization'];

/** The purposes a consent category decides (compared lower-cased; a category named like a purpose decides it). */
export function purposesOfCategory(category: string, config: PurposeConfig = DEFAULT_PURPOSE_CONFIG): string[] {
  const key = category.toLowerCase();
  return config.purposes.filter((purpose) => key === purpose || (config.categoryPurposes[key] ?? []).includes(purpose));
}

/** The categories (as stored) that decide `purpose`. */
const categoriesOf = (consent: ConsentState, purpose: string, config: PurposeConfig): string[] =>
  Object.keys(consent.categories).filter((name) => purposesOfCategory(name, config).includes(purpose));

/**
 * The newest decision about a purpose: among the categories that decide it and, for email
 * marketing, the unsubscribe link (an unsubscribe is a denial at its time). On a tie the denial wins.
 */
function latestDecision(consent: ConsentState, purpose: string, config: PurposeConfig): ConsentDecision | undefined {
  const decisions = categoriesOf(consent, purpose, config).map((name) => consent.categories[name] as ConsentDecision);
  // Lifting an unsubscribe (`unsubscribed: false`) grants nothing by itself.
  if (purpose === 'email_marketing' && consent.unsubscribed?.granted) decisions.push({ ...consent.unsubscribed, granted: false });
  return decisions.reduce<ConsentDecision | undefined>((latest, decision) => {
    if (!latest) return decision;
    const order = compareDecisionTimes(decision, latest);
    return order > 0 || (order === 0 && !decision.granted) ? decision : latest;
  }, undefined);
}

/** A purpose's state for a person: their newest decision, else their region's default. */
export function purposeDecision(
  consent: ConsentState,
  purpose: string,
  region: ConsentRegion,
  config: PurposeConfig = DEFAULT_PURPOSE_CONFIG,
): PurposeDecision {
  const decision = latestDecision(consent, purpose, config);
  if (decision)
    return { state: decision.granted ? 'granted' : 'denied', at: decision.at, ...(decision.source && { source: decision.source }), basis: 'explicit' };
  return { state: config.grantedByDefault[region].includes(purpose) ? 'granted' : 'unknown', basis: 'default' };
}

/** Every configured purpose's state. */
export function purposeStates(consent: ConsentState, region: ConsentRegion, config: PurposeConfig = DEFAULT_PURPOSE_CONFIG): Record<string, PurposeDecision> {
  return Object.fromEntries(config.purposes.map((purpose) => [purpose, purposeDecision(consent, purpose, region, config)]));
}

/** Whether the platform may process the person's data for `purpose`: only on a grant (explicit, or the region's default). */
export function purposeGranted(consent: ConsentState, purpose: string, region: ConsentRegion, config: PurposeConfig = DEFAULT_PURPOSE_CONFIG): boolean {
  return purposeDecision(consent, purpose, region, config).state === 'granted';
}

/** Every purpose the person granted (explicitly, or by their region's default). */
export function grantedPurposesOf(consent: ConsentState, country: unknown, config: PurposeConfig = DEFAULT_PURPOSE_CONFIG): string[] {
  const region = consentRegion(country);
  return config.purposes.filter((purpose) => purposeGranted(consent, purpose, region, config));
}

/**
 * Whether marketing email may be sent: `email_marketing` granted (by `marketing`, `email` or
 * `email_marketing` with the default mapping) and no unsubscribe as new or newer.
 */
export const hasMarketingConsent = (consent: ConsentState, config: PurposeConfig = DEFAULT_PURPOSE_CONFIG): boolean =>
  purposeGranted(consent, 'email_marketing', 'eu', config);

/** A history entry as the consent API shows it: the category's change and the purposes it decided. */
export function historyWithPurposes(consent: ConsentState, config: PurposeConfig = DEFAULT_PURPOSE_CONFIG) {
  return (consent.history ?? []).map((change) => {
    if (change.category === 'unsubscribed') {
      // An unsubscribe denies email marketing; lifting it decides nothing.
      return {
        category: change.category,
        state: change.granted ? 'denied' : 'lifted',
        at: change.at,
        ...(change.source && { source: change.source }),
        purposes: change.granted ? ['email_marketing'] : [],
      };
    }
    const purposes = purposesOfCategory(change.category, config);
    return {
      category: change.category,
      state: change.granted ? 'granted' : 'denied',
      at: change.at,
      ...(change.source && { source: change.source }),
      purposes,
    };
  });
}

const purposeName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a purpose is 1-64 lower-case letters, digits or _');

const purposeConfigOverrides = z.strictObject({
  purposes: z.array(purposeName).min(1).max(32).optional(),
  categoryPurposes: z.record(z.string().min(1).max(64), z.array(purposeName).max(32)).optional(),
  grantedByDefault: z
    .strictObject({ eu: z.array(purposeName), other: z.array(purposeName) })
    .partial()
    .optional(),
});

/**
 * The purpose configuration from `DMP_PRIVACY_CONFIG` (JSON overriding the defaults: `purposes`,
 * `categoryPurposes`, `grantedByDefault.eu|other`). A wrong setting stops the function with the path.
 */
export function parsePurposeConfig(json: string | undefined): PurposeConfig {
  if (json === undefined || json.trim() === '') return DEFAULT_PURPOSE_CONFIG;
  const parsed = purposeConfigOverrides.safeParse(JSON.parse(json));
  if (!parsed.success) {
    throw new Error(`DMP_PRIVACY_CONFIG: ${describeIssues(parsed.error).join('; ')}`);
  }
  const overrides = parsed.data;
  const purposes = overrides.purposes ?? DEFAULT_PURPOSE_CONFIG.purposes;
  // The default mapping decides only the purposes the deployment lists (one that lists its own,
  // written before `phone_marketing` existed, keeps working); its own mapping must name listed ones.
  const defaultCategories = Object.fromEntries(
    Object.entries(DEFAULT_PURPOSE_CONFIG.categoryPurposes).map(([category, mapped]) => [category, mapped.filter((purpose) => purposes.includes(purpose))]),
  );
  const config: PurposeConfig = {
    purposes,
    categoryPurposes: { ...defaultCategories, ...overrides.categoryPurposes },
    grantedByDefault: { ...DEFAULT_PURPOSE_CONFIG.grantedByDefault, ...overrides.grantedByDefault },
  };
  const mapped = [...Object.values(config.categoryPurposes).flat(), ...config.grantedByDefault.eu, ...config.grantedByDefault.other];
  const unknown = mapped.find((purpose) => !config.purposes.includes(purpose));
  if (unknown !== undefined) throw new Error(`DMP_PRIVACY_CONFIG: ${unknown} is not one of the purposes`);
  return config;
}

/**
 * Whether the person objected to `analytics` (a denial; not yet decided is not one): they are not
 * scored, by the models or by lookalikes, and their data trains no lookalike.
 */
export function objectsToAnalytics(
  person: { readonly consent: ConsentState; readonly traits: Readonly<Record<string, { readonly value: unknown } | undefined>> },
  config: PurposeConfig = DEFAULT_PURPOSE_CONFIG,
): boolean {
  return purposeDecision(person.consent, 'analytics', consentRegion(person.traits.country?.value), config).state === 'denied';
}
