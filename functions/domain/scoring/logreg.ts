/**
 * L2-regularized logistic regression: the simple, readable alternative to the trees.
 * Inputs are standardized numerics (missing values at the mean, clipped to +-clip standard
 * deviations) and one-hot categorical levels. Fitted by Newton's method (IRLS), which
 * converges in a few exact steps on problems of this size.
 */
import type { FeatureSpec, LogregModel } from './artifact';
import { sigmoid } from './gbt';

// Bound once: inside a vm context (how Jest runs modules) every global lookup in a hot loop is slow.
const { abs, exp, log, log1p, max, min, sqrt } = Math;
/** NaN encodes a missing value. */
const isMissing = Number.isNaN;

export interface LogregParams {
  /** L2 penalty on the weights (not the intercept), in units of the summed log loss. */
  readonly l2: number;
  readonly maxIterations: number;
  /** Stop when no weight moves by more than this in one step. */
  readonly tolerance: number;
  readonly clip: number;
}

export const DEFAULT_LOGREG_PARAMS: LogregParams = { l2: 1, maxIterations: 50, tolerance: 1e-7, clip: 5 };

/** Number of model inputs: one per numeric feature, one per categorical level. */
export function logregInputCount(specs: readonly FeatureSpec[]): number {
  return specs.reduce((n, spec) => n + (spec.kind === 'numeric' ? 1 : spec.levels.length), 0);
}

/** Writes the model inputs of one encoded row (`row[feature]`) into `inputs`. */
export function logregInputs(specs: readonly FeatureSpec[], row: ArrayLike<number>, clip: number, inputs: Float64Array): void {
  inputs.fill(0);
  let offset = 0;
  specs.forEach((spec, f) => {
    const value = row[f]!;
    if (spec.kind === 'numeric') {
      inputs[offset] = standardize(spec.mean, spec.std, value, clip);
      offset++;
    } else {
      if (!isMissing(value)) inputs[offset + value] = 1;
      offset += spec.levels.length;
    }
  });
}

function standardize(mean: number, std: number, value: number, clip: number): number {
  if (isMissing(value) || std === 0) return 0;
  return min(max((value - mean) / std, -clip), clip);
}

export function trainLogreg(specs: readonly FeatureSpec[], encoded: readonly Float64Array[], labels: Uint8Array, params: LogregParams): LogregModel {
  const n = labels.length;
  const d = logregInputCount(specs) + 1;
  // Design matrix, row-major, column 0 the intercept.
  const design = new Float64Array(n * d);
  const row = new Float64Array(specs.length);
  const inputs = new Float64Array(d - 1);
  let positives = 0;
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < specs.length; f++) row[f] = encoded[f]![r]!;
    logregInputs(specs, row, params.clip, inputs);
    design[r * d] = 1;
    design.set(inputs, r * d + 1);
    positives += labels[r]!;
  }
  const rate = min(max(positives / n, 1e-6), 1 - 1e-6);
  const weights = new Float64Array(d);
  weights[0] = log(rate / (1 - rate));

  const objective = (w: Float64Array): number => penalizedLoss(design, labels, w, d, params.l2);
  let current = objective(weights);
  for (let iteration = 0; iteration < params.maxIterations; iteration++) {
    const gradient = new Float64Array(d);
    const hessian = new Float64Array(d * d);
    for (let r = 0; r < n; r++) {
      const offset = r * d;
      const p = sigmoid(dot(design, offset, weights, d));
      const residual = p - labels[r]!;
      const curvature = p * (1 - p);
      for (let a = 0; a < d; a++) {
        const xa = design[offset + a]!;
        if (xa === 0) continue; // one-hot inputs are mostly zero
        gradient[a] = gradient[a]! + residual * xa;
        const scaled = curvature * xa;
        for (let b = a; b < d; b++) hessian[a * d + b] = hessian[a * d + b]! + scaled * design[offset + b]!;
      }
    }
    for (let a = 1; a < d; a++) {
      gradient[a] = gradient[a]! + params.l2 * weights[a]!;
      hessian[a * d + a] = hessian[a * d + a]! + params.l2;
    }
    // Keeps the system solvable when the intercept's direction is flat (a level on every row).
    hessian[0] = hessian[0]! + 1e-9;
    for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) hessian[a * d + b] = hessian[b * d + a]!;
    const step = solveSymmetricPositiveDefinite(hessian, gradient, d);
    // Damped Newton: halve the step until the penalized loss does not rise (full steps can overshoot).
    let scale = 1;
    let candidate = weights.map((w, a) => w - step[a]!);
    let loss = objective(candidate);
    while (loss > current && scale > 1e-6) {
      scale /= 2;
      candidate = weights.map((w, a) => w - scale * step[a]!);
      loss = objective(candidate);
    }
    if (loss > current) break;
    let largest = 0;
    for (let a = 0; a < d; a++) largest = max(largest, abs(candidate[a]! - weights[a]!));
    weights.set(candidate);
    current = loss;
    if (largest < params.tolerance) break;
  }
  return { intercept: weights[0]!, weights: Array.from(weights.subarray(1)), clip: params.clip };
}

function dot(design: Float64Array, offset: number, weights: Float64Array, d: number): number {
  let z = 0;
  for (let a = 0; a < d; a++) z += design[offset + a]! * weights[a]!;
  return z;
}

/** Summed log loss plus the L2 penalty: what Newton's method minimizes. */
function penalizedLoss(design: Float64Array, labels: Uint8Array, weights: Float64Array, d: number, l2: number): number {
  let loss = 0;
  for (let r = 0; r < labels.length; r++) {
    const z = dot(design, r * d, weights, d);
    loss += max(z, 0) + log1p(exp(-abs(z))) - labels[r]! * z;
  }
  for (let a = 1; a < d; a++) loss += 0.5 * l2 * weights[a]! ** 2;
  return loss;
}

/** Solves A x = b for symmetric positive definite A (row-major, n x n) by Cholesky decomposition. */
function solveSymmetricPositiveDefinite(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const lower = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= lower[i * n + k]! * lower[j * n + k]!;
      if (i === j) {
        if (!(sum > 0)) throw new RangeError('logistic regression: the Hessian is not positive definite');
        lower[i * n + i] = sqrt(sum);
      } else {
        lower[i * n + j] = sum / lower[j * n + j]!;
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= lower[i * n + k]! * y[k]!;
    y[i] = sum / lower[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < n; k++) sum -= lower[k * n + i]! * x[k]!;
    x[i] = sum / lower[i * n + i]!;
  }
  return x;
}

export function logregLogit(specs: readonly FeatureSpec[], model: LogregModel, row: ArrayLike<number>): number {
  let logit = model.intercept;
  let offset = 0;
  specs.forEach((spec, f) => {
    const value = row[f]!;
    if (spec.kind === 'numeric') {
      logit += model.weights[offset]! * standardize(spec.mean, spec.std, value, model.clip);
      offset++;
    } else {
      if (!isMissing(value)) logit += model.weights[offset + value]!;
      offset += spec.levels.length;
    }
  });
  return logit;
}

/**
 * Each feature's share of the log-odds against the average training row: weight x
 * standardized value for numerics, the level's weight minus the levels' average weight for
 * categoricals. Adds them to `contributions`; returns the expected log-odds they start from.
 */
export function logregContributions(specs: readonly FeatureSpec[], model: LogregModel, row: ArrayLike<number>, contributions: Float64Array): number {
  let expected = model.intercept;
  let offset = 0;
  specs.forEach((spec, f) => {
    const value = row[f]!;
    if (spec.kind === 'numeric') {
      contributions[f] = contributions[f]! + model.weights[offset]! * standardize(spec.mean, spec.std, value, model.clip);
      offset++;
      return;
    }
    let averageWeight = 0;
    spec.levels.forEach((level, code) => {
      averageWeight += level.share * model.weights[offset + code]!;
    });
    expected += averageWeight;
    const own = isMissing(value) ? 0 : model.weights[offset + value]!;
    contributions[f] = contributions[f]! + own - averageWeight;
    offset += spec.levels.length;
  });
  return expected;
}
