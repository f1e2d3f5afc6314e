import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * SMS goes to E.164 numbers only (`+` then the country code and the national number, 8-15 digits
 * in all). Spaces, dots, hyphens and parentheses between the digits are read as formatting
 * (`+33 6 12 34 56 78`); a number without its `+` and country code (`06 12 34 56 78`) is refused,
 * never guessed in a default region: a wrong guess texts a stranger. libphonenumber-js then checks
 * the number is a valid one of its country (length and prefixes).
 */
export type PhoneRefusal = 'not-e164' | 'invalid-number';

export type PhoneCheck = { readonly ok: true; readonly number: string } | { readonly ok: false; readonly reason: PhoneRefusal; readonly message: string };

const FORMATTING = /[\s.\-()]/g;
const E164 = /^\+[1-9]\d{7,14}$/;

export function checkE164(raw: string): PhoneCheck {
  const compact = raw.trim().replace(FORMATTING, '');
  if (!E164.test(compact)) {
    return { ok: false, reason: 'not-e164', message: 'not an E.164 number: + then the country code and 7 to 14 more digits' };
  }
  const parsed = parsePhoneNumberFromString(compact);
  if (!parsed?.isValid()) return { ok: false, reason: 'invalid-number', message: 'not a valid phone number of its country' };
  return { ok: true, number: parsed.number };
}

/** The E.164 form of `raw`, or undefined when it is not one (see checkE164). */
export function e164(raw: string): string | undefined {
  const check = checkE164(raw);
  return check.ok ? check.number : undefined;
}
