import { createHash } from 'node:crypto';
import { normalizeEmail, normalizePhone } from '../identity/identifiers';
import { newestIdentity, type IdentityLink } from '../profile/profile';

/**
 * Segment exports for activation (CSV or NDJSON), optionally with identifiers hashed as
 * advertising customer-match uploads require: normalize, then SHA-256, lower-case hex.
 * - generic: email trimmed and lower-cased; phone E.164 with the `+`;
 * - `google` (Customer Match): as generic, and the dots of the local part of gmail.com and
 *   googlemail.com addresses removed (Google treats them as the same mailbox);
 * - `meta` (Custom Audiences): email trimmed and lower-cased; phone digits only, country code
 *   first, no `+` and no leading zeros.
 */

/** Ad platforms whose own normalization an export can apply before hashing. */
export const AD_PLATFORMS = ['google', 'meta'] as const;
export type AdPlatform = (typeof AD_PLATFORMS)[number];

export type ExportFormat = 'csv' | 'ndjson';

export interface ExportOptions {
  readonly hash: boolean;
  /** Further identifier types to export as columns (e.g. `user_id`, `crm_id`); never hashed. */
  readonly identifierTypes: readonly string[];
  /** Region for phone numbers stored without a country code. */
  readonly defaultPhoneRegion: string;
  /** The ad platform the hashes are for: its normalization (hashing implied). */
  readonly platform?: AdPlatform;
}

export type ExportRow = Readonly<Record<string, string>>;

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

/** The email as the platform hashes it; undefined when it is not an email. */
export function platformEmail(raw: string, platform?: AdPlatform): string | undefined {
  const email = normalizeEmail(raw);
  if (email === undefined || platform !== 'google') return email;
  const at = email.lastIndexOf('@');
  const domain = email.slice(at + 1);
  return GMAIL_DOMAINS.has(domain) ? `${email.slice(0, at).replaceAll('.', '')}@${domain}` : email;
}

/** The phone number as the platform hashes it (E.164, or digits only for Meta); undefined when it is not a valid number. */
export function platformPhone(raw: string, defaultRegion: string, platform?: AdPlatform): string | undefined {
  const phone = normalizePhone(raw, defaultRegion);
  return phone === undefined || platform !== 'meta' ? phone : phone.slice(1);
}

/** SHA-256 of the normalized email; undefined when it is not an email. */
export function hashedEmail(raw: string, platform?: AdPlatform): string | undefined {
  const email = platformEmail(raw, platform);
  return email === undefined ? undefined : sha256Hex(email);
}

/** SHA-256 of the normalized phone number; undefined when it is not a valid number. */
export function hashedPhone(raw: string, defaultRegion: string, platform?: AdPlatform): string | undefined {
  const phone = platformPhone(raw, defaultRegion, platform);
  return phone === undefined ? undefined : sha256Hex(phone);
}

export function exportColumns(options: ExportOptions): string[] {
  return ['profileId', 'email', 'phone', ...options.identifierTypes.filter((type) => type !== 'email' && type !== 'phone')];
}

/** One row per profile: its id, latest email and phone (hashed when asked) and the requested identifiers. */
export function exportRow(profile: { readonly profileId: string; readonly identities: readonly IdentityLink[] }, options: ExportOptions): ExportRow {
  const email = newestIdentity(profile.identities, 'email');
  const phone = newestIdentity(profile.identities, 'phone');
  const row: Record<string, string> = { profileId: profile.profileId };
  const hash = options.hash || options.platform !== undefined;
  row.email = email === undefined ? '' : hash ? (hashedEmail(email, options.platform) ?? '') : email;
  row.phone = phone === undefined ? '' : hash ? (hashedPhone(phone, options.defaultPhoneRegion, options.platform) ?? '') : phone;
  for (const type of exportColumns(options).slice(3)) row[type] = newestIdentity(profile.identities, type) ?? '';
  return row;
}

const E164 = /^\+\d{6,15}$/;
/** A plain (possibly negative) decimal number: a spreadsheet reads it as a number, never a formula. */
const PLAIN_NUMBER = /^-?\d+(?:\.\d+)?$/;

/**
 * RFC 4180 field: quoted when it holds a comma, quote or line break. A value a spreadsheet would
 * run as a formula (=, +, -, @ first) gets a leading `'`, except E.164 phone numbers and plain numbers.
 */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !E164.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(columns: readonly string[], rows: readonly ExportRow[], withHeader: boolean): string {
  const lines = rows.map((row) => columns.map((column) => csvField(row[column] ?? '')).join(','));
  return [...(withHeader ? [columns.join(',')] : []), ...lines].map((line) => `${line}\r\n`).join('');
}

export function toNdjson(columns: readonly string[], rows: readonly ExportRow[]): string {
  // Missing values are null in JSON (empty fields in CSV).
  return rows.map((row) => `${JSON.stringify(Object.fromEntries(columns.map((column) => [column, row[column] || null])))}\n`).join('');
}
