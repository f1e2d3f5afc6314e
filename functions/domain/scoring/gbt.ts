/**
 * Gradient-boosted decision trees for binary classification (log loss), histogram-based in
 * the manner of LightGBM and XGBoost's `hist` method:
 * - each feature is cut into at most `maxBins` quantile bins (bin 0 holds missing values),
 *   so finding a split scans bin totals instead of sorting rows;
 * - trees fit second-order gradients (g = p - y, h = p(1 - p)) with an L2 penalty on leaf
 *   values, grow best leaf first up to `maxLeaves`, and keep at least `minLeafSize` rows a leaf;
 * - at every split missing values go to whichever side gains more;
 * - each round sees a random share of rows and of features, and its tree is shrunk by the
 *   learning rate; boosting stops when log loss on a held-out validation split stops improving.
 *
 * Typed-array reads carry `!`: every index is in range by construction.
 */
import type { GbtModel, RegressionTree } from './artifact';
import { type Random, sampleSorted } from './random';

// Bound once: inside a vm context (how Jest runs modules) every global lookup in a hot loop is slow.
const { abs, ceil, exp, floor, log, log1p, max, min, round } = Math;
/** NaN encodes a missing value. */
const isMissing = Number.isNaN;

export interface GbtParams {
  readonly learningRate: number;
  readonly maxRounds: number;
  /** Stop after this many rounds without a better validation log loss (0: never stop early). */
  readonly earlyStoppingRounds: number;
  /** Share of the training rows held out (stratified) to decide when to stop. */
  readonly validationShare: number;
  readonly maxLeaves: number;
  readonly maxDepth: number;
  readonly minLeafSize: number;
  readonly minChildHessian: number;
  /** L2 penalty on leaf values (lambda). */
  readonly l2: number;
  /** A split must improve the (doubled) objective by more than this. */
  readonly minSplitGain: number;
  readonly rowSubsample: number;
  readonly featureSubsample: number;
  readonly maxBins: number;
}

/** Chosen by 5-fold cross-validation on the shared data sets (figures in models/README.md). */
export const DEFAULT_GBT_PARAMS: GbtParams = {
  learningRate: 0.05,
  maxRounds: 2000,
  earlyStoppingRounds: 50,
  validationShare: 0.15,
  maxLeaves: 15,
  maxDepth: 6,
  minLeafSize: 20,
  minChildHessian: 1e-3,
  l2: 1,
  minSplitGain: 0,
  rowSubsample: 0.8,
  featureSubsample: 0.8,
  maxBins: 255,
};

export interface GbtTrainingResult {
  readonly model: GbtModel;
  /** Rounds kept: the best validation round when stopping early, else all. */
  readonly rounds: number;
}

/** Histogram cells per feature: bin 0 (missing) and up to 255 value bins, each [g, h, count]. */
const BINS_PER_FEATURE = 256;
const CELL = 3;
const FEATURE_STRIDE = BINS_PER_FEATURE * CELL;

/** Trains on encoded feature columns (`encoded[feature][row]`, NaN = missing) and 0/1 labels. */
export function trainGbt(encoded: readonly Float64Array[], labels: Uint8Array, params: GbtParams, random: Random): GbtTrainingResult {
  checkParams(params);
  const n = labels.length;
  const bounds = encoded.map((column) => binBounds(column, params.maxBins));
  const bins = encoded.map((column, f) => binColumn(column, bounds[f]!));
  const binCounts = bounds.map((b) => b.length + 1);
  // A single value still splits present from missing (a trait only some profiles have).
  const splittable = Uint32Array.from(binCounts.flatMap((count, f) => (count > 1 || bins[f]!.includes(0) ? [f] : [])));

  const { trainRows, validationRows } = holdOut(labels, params, random);
  let positives = 0;
  for (const r of trainRows) positives += labels[r]!;
  const baseRate = min(max(positives / trainRows.length, 1e-6), 1 - 1e-6);
  const baseLogit = log(baseRate / (1 - baseRate));

  const logits = new Float64Array(n).fill(baseLogit);
  const gradients = new Float64Array(n);
  const hessians = new Float64Array(n);
  const grower = new TreeGrower(bins, binCounts, gradients, hessians, params, n);
  const trees: BinnedTree[] = [];
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestRounds = 0;
  const sampleSize = max(1, floor(trainRows.length * params.rowSubsample));
  const featureCount = max(1, ceil(splittable.length * params.featureSubsample));

  for (let round = 0; round < params.maxRounds; round++) {
    for (const r of trainRows) {
      const p = sigmoid(logits[r]!);
      gradients[r] = p - labels[r]!;
      hessians[r] = max(p * (1 - p), 1e-16);
    }
    const rows = sampleSize < trainRows.length ? sampleSorted(trainRows, sampleSize, random) : trainRows.slice();
    const features = featureCount < splittable.length ? sampleSorted(splittable, featureCount, random) : splittable;
    const tree = grower.grow(rows, features);
    // As LightGBM does: when no split meets the requirements any more, boosting is over.
    if (tree.feature.length === 1) break;
    trees.push(tree);
    for (let r = 0; r < n; r++) logits[r] = logits[r]! + tree.value[leafOfBinnedRow(tree, bins, r)]!;

    if (validationRows.length === 0) {
      bestRounds = trees.length;
      continue;
    }
    const loss = validationLogLoss(logits, labels, validationRows);
    if (loss < bestLoss) {
      bestLoss = loss;
      bestRounds = trees.length;
    } else if (trees.length - bestRounds >= params.earlyStoppingRounds) {
      break;
    }
  }
  const kept = trees.slice(0, bestRounds).map((tree) => toRegressionTree(tree, bounds));
  return { model: { baseLogit, trees: kept }, rounds: kept.length };
}

/** Log-odds of the positive class for one encoded row. */
export function gbtLogit(model: GbtModel, row: ArrayLike<number>): number {
  let logit = model.baseLogit;
  for (const tree of model.trees) logit += tree.value[leafOf(tree, row)]!;
  return logit;
}

/**
 * Path attribution (Saabas): along each tree's path, the change of node value at a split is
 * credited to the split's feature. Adds each feature's log-odds share to `contributions` and
 * returns the expected log-odds they start from; the two sum to `gbtLogit`.
 */
export function gbtContributions(model: GbtModel, row: ArrayLike<number>, contributions: Float64Array): number {
  let expected = model.baseLogit;
  for (const tree of model.trees) {
    let node = 0;
    expected += tree.value[0]!;
    for (;;) {
      const feature = tree.feature[node]!;
      if (feature < 0) break;
      const next = nextNode(tree, node, row[feature]!);
      contributions[feature] = contributions[feature]! + tree.value[next]! - tree.value[node]!;
      node = next;
    }
  }
  return expected;
}

export function sigmoid(logit: number): number {
  return 1 / (1 + exp(-logit));
}

function leafOf(tree: RegressionTree, row: ArrayLike<number>): number {
  let node = 0;
  while (tree.feature[node]! >= 0) node = nextNode(tree, node, row[tree.feature[node]!]!);
  return node;
}

function nextNode(tree: RegressionTree, node: number, value: number): number {
  const goLeft = isMissing(value) ? tree.missingLeft[node]! : value <= tree.threshold[node]!;
  return goLeft ? tree.left[node]! : tree.right[node]!;
}

function checkParams(params: GbtParams): void {
  const problems: string[] = [];
  if (!(params.learningRate > 0 && params.learningRate <= 1)) problems.push('learningRate must be in (0, 1]');
  if (!(Number.isInteger(params.maxRounds) && params.maxRounds >= 1)) problems.push('maxRounds must be a positive integer');
  if (!(params.maxLeaves >= 2 && params.maxDepth >= 1)) problems.push('maxLeaves must be >= 2 and maxDepth >= 1');
  if (!(params.minLeafSize >= 1)) problems.push('minLeafSize must be >= 1');
  if (!(params.rowSubsample > 0 && params.rowSubsample <= 1)) problems.push('rowSubsample must be in (0, 1]');
  if (!(params.featureSubsample > 0 && params.featureSubsample <= 1)) problems.push('featureSubsample must be in (0, 1]');
  if (!(params.validationShare >= 0 && params.validationShare < 1)) problems.push('validationShare must be in [0, 1)');
  if (!(params.maxBins >= 2 && params.maxBins <= BINS_PER_FEATURE - 1)) problems.push(`maxBins must be in [2, ${BINS_PER_FEATURE - 1}]`);
  if (problems.length > 0) throw new RangeError(`invalid gbt parameters: ${problems.join('; ')}`);
}

/**
 * Upper bounds of quantile bins over the present values: midpoints between distinct values,
 * each bin holding about an equal share of the rows not yet binned (a very frequent value,
 * such as 0, gets a bin of its own without starving the others).
 */
export function binBounds(column: Float64Array, maxBins: number): Float64Array {
  const present = column.filter((v) => !isMissing(v)).sort();
  const distinct: number[] = [];
  const counts: number[] = [];
  for (const value of present) {
    if (distinct.length > 0 && distinct[distinct.length - 1] === value) counts[counts.length - 1]!++;
    else {
      distinct.push(value);
      counts.push(1);
    }
  }
  const bounds: number[] = [];
  let rowsLeft = present.length;
  let binsLeft = maxBins;
  let inBin = 0;
  for (let i = 0; i < distinct.length - 1; i++) {
    inBin += counts[i]!;
    const everyValueFits = distinct.length <= maxBins;
    if (everyValueFits || inBin >= rowsLeft / binsLeft) {
      bounds.push(midpoint(distinct[i]!, distinct[i + 1]!));
      rowsLeft -= inBin;
      binsLeft--;
      inBin = 0;
      if (binsLeft === 1) break;
    }
  }
  return Float64Array.from(bounds);
}

function midpoint(low: number, high: number): number {
  const middle = low + (high - low) / 2;
  return middle < high ? middle : low;
}

/** Bin of each value: 0 when missing, else 1 + the number of bounds below it. */
function binColumn(column: Float64Array, bounds: Float64Array): Uint8Array {
  const binned = new Uint8Array(column.length);
  for (let r = 0; r < column.length; r++) {
    const value = column[r]!;
    if (isMissing(value)) continue;
    let low = 0;
    let high = bounds.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (bounds[mid]! < value) low = mid + 1;
      else high = mid;
    }
    binned[r] = low + 1;
  }
  return binned;
}

/** Stratified hold-out for early stopping; none when stopping early is off or a class would be missing. */
function holdOut(labels: Uint8Array, params: GbtParams, random: Random): { trainRows: Uint32Array; validationRows: Uint32Array } {
  const all = Uint32Array.from({ length: labels.length }, (_, i) => i);
  const none = { trainRows: all, validationRows: new Uint32Array(0) };
  if (params.earlyStoppingRounds <= 0 || params.validationShare <= 0) return none;
  const positives = all.filter((r) => labels[r] === 1);
  const negatives = all.filter((r) => labels[r] !== 1);
  const heldPositives = round(positives.length * params.validationShare);
  const heldNegatives = round(negatives.length * params.validationShare);
  if (heldPositives < 1 || heldNegatives < 1 || heldPositives >= positives.length || heldNegatives >= negatives.length) return none;
  const held = new Uint8Array(labels.length);
  for (const r of sampleSorted(positives, heldPositives, random)) held[r] = 1;
  for (const r of sampleSorted(negatives, heldNegatives, random)) held[r] = 1;
  return { trainRows: all.filter((r) => held[r] === 0), validationRows: all.filter((r) => held[r] === 1) };
}

function validationLogLoss(logits: Float64Array, labels: Uint8Array, rows: Uint32Array): number {
  let total = 0;
  for (const r of rows) {
    const z = logits[r]!;
    // log(1 + e^z) - y z, computed without overflow.
    total += max(z, 0) + log1p(exp(-abs(z))) - labels[r]! * z;
  }
  return total / rows.length;
}

/** A tree during training: splits are on bin numbers (a row goes left when its bin <= binThreshold). */
interface BinnedTree {
  readonly feature: number[];
  readonly binThreshold: number[];
  readonly missingLeft: boolean[];
  readonly left: number[];
  readonly right: number[];
  readonly value: number[];
}

function leafOfBinnedRow(tree: BinnedTree, bins: readonly Uint8Array[], row: number): number {
  let node = 0;
  for (;;) {
    const feature = tree.feature[node]!;
    if (feature < 0) return node;
    const bin = bins[feature]![row]!;
    const goLeft = bin === 0 ? tree.missingLeft[node]! : bin <= tree.binThreshold[node]!;
    node = goLeft ? tree.left[node]! : tree.right[node]!;
  }
}

/**
 * Bin thresholds become value thresholds: bin <= t exactly when value <= bounds[t - 1]; the last
 * bin (every value left, missing right) has no bound above it, so the largest number stands in.
 */
function toRegressionTree(tree: BinnedTree, bounds: readonly Float64Array[]): RegressionTree {
  return {
    feature: [...tree.feature],
    threshold: tree.feature.map((feature, node) => (feature < 0 ? 0 : (bounds[feature]![tree.binThreshold[node]! - 1] ?? Number.MAX_VALUE))),
    missingLeft: [...tree.missingLeft],
    left: [...tree.left],
    right: [...tree.right],
    value: [...tree.value],
  };
}

interface Split {
  readonly gain: number;
  readonly feature: number;
  readonly bin: number;
  readonly missingLeft: boolean;
}

interface OpenLeaf {
  readonly node: number;
  /** This leaf's rows are `rowIndex[start..end)`. */
  readonly start: number;
  readonly end: number;
  readonly depth: number;
  readonly histogram: Float64Array;
  readonly split: Split | undefined;
}

/** Grows one tree best leaf first, reusing histogram buffers across trees. */
class TreeGrower {
  private readonly freeHistograms: Float64Array[] = [];
  private readonly scratch: Uint32Array;

  constructor(
    private readonly bins: readonly Uint8Array[],
    private readonly binCounts: readonly number[],
    private readonly gradients: Float64Array,
    private readonly hessians: Float64Array,
    private readonly params: GbtParams,
    rowCount: number,
  ) {
    this.scratch = new Uint32Array(rowCount);
  }

  grow(rowIndex: Uint32Array, features: Uint32Array): BinnedTree {
    const tree: BinnedTree = { feature: [], binThreshold: [], missingLeft: [], left: [], right: [], value: [] };
    const rootHistogram = this.takeHistogram();
    this.fillHistogram(rootHistogram, rowIndex, 0, rowIndex.length, features);
    const open: OpenLeaf[] = [this.openLeaf(tree, rootHistogram, rowIndex, 0, rowIndex.length, 0, features)];
    let leaves = 1;
    while (leaves < this.params.maxLeaves) {
      let bestIndex = -1;
      open.forEach((leaf, i) => {
        if (leaf.split && (bestIndex < 0 || leaf.split.gain > open[bestIndex]!.split!.gain)) bestIndex = i;
      });
      if (bestIndex < 0) break;
      const [leaf] = open.splice(bestIndex, 1) as [OpenLeaf];
      const split = leaf.split!;
      const middle = this.partition(rowIndex, leaf.start, leaf.end, split);
      const leftIsSmaller = middle - leaf.start <= leaf.end - middle;
      const smaller = this.takeHistogram();
      if (leftIsSmaller) this.fillHistogram(smaller, rowIndex, leaf.start, middle, features);
      else this.fillHistogram(smaller, rowIndex, middle, leaf.end, features);
      const larger = leaf.histogram;
      this.subtract(larger, smaller, features);
      const [leftHistogram, rightHistogram] = leftIsSmaller ? [smaller, larger] : [larger, smaller];

      tree.feature[leaf.node] = split.feature;
      tree.binThreshold[leaf.node] = split.bin;
      tree.missingLeft[leaf.node] = split.missingLeft;
      const left = this.openLeaf(tree, leftHistogram, rowIndex, leaf.start, middle, leaf.depth + 1, features);
      const right = this.openLeaf(tree, rightHistogram, rowIndex, middle, leaf.end, leaf.depth + 1, features);
      tree.left[leaf.node] = left.node;
      tree.right[leaf.node] = right.node;
      open.push(left, right);
      leaves++;
    }
    for (const leaf of open) this.freeHistograms.push(leaf.histogram);
    return tree;
  }

  /** Adds a node for rows[start..end) with its value, and finds its best split if it may split. */
  private openLeaf(tree: BinnedTree, histogram: Float64Array, rows: Uint32Array, start: number, end: number, depth: number, features: Uint32Array): OpenLeaf {
    const { l2, learningRate, maxDepth, minLeafSize } = this.params;
    let g = 0;
    let h = 0;
    for (let k = start; k < end; k++) {
      g += this.gradients[rows[k]!]!;
      h += this.hessians[rows[k]!]!;
    }
    const node = tree.value.length;
    tree.feature.push(-1);
    tree.binThreshold.push(0);
    tree.missingLeft.push(false);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push((-g / (h + l2)) * learningRate);
    const count = end - start;
    const split = depth < maxDepth && count >= 2 * minLeafSize ? this.bestSplit(histogram, g, h, count, features) : undefined;
    return { node, start, end, depth, histogram, split };
  }

  private bestSplit(histogram: Float64Array, g: number, h: number, count: number, features: Uint32Array): Split | undefined {
    const { l2, minLeafSize, minChildHessian, minSplitGain } = this.params;
    const parentScore = (g * g) / (h + l2);
    let best: Split | undefined;
    let bestGain = minSplitGain;
    for (const feature of features) {
      const base = feature * FEATURE_STRIDE;
      const binCount = this.binCounts[feature]!;
      const missingCount = histogram[base + 2]!;
      // First pass sends missing values right, second (only if there are any) left.
      for (let pass = 0; pass < (missingCount > 0 ? 2 : 1); pass++) {
        let gLeft = pass === 1 ? histogram[base]! : 0;
        let hLeft = pass === 1 ? histogram[base + 1]! : 0;
        let cLeft = pass === 1 ? missingCount : 0;
        // Every value bin left is a split only while the missing values go right.
        const lastBin = pass === 0 && missingCount > 0 ? binCount : binCount - 1;
        for (let bin = 1; bin <= lastBin; bin++) {
          const cell = base + bin * CELL;
          gLeft += histogram[cell]!;
          hLeft += histogram[cell + 1]!;
          cLeft += histogram[cell + 2]!;
          if (cLeft < minLeafSize || hLeft < minChildHessian) continue;
          const hRight = h - hLeft;
          if (count - cLeft < minLeafSize || hRight < minChildHessian) break;
          const gRight = g - gLeft;
          const gain = (gLeft * gLeft) / (hLeft + l2) + (gRight * gRight) / (hRight + l2) - parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            // With no missing values in training, later missing values follow the larger side.
            const missingLeft = pass === 1 || (missingCount === 0 && cLeft >= count - cLeft);
            best = { gain, feature, bin, missingLeft };
          }
        }
      }
    }
    return best;
  }

  /** Stable partition of rows[start..end): rows going left first; returns where the right rows begin. */
  private partition(rows: Uint32Array, start: number, end: number, split: Split): number {
    const column = this.bins[split.feature]!;
    let leftEnd = start;
    let rightCount = 0;
    for (let k = start; k < end; k++) {
      const row = rows[k]!;
      const bin = column[row]!;
      if (bin === 0 ? split.missingLeft : bin <= split.bin) rows[leftEnd++] = row;
      else this.scratch[rightCount++] = row;
    }
    rows.set(this.scratch.subarray(0, rightCount), leftEnd);
    return leftEnd;
  }

  private fillHistogram(histogram: Float64Array, rows: Uint32Array, start: number, end: number, features: Uint32Array): void {
    const { gradients, hessians } = this;
    for (const feature of features) {
      const column = this.bins[feature]!;
      const base = feature * FEATURE_STRIDE;
      for (let k = start; k < end; k++) {
        const row = rows[k]!;
        const cell = base + column[row]! * CELL;
        histogram[cell] = histogram[cell]! + gradients[row]!;
        histogram[cell + 1] = histogram[cell + 1]! + hessians[row]!;
        histogram[cell + 2] = histogram[cell + 2]! + 1;
      }
    }
  }

  /** The larger child's histogram is the parent's minus the smaller child's: half the work. */
  private subtract(target: Float64Array, smaller: Float64Array, features: Uint32Array): void {
    for (const feature of features) {
      const base = feature * FEATURE_STRIDE;
      const end = base + (this.binCounts[feature]! + 1) * CELL;
      for (let cell = base; cell < end; cell++) target[cell] = target[cell]! - smaller[cell]!;
    }
  }

  private takeHistogram(): Float64Array {
    const reused = this.freeHistograms.pop();
    if (reused) return reused.fill(0);
    return new Float64Array(this.bins.length * FEATURE_STRIDE);
  }
}
