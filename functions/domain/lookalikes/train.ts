/**
 * Training a lookalike model: the seed's members (label 1) against a background sample of the
 * candidates (label 0), with the platform's gradient-boosted trees.
 *
 * Positive-unlabeled data, handled deliberately: the background is not "people unlike the seed"
 * but unlabeled people, some of whom would be customers. Under the usual assumption that the seed
 * is a random sample of all such people (Elkan & Noto, 2008), a classifier of seed vs unlabeled
 * ranks people in the same order as one of customer vs not; only the ranking is used (scores are
 * percentiles among the candidates), so no class prior needs estimating. Class balance: the
 * background is a few times the seed (lookalike.ts), and trees with early stopping need no
 * reweighting for a ranking. Measured on the online shoppers data, scoring background rows with
 * models that never saw them (5-fold cross-fitting) ranked no better than one model: one is used.
 *
 * Validation holds out 20 % of the seed and of the background: AUC of held-out seed against
 * held-out background (a lower bound of the true AUC, as the background holds customers too), and
 * the lift at 10 % (how much more often than chance held-out seed members rank in the background's
 * top 10 %). The model then kept is trained on the whole seed, and its scores are calibrated into
 * percentiles on the held-out background, which it never saw.
 */
import { createHash } from 'node:crypto';
import type { FeatureSpec, GbtModel } from '../scoring/artifact';
import { DEFAULT_FEATURE_FIT_OPTIONS, encodeColumns, fitFeatureSpecs } from '../scoring/features';
import { DEFAULT_GBT_PARAMS, gbtContributions, gbtLogit, trainGbt, type GbtParams } from '../scoring/gbt';
import { areaUnderRoc, quantileOfSorted } from '../scoring/metrics';
import { seededRandom, shuffleInPlace } from '../scoring/random';
import { detectColumnKind, type ColumnKind, type LabeledTable } from '../scoring/table';
import { selectFeatures, type FeatureRow, type FeatureSelection } from './feature-rows';
import type { TopFeature } from './lookalike';

export interface LookalikeModel {
  readonly modelVersion: string;
  readonly createdAt: string;
  readonly features: FeatureSpec[];
  readonly model: GbtModel;
  /** Ascending log-odds of held-out background profiles at 0.1 % steps: where a candidate's score falls among candidates. */
  readonly calibration: number[];
}

export interface TrainingSample {
  readonly seed: readonly FeatureRow[];
  readonly background: readonly FeatureRow[];
}

export interface TrainingOptions {
  /** Features the seed's definition tests (leakedFeatures). */
  readonly leaked: ReadonlySet<string>;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly createdAt: string;
  /** Seeds the splits and the trees' sampling: the same sample trains the same model. */
  readonly randomSeed: number;
}

export interface TrainingResult {
  readonly model: LookalikeModel;
  readonly auc: number;
  readonly liftAt10: number;
  readonly topFeatures: TopFeature[];
  readonly training: { readonly seed: number; readonly background: number; readonly features: number; readonly rounds: number };
  readonly leftOut: FeatureSelection['leftOut'];
}

/** A sample the model cannot be trained on (too small, nothing to learn from): the run fails with this reason. */
export class LookalikeTrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LookalikeTrainingError';
  }
}

const VALIDATION_SHARE = 0.2;
/**
 * The platform's defaults with a faster learning rate and at most 200 trees: a run's training
 * stays within seconds however alike the profiles are (near-copies would otherwise keep the
 * validation loss falling for thousands of rounds), at no loss of ranking on the shared data sets.
 */
export const LOOKALIKE_GBT_PARAMS: GbtParams = { ...DEFAULT_GBT_PARAMS, learningRate: 0.1, maxRounds: 200, earlyStoppingRounds: 30 };
const CALIBRATION_POINTS = 1_001;
const TOP_FEATURES = 5;

export function trainLookalike(sample: TrainingSample, options: TrainingOptions): TrainingResult {
  const rows = [...sample.seed, ...sample.background];
  const seedCount = sample.seed.length;
  if (seedCount < 5 || sample.background.length < 5) {
    throw new LookalikeTrainingError(`a model needs at least 5 seed members and 5 background profiles (got ${seedCount} and ${sample.background.length})`);
  }
  const selection = selectFeatures(rows, options);
  if (selection.features.length === 0) {
    throw new LookalikeTrainingError('no feature to learn from: no trait, computed trait or score has values on enough profiles besides what the seed tests');
  }
  const table = tableOf(rows, seedCount, selection.features);
  const random = seededRandom(options.randomSeed);
  const [seedTrain, seedHeld] = split(0, seedCount, random);
  const [backgroundTrain, backgroundHeld] = split(seedCount, rows.length, random);

  const validation = fitModel(table, concat(seedTrain, backgroundTrain), options.randomSeed + 1);
  const heldRows = concat(seedHeld, backgroundHeld);
  const heldScores = predict(validation, table, heldRows);
  const heldLabels = Uint8Array.from(heldRows, (r) => table.labels[r]!);
  const auc = areaUnderRoc(heldScores, heldLabels);
  const backgroundScores = heldScores.slice(seedHeld.length).sort();
  const top10 = quantileOfSorted(backgroundScores, 0.9);
  const seedInTop = heldScores.subarray(0, seedHeld.length).filter((score) => score > top10).length;
  const liftAt10 = seedInTop / seedHeld.length / 0.1;

  const final = fitModel(
    table,
    concat(
      Uint32Array.from({ length: seedCount }, (_, i) => i),
      backgroundTrain,
    ),
    options.randomSeed + 2,
  );
  const calibrationScores = predict(final, table, backgroundHeld).sort();
  const calibration = Array.from({ length: CALIBRATION_POINTS }, (_, i) => quantileOfSorted(calibrationScores, i / (CALIBRATION_POINTS - 1)));
  const content = { features: final.features, model: final.model, calibration };
  const model: LookalikeModel = {
    modelVersion: `lal-${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 12)}`,
    createdAt: options.createdAt,
    ...content,
  };
  return {
    model,
    auc: round(auc, 4),
    liftAt10: round(liftAt10, 2),
    topFeatures: topFeatures(
      final,
      table,
      concat(
        Uint32Array.from({ length: seedCount }, (_, i) => i),
        backgroundHeld,
      ),
    ),
    training: { seed: seedCount, background: sample.background.length, features: final.features.length, rounds: final.model.trees.length },
    leftOut: selection.leftOut,
  };
}

interface Fitted {
  readonly features: FeatureSpec[];
  readonly model: GbtModel;
}

function fitModel(table: LabeledTable, rows: Uint32Array, seed: number): Fitted {
  const features = fitFeatureSpecs(table, rows, DEFAULT_FEATURE_FIT_OPTIONS);
  const encoded = encodeColumns(features, table, rows);
  const { model } = trainGbt(
    encoded,
    Uint8Array.from(rows, (r) => table.labels[r]!),
    LOOKALIKE_GBT_PARAMS,
    seededRandom(seed),
  );
  return { features, model };
}

function predict(fitted: Fitted, table: LabeledTable, rows: Uint32Array): Float64Array {
  const encoded = encodeColumns(fitted.features, table, rows);
  const row = new Float64Array(encoded.length);
  return Float64Array.from(rows, (_, i) => {
    for (let f = 0; f < encoded.length; f++) row[f] = encoded[f]![i]!;
    return gbtLogit(fitted.model, row);
  });
}

/** The table the scoring module trains on: feature columns as text (missing: empty), label 1 for the seed's rows. */
function tableOf(rows: readonly FeatureRow[], seedCount: number, features: readonly string[]): LabeledTable {
  const columns = features.map((name) => rows.map((row) => (row[name] === undefined ? '' : String(row[name]))));
  return {
    featureNames: features,
    kinds: columns.map((values) => detectColumnKind(values) ?? ('categorical' as ColumnKind)),
    columns,
    labels: Uint8Array.from(rows, (_, r) => (r < seedCount ? 1 : 0)),
    label: { column: 'seed', positive: '1' },
    ignoredColumns: [],
    warnings: [],
  };
}

/** Rows [from, to) shuffled and split into training and held-out parts. */
function split(from: number, to: number, random: () => number): [Uint32Array, Uint32Array] {
  const rows = Uint32Array.from({ length: to - from }, (_, i) => from + i);
  shuffleInPlace(rows, random);
  const held = Math.max(1, Math.round(rows.length * VALIDATION_SHARE));
  return [rows.slice(held).sort(), rows.slice(0, held).sort()];
}

function concat(a: Uint32Array, b: Uint32Array): Uint32Array {
  const joined = new Uint32Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

const round = (value: number, decimals: number): number => Math.round(value * 10 ** decimals) / 10 ** decimals;

/** `trait:AvgPageValue` → `AvgPageValue`; `score:churn` → `churn score`. */
function displayName(feature: string): string {
  const [kind, ...rest] = feature.split(':');
  const name = rest.join(':');
  return kind === 'score' ? `${name} score` : name;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  return quantileOfSorted(Float64Array.from(values).sort(), 0.5);
}

const formatNumber = (value: number | null): string => (value === null ? 'no value' : String(round(value, 2)));
const percent = (share: number): string => `${Math.round(share * 100)} %`;

/**
 * The features that weigh most in the model (mean absolute attribution on the seed and held-out
 * background), each with how the seed differs: a higher or lower typical number, or a value more
 * common among them.
 */
function topFeatures(fitted: Fitted, table: LabeledTable, rows: Uint32Array): TopFeature[] {
  const encoded = encodeColumns(fitted.features, table, rows);
  const weights = new Float64Array(fitted.features.length);
  const row = new Float64Array(encoded.length);
  const contributions = new Float64Array(encoded.length);
  for (let i = 0; i < rows.length; i++) {
    for (let f = 0; f < encoded.length; f++) row[f] = encoded[f]![i]!;
    contributions.fill(0);
    gbtContributions(fitted.model, row, contributions);
    for (let f = 0; f < encoded.length; f++) weights[f] = weights[f]! + Math.abs(contributions[f]!);
  }
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  if (total === 0) return [];
  return fitted.features
    .map((spec, f) => ({ spec, importance: weights[f]! / total }))
    .filter((entry) => entry.importance > 0)
    .sort((a, b) => b.importance - a.importance)
    .slice(0, TOP_FEATURES)
    .map(({ spec, importance }) => describeEffect(spec, round(importance, 3), table, rows));
}

function describeEffect(spec: FeatureSpec, importance: number, table: LabeledTable, rows: Uint32Array): TopFeature {
  const column = table.columns[table.featureNames.indexOf(spec.name)]!;
  const name = displayName(spec.name);
  const seedValues: string[] = [];
  const otherValues: string[] = [];
  for (const r of rows) {
    const value = column[r]!;
    if (value === '') continue;
    (table.labels[r] === 1 ? seedValues : otherValues).push(value);
  }
  if (spec.kind === 'numeric') {
    const customers = median(seedValues.map(Number));
    const others = median(otherValues.map(Number));
    const mean = (values: string[]) => values.reduce((sum, v) => sum + Number(v), 0) / Math.max(1, values.length);
    const higher = customers !== null && others !== null && customers !== others ? customers > others : mean(seedValues) >= mean(otherValues);
    const direction = higher ? 'higher' : 'lower';
    return {
      feature: spec.name,
      importance,
      direction,
      customers,
      others,
      label: `${name} is ${direction} among your customers (typically ${formatNumber(customers)} against ${formatNumber(others)} for others)`,
    };
  }
  const share = (values: string[], level: string) => values.filter((v) => v === level).length / Math.max(1, values.length);
  const levels = [...new Set(seedValues)];
  const ratioOf = (level: string) => share(seedValues, level) / Math.max(share(otherValues, level), 1e-3);
  const telling = levels.filter((level) => share(seedValues, level) >= 0.05).sort((a, b) => ratioOf(b) - ratioOf(a))[0] ?? levels[0] ?? null;
  if (telling === null) {
    return { feature: spec.name, importance, direction: 'value', customers: null, others: null, label: `${name} has no value among your customers` };
  }
  const customers = share(seedValues, telling);
  const others = share(otherValues, telling);
  return {
    feature: spec.name,
    importance,
    direction: 'value',
    value: telling,
    customers: round(customers, 3),
    others: round(others, 3),
    label: `${name} "${telling}" is ${round(customers / Math.max(others, 1e-3), 1)}× as common among your customers (${percent(customers)} against ${percent(others)})`,
  };
}
