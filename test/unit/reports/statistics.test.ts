import {
  liftOverHoldout,
  meanDifferenceInterval,
  newcombeDifference,
  riskRatioInterval,
  studentTQuantile,
  wilsonInterval,
  type LiftFigures,
  type Proportion,
  type Sample,
} from '../../../functions/domain/reports/statistics';
import { seededRandom } from '../../../functions/domain/scoring/random';

/** Draws `people` who each convert with probability `rate`. */
const drawGroup = (random: () => number, people: number, rate: number): Proportion => {
  let successes = 0;
  for (let person = 0; person < people; person += 1) if (random() < rate) successes += 1;
  return { successes, trials: people };
};

const sampleOf = (values: readonly number[]): Sample => ({
  n: values.length,
  sum: values.reduce((total, value) => total + value, 0),
  sumOfSquares: values.reduce((total, value) => total + value * value, 0),
});

const asLift = (result: ReturnType<typeof liftOverHoldout>): LiftFigures => {
  if (result.kind !== 'lift') throw new Error(`expected lift figures, got: ${result.reason}`);
  return result;
};

describe('wilsonInterval', () => {
  it.each([
    // Newcombe (1998), single proportion, method 3, and the classic 0/10 and 10/10 cases.
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
    [0, 10, 0, 0.2775],
    [10, 10, 0.7225, 1],
  ])('%i/%i gives (%f, %f)', (successes, trials, low, high) => {
    const interval = wilsonInterval(successes, trials);
    expect(interval.low).toBeCloseTo(low, 4);
    expect(interval.high).toBeCloseTo(high, 4);
  });

  it('is exactly 0 at the bottom when nobody succeeded and exactly 1 at the top when everybody did', () => {
    expect(wilsonInterval(0, 10).low).toBe(0);
    expect(wilsonInterval(10, 10).high).toBe(1);
    expect(wilsonInterval(0, 10).high).toBeCloseTo(0.27753279986288926, 12);
  });

  it.each([
    [0, 0],
    [1, 0],
    [-1, 10],
    [11, 10],
    [1.5, 10],
    [1, 10.5],
    [Number.NaN, 10],
  ])('rejects %f successes out of %f trials', (successes, trials) => {
    expect(() => wilsonInterval(successes, trials)).toThrow(RangeError);
  });
});

describe('newcombeDifference', () => {
  it("reproduces Newcombe's (1998) published example 56/70 vs 48/80: 0.2000 (0.0524, 0.3339)", () => {
    const difference = newcombeDifference({ successes: 56, trials: 70 }, { successes: 48, trials: 80 });
    expect(difference.value).toBeCloseTo(0.2, 12);
    expect(difference.low).toBeCloseTo(0.0524, 4);
    expect(difference.high).toBeCloseTo(0.3339, 4);
  });

  it.each([
    // Further rows of Newcombe's (1998) table for method 10, including empty and full groups.
    [9, 10, 3, 10, 0.1705, 0.809],
    [6, 7, 2, 7, 0.0582, 0.8062],
    [5, 56, 0, 29, -0.0381, 0.1926],
    [0, 10, 0, 20, -0.1611, 0.2775],
    [0, 10, 0, 10, -0.2775, 0.2775],
    [10, 10, 0, 20, 0.6791, 1],
    [10, 10, 0, 10, 0.6075, 1],
  ])('%i/%i vs %i/%i gives (%f, %f)', (treatmentSuccesses, treatmentTrials, holdoutSuccesses, holdoutTrials, low, high) => {
    const difference = newcombeDifference({ successes: treatmentSuccesses, trials: treatmentTrials }, { successes: holdoutSuccesses, trials: holdoutTrials });
    expect(difference.low).toBeCloseTo(low, 4);
    expect(difference.high).toBeCloseTo(high, 4);
  });

  it('is the mirror image when the groups swap', () => {
    const forward = newcombeDifference({ successes: 56, trials: 70 }, { successes: 48, trials: 80 });
    const backward = newcombeDifference({ successes: 48, trials: 80 }, { successes: 56, trials: 70 });
    expect(backward.value).toBeCloseTo(-forward.value, 12);
    expect(backward.low).toBeCloseTo(-forward.high, 12);
    expect(backward.high).toBeCloseTo(-forward.low, 12);
  });

  it('rejects an empty group', () => {
    expect(() => newcombeDifference({ successes: 0, trials: 0 }, { successes: 1, trials: 10 })).toThrow(RangeError);
    expect(() => newcombeDifference({ successes: 1, trials: 10 }, { successes: 0, trials: 0 })).toThrow(RangeError);
  });
});

describe('riskRatioInterval', () => {
  it('gives the relative lift with the Katz log interval: 56/70 vs 48/80 is +33.3 % (7.66 %, 65.12 %)', () => {
    const relative = riskRatioInterval({ successes: 56, trials: 70 }, { successes: 48, trials: 80 });
    expect(relative).not.toBeNull();
    expect(relative!.value).toBeCloseTo(1 / 3, 12);
    expect(relative!.low).toBeCloseTo(0.07662642276319298, 10);
    expect(relative!.high).toBeCloseTo(0.651248511266387, 10);
  });

  it('adds 0.5 to every cell for the interval only when a group converted nobody', () => {
    const relative = riskRatioInterval({ successes: 0, trials: 50 }, { successes: 5, trials: 50 });
    expect(relative!.value).toBe(-1);
    expect(relative!.low).toBeCloseTo(-0.9948399978664606, 10);
    expect(relative!.high).toBeCloseTo(0.6016394172008841, 10);
  });

  it('adds 0.5 to every cell for the interval only when a group converted everybody', () => {
    const relative = riskRatioInterval({ successes: 10, trials: 10 }, { successes: 5, trials: 10 });
    expect(relative!.value).toBeCloseTo(1, 12);
    expect(relative!.low).toBeCloseTo(0.04265375193421406, 10);
    expect(relative!.high).toBeCloseTo(2.4955306039156815, 10);
  });

  it('is null when the holdout never converted: there is no ratio', () => {
    expect(riskRatioInterval({ successes: 5, trials: 50 }, { successes: 0, trials: 50 })).toBeNull();
  });
});

describe('studentTQuantile', () => {
  it.each([
    [1, 12.706204736174694],
    [2, 4.302652729749462],
    [5, 2.5705818356363146],
    [30, 2.0422724563012378],
    [1000, 1.9623390808264083],
    [100_000, 1.9599877075346095],
  ])('t(0.975, df=%f) is %f', (degreesOfFreedom, quantile) => {
    expect(Math.abs(studentTQuantile(0.975, degreesOfFreedom) - quantile)).toBeLessThan(1e-6);
  });

  it('is odd around the median and matches the closed forms for one and two degrees of freedom', () => {
    expect(studentTQuantile(0.5, 7)).toBe(0);
    expect(studentTQuantile(0.025, 5)).toBeCloseTo(-2.5705818356363146, 6);
    expect(studentTQuantile(0.9, 1)).toBeCloseTo(Math.tan(Math.PI * 0.4), 8);
    expect(studentTQuantile(0.9, 2)).toBeCloseTo(0.8 / Math.sqrt(2 * 0.9 * 0.1), 8);
  });

  it('rejects probabilities outside (0, 1) and non-positive degrees of freedom', () => {
    expect(() => studentTQuantile(1, 5)).toThrow(RangeError);
    expect(() => studentTQuantile(0, 5)).toThrow(RangeError);
    expect(() => studentTQuantile(0.975, 0)).toThrow(RangeError);
  });
});

describe('meanDifferenceInterval', () => {
  it("matches Welch's t interval with fractional degrees of freedom (scipy ttest_ind, equal_var=False)", () => {
    const interval = meanDifferenceInterval(sampleOf([1, 2, 3, 4, 5]), sampleOf([2, 4, 6, 8, 10, 12]));
    expect(interval.value).toBeCloseTo(-4, 12);
    expect(interval.low).toBeCloseTo(-7.98346869562883, 6);
    expect(interval.high).toBeCloseTo(-0.016531304371169675, 6);
  });

  it('widens for small samples with very different spreads (df about 4.26)', () => {
    const interval = meanDifferenceInterval(sampleOf([12.5, 9.75, 14.0, 11.25, 10.5, 13.0, 8.25]), sampleOf([20.0, 3.5, 15.0, 9.0, 27.5]));
    expect(interval.value).toBeCloseTo(-3.678571428571429, 12);
    expect(interval.low).toBeCloseTo(-15.191985144285464, 6);
    expect(interval.high).toBeCloseTo(7.834842287142607, 6);
  });

  it('uses z for very large samples', () => {
    const a: Sample = { n: 1_000_000, sum: 1_000_000, sumOfSquares: 2_000_000 };
    const b: Sample = { n: 1_000_000, sum: 0, sumOfSquares: 1_000_000 };
    const interval = meanDifferenceInterval(a, b);
    const standardError = Math.sqrt(((2_000_000 - 1_000_000) / 999_999 + 1_000_000 / 999_999) / 1_000_000);
    expect(interval.value).toBe(1);
    expect(interval.high - interval.value).toBeCloseTo(1.959963984540054 * standardError, 12);
  });

  it('clamps a variance that rounding pushed below zero and gives a zero-width interval for constant samples', () => {
    const constant = sampleOf([0.1, 0.1, 0.1]);
    expect(constant.sumOfSquares - (constant.sum * constant.sum) / constant.n).toBeLessThan(0);
    const againstConstant = meanDifferenceInterval(constant, sampleOf([0.1, 0.1]));
    expect(againstConstant.value).toBeCloseTo(0, 12);
    expect(againstConstant.low).toBe(againstConstant.value);
    expect(againstConstant.high).toBe(againstConstant.value);
    // Only the spread sample counts: Welch's df falls to n − 1 = 2 and the half-width is t(0.975, 2) × sqrt(1 / 3).
    const againstSpread = meanDifferenceInterval(constant, sampleOf([1, 2, 3]));
    expect(againstSpread.high - againstSpread.value).toBeCloseTo(4.302652729749462 * Math.sqrt(1 / 3), 6);
  });

  it('rejects samples of fewer than two', () => {
    expect(() => meanDifferenceInterval(sampleOf([1]), sampleOf([1, 2]))).toThrow(RangeError);
    expect(() => meanDifferenceInterval(sampleOf([1, 2]), sampleOf([]))).toThrow(RangeError);
  });
});

describe('liftOverHoldout', () => {
  it('reports the absolute difference with its interval, significance and the relative lift', () => {
    const lift = asLift(liftOverHoldout({ successes: 56, trials: 70 }, { successes: 48, trials: 80 }));
    expect(lift.method).toBe('newcombe-hybrid-score');
    expect(lift.value).toBeCloseTo(0.2, 12);
    expect(lift.low).toBeCloseTo(0.0524, 4);
    expect(lift.high).toBeCloseTo(0.3339, 4);
    expect(lift.significant).toBe(true);
    expect(lift.relative!.value).toBeCloseTo(1 / 3, 12);
    expect(lift.relative!.low).toBeCloseTo(0.07662642276319298, 10);
  });

  it('is significant for a negative effect whose interval lies below zero, and relative is null without holdout conversions', () => {
    const harmful = asLift(liftOverHoldout({ successes: 3, trials: 10 }, { successes: 9, trials: 10 }));
    expect(harmful.high).toBeLessThan(0);
    expect(harmful.significant).toBe(true);
    expect(asLift(liftOverHoldout({ successes: 5, trials: 56 }, { successes: 0, trials: 29 })).relative).toBeNull();
  });

  it('says why when there is nothing to compare', () => {
    expect(liftOverHoldout({ successes: 0, trials: 0 }, { successes: 0, trials: 0 })).toEqual({
      kind: 'unavailable',
      reason: 'nobody reached: the treatment group is empty',
    });
    expect(liftOverHoldout({ successes: 5, trials: 50 }, { successes: 0, trials: 0 })).toEqual({
      kind: 'unavailable',
      reason: 'no holdout: nobody was held out',
    });
    expect(liftOverHoldout({ successes: 5, trials: 50 }, { successes: 1, trials: 7 })).toEqual({
      kind: 'unavailable',
      reason: 'holdout too small: 7 people, at least 10 are needed for an interval',
    });
    expect(liftOverHoldout({ successes: 5, trials: 50 }, { successes: 0, trials: 1 }, { minimumHoldout: 30 })).toEqual({
      kind: 'unavailable',
      reason: 'holdout too small: 1 person, at least 30 are needed for an interval',
    });
  });

  it('honours a lower minimum holdout', () => {
    expect(liftOverHoldout({ successes: 5, trials: 50 }, { successes: 1, trials: 7 }, { minimumHoldout: 5 }).kind).toBe('lift');
  });

  it('rejects impossible counts and minimums', () => {
    expect(() => liftOverHoldout({ successes: 6, trials: 5 }, { successes: 1, trials: 20 })).toThrow(RangeError);
    expect(() => liftOverHoldout({ successes: 1, trials: 5 }, { successes: -1, trials: 20 })).toThrow(RangeError);
    expect(() => liftOverHoldout({ successes: 1, trials: 5 }, { successes: 1, trials: 20 }, { minimumHoldout: 0 })).toThrow(RangeError);
  });

  it('finds a real 5-point lift with 4,000 people per group: the interval contains 0.05 and excludes 0', () => {
    const random = seededRandom(20_260_301);
    const treatment = drawGroup(random, 4000, 0.15);
    const holdout = drawGroup(random, 4000, 0.1);
    const lift = asLift(liftOverHoldout(treatment, holdout));
    expect(lift.low).toBeLessThan(0.05);
    expect(lift.high).toBeGreaterThan(0.05);
    expect(lift.significant).toBe(true);
    expect(lift.relative!.low).toBeLessThan(0.5);
    expect(lift.relative!.high).toBeGreaterThan(0.5);
  });

  it('does not call the same lift significant when only 20 people were held out', () => {
    const random = seededRandom(7);
    const treatment = drawGroup(random, 4000, 0.15);
    const holdout = drawGroup(random, 20, 0.1);
    const lift = asLift(liftOverHoldout(treatment, holdout));
    expect(lift.low).toBeLessThan(0);
    expect(lift.significant).toBe(false);
  });

  it('covers the true difference in about 95 % of 400 simulated reports (0.12 vs 0.10, 500 people each)', () => {
    const random = seededRandom(42);
    const reports = 400;
    let covered = 0;
    for (let report = 0; report < reports; report += 1) {
      const lift = asLift(liftOverHoldout(drawGroup(random, 500, 0.12), drawGroup(random, 500, 0.1)));
      if (lift.low <= 0.02 && 0.02 <= lift.high) covered += 1;
    }
    expect(covered / reports).toBeGreaterThanOrEqual(0.92);
    expect(covered / reports).toBeLessThanOrEqual(0.98);
  });
});
