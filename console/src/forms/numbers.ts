/**
 * Numbers as forms hold them: text typed in a field, read back into the API's numbers (shares as
 * percentages, whole numbers in a range), with the sentence to show when it is not one.
 */

/** A share (0.1) as the percentage a person types ("10"), '' for none. */
export function percentText(share: number | undefined): string {
  return share === undefined ? '' : String(Math.round(share * 10_000) / 100);
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** A percentage typed ('' for none) as a share, between `minPercent` and `maxPercent`. */
export function shareOfPercent(text: string, minPercent: number, maxPercent: number): Parsed<number | undefined> {
  if (text.trim() === '') return { ok: true, value: undefined };
  const percent = Number(text);
  if (!Number.isFinite(percent) || percent < minPercent || percent > maxPercent)
    return { ok: false, reason: `a percentage from ${minPercent} to ${maxPercent}` };
  return { ok: true, value: Math.round(percent * 100) / 10_000 };
}

/** A whole number typed ('' for none), between `min` and `max`. */
export function wholeNumber(text: string, min: number, max: number): Parsed<number | undefined> {
  if (text.trim() === '') return { ok: true, value: undefined };
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) return { ok: false, reason: `a whole number from ${min} to ${max}` };
  return { ok: true, value };
}
