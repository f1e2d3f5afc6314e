/**
 * Honest lift figures for journey reports: the treatment group against the holdout, each figure
 * with its 95 % interval so that a report never presents noise from a handful of held-out people
 * as an effect. Pure and dependency-free; nothing is rounded here, the report rounds for display.
 */

/** Two-sided 95 % standard normal quantile, Φ⁻¹(0.975). */
export const Z_95 = 1.959963984540054;

/** Beyond this many degrees of freedom t(0.975) and z differ by less than 3e-5, so z is used. */
const NORMAL_APPROXIMATION_DEGREES_OF_FREEDOM = 100_000;

/** Below this many held-out people the holdout rate is too coarse to say anything about lift. */
const DEFAULT_MINIMUM_HOLDOUT = 10;

/** Conversions (successes) out of people reached (trials) in one group. */
export interface Proportion {
  readonly successes: number;
  readonly trials: number;
}

/** A numeric outcome (e.g. revenue per person) summarised by its count, sum and sum of squares. */
export interface Sample {
  readonly n: number;
  readonly sum: number;
  readonly sumOfSquares: number;
}

export interface Interval {
  readonly low: number;
  readonly high: number;
}

export interface Estimate extends Interval {
  readonly value: number;
}

export interface LiftFigures {
  readonly kind: 'lift';
  /** Treatment conversion rate minus holdout conversion rate, as a fraction. */
  readonly value: number;
  readonly low: number;
  readonly high: number;
  /** The 95 % interval excludes 0: the difference is unlikely to be noise. */
  readonly significant: boolean;
  /** Relative lift pT / pH − 1 with its interval; null when the holdout never converted. */
  readonly relative: Estimate | null;
  readonly method: 'newcombe-hybrid-score';
}

export interface LiftUnavailable {
  readonly kind: 'unavailable';
  /** A sentence for the report reader saying why no lift is shown. */
  readonly reason: string;
}

export interface LiftOptions {
  /** Fewest held-out people for which an interval is given; 10 by default. */
  readonly minimumHoldout?: number;
}

/**
 * Wilson score interval for successes / trials. Preferred over the Wald interval because it stays
 * inside [0, 1] and keeps its coverage for small groups and rates near 0 or 1.
 */
export function wilsonInterval(successes: number, trials: number): Interval {
  assertProportion({ successes, trials }, 'proportion');
  const rate = successes / trials;
  const zSquared = Z_95 * Z_95;
  const denominator = 1 + zSquared / trials;
  const centre = (rate + zSquared / (2 * trials)) / denominator;
  const halfWidth = (Z_95 / denominator) * Math.sqrt((rate * (1 - rate)) / trials + zSquared / (4 * trials * trials));
  // The bounds are exactly 0 and 1 at the extremes; pin them there rather than trust the rounding.
  return {
    low: successes === 0 ? 0 : Math.max(0, centre - halfWidth),
    high: successes === trials ? 1 : Math.min(1, centre + halfWidth),
  };
}

/**
 * Newcombe's hybrid score interval (method 10, Newcombe 1998) for pT − pH: combines the two Wilson
 * intervals, so it inherits their good coverage for small groups and rates near 0, where the Wald
 * interval for a difference collapses or overshoots.
 */
export function newcombeDifference(treatment: Proportion, holdout: Proportion): Estimate {
  assertProportion(treatment, 'treatment');
  assertProportion(holdout, 'holdout');
  const treatmentRate = treatment.successes / treatment.trials;
  const holdoutRate = holdout.successes / holdout.trials;
  const treatmentBounds = wilsonInterval(treatment.successes, treatment.trials);
  const holdoutBounds = wilsonInterval(holdout.successes, holdout.trials);
  const difference = treatmentRate - holdoutRate;
  return {
    value: difference,
    low: difference - Math.hypot(treatmentRate - treatmentBounds.low, holdoutBounds.high - holdoutRate),
    high: difference + Math.hypot(treatmentBounds.high - treatmentRate, holdoutRate - holdoutBounds.low),
  };
}

/**
 * Relative lift pT / pH − 1 with the Katz log interval for the risk ratio. When a group converted
 * nobody or everybody the log standard error is undefined or degenerate, so the interval (only)
 * adds 0.5 to every cell (Haldane); the value stays the plain ratio, which for pT = 0 is −1 and
 * then lies below the corrected interval. Null when the holdout never converted: no ratio exists.
 */
export function riskRatioInterval(treatment: Proportion, holdout: Proportion): Estimate | null {
  assertProportion(treatment, 'treatment');
  assertProportion(holdout, 'holdout');
  if (holdout.successes === 0) return null;
  const ratio = treatment.successes / treatment.trials / (holdout.successes / holdout.trials);
  const needsCorrection = [treatment, holdout].some((group) => group.successes === 0 || group.successes === group.trials);
  const correction = needsCorrection ? 0.5 : 0;
  const treatmentSuccesses = treatment.successes + correction;
  const treatmentTrials = treatment.trials + 2 * correction;
  const holdoutSuccesses = holdout.successes + correction;
  const holdoutTrials = holdout.trials + 2 * correction;
  const logRatio = Math.log(treatmentSuccesses / treatmentTrials / (holdoutSuccesses / holdoutTrials));
  const standardError = Math.sqrt(1 / treatmentSuccesses - 1 / treatmentTrials + 1 / holdoutSuccesses - 1 / holdoutTrials);
  return {
    value: ratio - 1,
    low: Math.exp(logRatio - Z_95 * standardError) - 1,
    high: Math.exp(logRatio + Z_95 * standardError) - 1,
  };
}

/**
 * Welch interval for mean(a) − mean(b) (e.g. revenue per person): does not assume equal variances,
 * which treatment and holdout rarely have. Uses Student's t with Welch–Satterthwaite degrees of
 * freedom so small groups get the wider interval they deserve, and z once t no longer differs.
 */
export function meanDifferenceInterval(a: Sample, b: Sample): Estimate {
  assertSample(a, 'first sample');
  assertSample(b, 'second sample');
  const meanA = a.sum / a.n;
  const meanB = b.sum / b.n;
  const varianceOfMeanA = sampleVariance(a) / a.n;
  const varianceOfMeanB = sampleVariance(b) / b.n;
  const difference = meanA - meanB;
  const varianceOfDifference = varianceOfMeanA + varianceOfMeanB;
  // Both samples constant: no spread to estimate, and the degrees of freedom would be 0 / 0.
  if (varianceOfDifference === 0) return { value: difference, low: difference, high: difference };
  const degreesOfFreedom = varianceOfDifference ** 2 / (varianceOfMeanA ** 2 / (a.n - 1) + varianceOfMeanB ** 2 / (b.n - 1));
  const quantile = degreesOfFreedom > NORMAL_APPROXIMATION_DEGREES_OF_FREEDOM ? Z_95 : studentTQuantile(0.975, degreesOfFreedom);
  const halfWidth = quantile * Math.sqrt(varianceOfDifference);
  return { value: difference, low: difference - halfWidth, high: difference + halfWidth };
}

/**
 * The lift a report shows: the absolute difference in conversion rate with Newcombe's interval, and
 * the relative lift beside it. Says why instead when there is no one to compare, or too few held out
 * for an interval to mean anything.
 */
export function liftOverHoldout(treatment: Proportion, holdout: Proportion, options: LiftOptions = {}): LiftFigures | LiftUnavailable {
  assertCounts(treatment, 'treatment');
  assertCounts(holdout, 'holdout');
  const minimumHoldout = options.minimumHoldout ?? DEFAULT_MINIMUM_HOLDOUT;
  if (!Number.isInteger(minimumHoldout) || minimumHoldout < 1) throw new RangeError(`minimumHoldout must be a positive integer, got ${minimumHoldout}`);
  if (treatment.trials === 0) return { kind: 'unavailable', reason: 'nobody reached: the treatment group is empty' };
  if (holdout.trials === 0) return { kind: 'unavailable', reason: 'no holdout: nobody was held out' };
  if (holdout.trials < minimumHoldout) {
    const people = holdout.trials === 1 ? 'person' : 'people';
    return { kind: 'unavailable', reason: `holdout too small: ${holdout.trials} ${people}, at least ${minimumHoldout} are needed for an interval` };
  }
  const difference = newcombeDifference(treatment, holdout);
  return {
    kind: 'lift',
    value: difference.value,
    low: difference.low,
    high: difference.high,
    significant: difference.low > 0 || difference.high < 0,
    relative: riskRatioInterval(treatment, holdout),
    method: 'newcombe-hybrid-score',
  };
}

/**
 * Quantile of Student's t distribution for any real degrees of freedom > 0 (Welch's are fractional):
 * bisection on the exact CDF, which is monotone, so the result is as accurate as the CDF (~1e-12).
 */
export function studentTQuantile(probability: number, degreesOfFreedom: number): number {
  if (!(probability > 0 && probability < 1)) throw new RangeError(`probability must be in (0, 1), got ${probability}`);
  if (!(degreesOfFreedom > 0) || !Number.isFinite(degreesOfFreedom))
    throw new RangeError(`degrees of freedom must be positive and finite, got ${degreesOfFreedom}`);
  if (probability < 0.5) return -studentTQuantile(1 - probability, degreesOfFreedom);
  if (probability === 0.5) return 0;
  let low = 0;
  let high = 1;
  while (studentTCdf(high, degreesOfFreedom) < probability) {
    low = high;
    high *= 2;
  }
  for (let iteration = 0; iteration < 200 && high - low > 1e-13 * Math.max(1, high); iteration += 1) {
    const middle = (low + high) / 2;
    if (studentTCdf(middle, degreesOfFreedom) < probability) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/** P(T ≤ t) for Student's t with the given degrees of freedom, through the incomplete beta function. */
function studentTCdf(t: number, degreesOfFreedom: number): number {
  const tail = 0.5 * regularizedIncompleteBeta(degreesOfFreedom / (degreesOfFreedom + t * t), degreesOfFreedom / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** I_x(a, b) by its continued fraction (modified Lentz), using the symmetry that makes it converge fast. */
function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b);
  if (x > (a + 1) / (a + b + 2)) return 1 - (Math.exp(logFront) * betaContinuedFraction(1 - x, b, a)) / b;
  return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const epsilon = 1e-15;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let fraction = d;
  for (let m = 1; m <= 10_000; m += 1) {
    const evenStep = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + evenStep * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + evenStep / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    fraction *= d * c;
    const oddStep = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + oddStep * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + oddStep / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    fraction *= delta;
    if (Math.abs(delta - 1) < epsilon) return fraction;
  }
  return fraction;
}

function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** Lanczos approximation (g = 7, nine terms): ln Γ to about 15 significant digits. */
const LANCZOS_LEADING_COEFFICIENT = 0.99999999999980993;
const LANCZOS_COEFFICIENTS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

function logGamma(x: number): number {
  // Reflection keeps the series in its accurate range; only reached for x < 0.5 (df < 1).
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const shifted = x - 1;
  const series = LANCZOS_COEFFICIENTS.reduce((total, coefficient, index) => total + coefficient / (shifted + index + 1), LANCZOS_LEADING_COEFFICIENT);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(series);
}

/** Variance with the n − 1 denominator; the shortcut formula can dip below 0 by rounding, so clamp. */
function sampleVariance(sample: Sample): number {
  return Math.max(0, (sample.sumOfSquares - (sample.sum * sample.sum) / sample.n) / (sample.n - 1));
}

function assertCounts(group: Proportion, label: string): void {
  if (!Number.isInteger(group.trials) || group.trials < 0) throw new RangeError(`${label}: trials must be a non-negative integer, got ${group.trials}`);
  if (!Number.isInteger(group.successes) || group.successes < 0 || group.successes > group.trials) {
    throw new RangeError(`${label}: successes must be an integer in [0, ${group.trials}], got ${group.successes}`);
  }
}

function assertProportion(group: Proportion, label: string): void {
  assertCounts(group, label);
  if (group.trials === 0) throw new RangeError(`${label}: trials must be positive`);
}

function assertSample(sample: Sample, label: string): void {
  if (!Number.isInteger(sample.n) || sample.n < 2) throw new RangeError(`${label}: n must be an integer of at least 2, got ${sample.n}`);
  if (!Number.isFinite(sample.sum) || !Number.isFinite(sample.sumOfSquares)) throw new RangeError(`${label}: sum and sumOfSquares must be finite`);
}
