/**
 * The horizontal scale of a lift plot (each row's lift as a dot and its interval as a line, a
 * vertical line at "no lift"): the domain covers every interval and 0, padded a little, and
 * its ticks are round percentages. Pure, unit-tested.
 */

export interface LiftInterval {
  readonly value: number;
  readonly low: number;
  readonly high: number;
}

export interface LiftScale {
  readonly min: number;
  readonly max: number;
  readonly ticks: readonly number[];
  /** A lift to an x in [0, width]. */
  readonly x: (lift: number, width: number) => number;
}

const STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10];

export function liftScale(intervals: readonly LiftInterval[]): LiftScale {
  const finite = intervals.flatMap((interval) => [interval.low, interval.value, interval.high]).filter((value) => Number.isFinite(value));
  let min = Math.min(0, ...finite);
  let max = Math.max(0, ...finite);
  if (max - min < 0.1) {
    min -= 0.05;
    max += 0.05;
  }
  const step = STEPS.find((candidate) => (max - min) / candidate <= 6) ?? STEPS[STEPS.length - 1] ?? 10;
  min = Math.floor(min / step) * step;
  max = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  // Whole multiples of the step, without the float residue of repeated additions (0.6000000000000001).
  for (let tick = min; tick <= max + step / 2; tick += step) ticks.push(Number((Math.round(tick / step) * step).toFixed(10)));
  const span = max - min;
  return { min, max, ticks, x: (lift, width) => ((Math.min(max, Math.max(min, lift)) - min) / span) * width };
}
