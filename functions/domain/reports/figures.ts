/** How the reports print figures: the same rounding, rates and order in every report. */

/** Rounded to `digits` decimals (4 for rates and lifts, 2 for money); never -0. */
export const round = (value: number, digits = 4): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor + 0;
};

/** numerator / denominator; null without a denominator. */
export const ratio = (numerator: number, denominator: number): number | null => (denominator === 0 ? null : numerator / denominator);

export const roundOrNull = (value: number | null): number | null => (value === null ? null : round(value));

/** Code-point order: the same on every runtime, whatever its locale. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** An estimate and its interval, each rounded to 4 decimals. */
export const roundedEstimate = (estimate: { readonly value: number; readonly low: number; readonly high: number }) => ({
  value: round(estimate.value),
  low: round(estimate.low),
  high: round(estimate.high),
});
