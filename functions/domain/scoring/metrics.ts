/** Evaluation measures and data splits for binary classifiers. */
import { type Random, shuffleInPlace } from './random';

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative (ties count half), computed from average ranks.
 */
export function areaUnderRoc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let positiveRankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && scores[order[j]!] === scores[order[i]!]) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    i = j;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) throw new RangeError('AUC needs at least one positive and one negative row');
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Average ranks (1-based; tied values share the mean of their ranks) of `values`. */
function midranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && values[order[j]!] === values[order[i]!]) j++;
    for (let k = i; k < j; k++) ranks[order[k]!] = (i + 1 + j) / 2;
    i = j;
  }
  return ranks;
}

/** The difference of two models' AUCs on the same rows, with its standard error and 95 % interval. */
export interface AucDifference {
  /** AUC of `a` minus AUC of `b`. */
  readonly difference: number;
  readonly standardError: number;
  readonly low: number;
  readonly high: number;
}

/**
 * Compares two models' AUCs on the same labelled rows by DeLong's test for correlated ROC curves
 * (DeLong, DeLong & Clarke-Pearson 1988, with the midrank computation of Sun & Xu 2014): the
 * variance of the difference accounts for both models scoring the same people, so a difference
 * smaller than the holdout can tell apart shows as an interval across zero.
 */
export function compareAucs(a: ArrayLike<number>, b: ArrayLike<number>, labels: ArrayLike<number>): AucDifference {
  const positives: number[] = [];
  const negatives: number[] = [];
  for (let row = 0; row < labels.length; row++) (labels[row] === 1 ? positives : negatives).push(row);
  const m = positives.length;
  const n = negatives.length;
  if (m < 2 || n < 2) throw new RangeError('comparing AUCs needs at least two positive and two negative rows');
  // Per model: each positive's share of negatives it outscores (V10), each negative's share of positives outscoring it (V01).
  const components = [a, b].map((scores) => {
    const all = midranks(Array.from([...positives, ...negatives], (row) => scores[row]!));
    const withinPositives = midranks(positives.map((row) => scores[row]!));
    const withinNegatives = midranks(negatives.map((row) => scores[row]!));
    const v10 = positives.map((_, i) => (all[i]! - withinPositives[i]!) / n);
    const v01 = negatives.map((_, j) => 1 - (all[m + j]! - withinNegatives[j]!) / m);
    return { auc: v10.reduce((sum, value) => sum + value, 0) / m, v10, v01 };
  });
  const [first, second] = components as [(typeof components)[number], (typeof components)[number]];
  // Variance of the difference of the two components' means: var(x) + var(y) - 2 cov(x, y), sample estimates.
  const differenceVariance = (x: readonly number[], y: readonly number[]): number => {
    const count = x.length;
    const meanX = x.reduce((sum, value) => sum + value, 0) / count;
    const meanY = y.reduce((sum, value) => sum + value, 0) / count;
    let total = 0;
    for (let i = 0; i < count; i++) total += (x[i]! - meanX - (y[i]! - meanY)) ** 2;
    return total / (count - 1);
  };
  const variance = differenceVariance(first.v10, second.v10) / m + differenceVariance(first.v01, second.v01) / n;
  const difference = first.auc - second.auc;
  const standardError = Math.sqrt(Math.max(0, variance));
  return { difference, standardError, low: difference - 1.96 * standardError, high: difference + 1.96 * standardError };
}

/** Mean negative log-likelihood of the labels under probabilities `p`. */
export function logLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = Math.min(Math.max(probabilities[i]!, 1e-15), 1 - 1e-15);
    total -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return total / probabilities.length;
}

/** Quantile `q` in [0, 1] of ascending `sorted` values, linearly interpolated. */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no values');
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const low = sorted[below]!;
  return low + (sorted[above]! - low) * (position - below);
}

export function meanAndSd(values: readonly number[]): { mean: number; sd: number } {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, sd: Math.sqrt(variance) };
}

/**
 * Splits rows (indices into `labels`) into `k` folds with the same share of positives each:
 * positives and negatives are shuffled apart, then dealt to the folds in turn.
 */
export function stratifiedFolds(rows: Uint32Array, labels: ArrayLike<number>, k: number, random: Random): Uint32Array[] {
  const positives = rows.filter((r) => labels[r] === 1);
  const negatives = rows.filter((r) => labels[r] !== 1);
  shuffleInPlace(positives, random);
  shuffleInPlace(negatives, random);
  const folds: number[][] = Array.from({ length: k }, () => []);
  let next = 0;
  for (const group of [positives, negatives]) {
    for (const row of group) {
      folds[next]!.push(row);
      next = (next + 1) % k;
    }
  }
  return folds.map((fold) => Uint32Array.from(fold).sort());
}

/** The rows of `rows` not in `excluded` (both ascending). */
export function rowsExcept(rows: Uint32Array, excluded: Uint32Array): Uint32Array {
  const skip = new Set(excluded);
  return rows.filter((r) => !skip.has(r));
}
