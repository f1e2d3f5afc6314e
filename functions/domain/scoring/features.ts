/**
 * Feature specs learned from training rows, and the encoding of raw values (CSV cells or
 * profile attributes) into the numbers the models read. Training and scoring share the
 * encoders, so a value is encoded the same way in both.
 */
import type { CategoricalFeatureSpec, FeatureSpec, NumericFeatureSpec } from './artifact';
import { quantileOfSorted } from './metrics';
import { isMissingValue, type LabeledTable, parseNumber } from './table';

export interface FeatureFitOptions {
  /** Categorical values seen on fewer training rows are pooled into one "(other)" level. */
  readonly minCategoryCount: number;
  /** Pseudo-rows pulling a level's positive rate toward the overall rate. */
  readonly categorySmoothing: number;
}

export const DEFAULT_FEATURE_FIT_OPTIONS: FeatureFitOptions = { minCategoryCount: 20, categorySmoothing: 10 };

const POOLED_LEVEL = '(other)';

export function fitFeatureSpecs(table: LabeledTable, rows: Uint32Array, options: FeatureFitOptions): FeatureSpec[] {
  let positives = 0;
  for (const r of rows) positives += table.labels[r]!;
  const priorRate = positives / rows.length;
  return table.featureNames.map((name, f) => {
    const column = table.columns[f]!;
    return table.kinds[f] === 'numeric' ? fitNumeric(name, column, rows) : fitCategorical(name, column, table.labels, rows, priorRate, options);
  });
}

function fitNumeric(name: string, column: readonly string[], rows: Uint32Array): NumericFeatureSpec {
  const values: number[] = [];
  for (const r of rows) {
    const value = parseNumber(column[r]!);
    if (value !== undefined) values.push(value);
  }
  const missingShare = 1 - values.length / rows.length;
  if (values.length === 0) return { name, kind: 'numeric', mean: 0, std: 0, quartiles: [0, 0, 0], missingShare };
  const sorted = Float64Array.from(values).sort();
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length);
  const quartiles: [number, number, number] = [quantileOfSorted(sorted, 0.25), quantileOfSorted(sorted, 0.5), quantileOfSorted(sorted, 0.75)];
  return { name, kind: 'numeric', mean, std, quartiles, missingShare };
}

function fitCategorical(
  name: string,
  column: readonly string[],
  labels: Uint8Array,
  rows: Uint32Array,
  priorRate: number,
  options: FeatureFitOptions,
): CategoricalFeatureSpec {
  const stats = new Map<string, { count: number; positives: number }>();
  let missing = 0;
  for (const r of rows) {
    const value = column[r]!;
    if (isMissingValue(value)) {
      missing++;
      continue;
    }
    const entry = stats.get(value) ?? { count: 0, positives: 0 };
    entry.count++;
    entry.positives += labels[r]!;
    stats.set(value, entry);
  }
  const pooled = { count: 0, positives: 0 };
  const kept: { value: string; count: number; positives: number }[] = [];
  for (const [value, entry] of stats) {
    if (entry.count >= options.minCategoryCount) kept.push({ value, ...entry });
    else {
      pooled.count += entry.count;
      pooled.positives += entry.positives;
    }
  }
  const m = options.categorySmoothing;
  const level = (value: string, entry: { count: number; positives: number }) => ({
    value,
    share: entry.count / rows.length,
    positiveRate: (entry.positives + m * priorRate) / (entry.count + m),
  });
  const levels: CategoricalFeatureSpec['levels'] = [...kept.map((entry) => level(entry.value, entry)), { ...level(POOLED_LEVEL, pooled), pooled: true }].sort(
    (a, b) => a.positiveRate - b.positiveRate || compareText(a.value, b.value),
  );
  const otherLevel = levels.findIndex((l) => l.pooled === true);
  return { name, kind: 'categorical', levels, otherLevel, missingShare: missing / rows.length };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Encodes one raw value of a feature: a number, a categorical level's code, or NaN when missing. */
export type ValueEncoder = (raw: unknown) => number;

export function valueEncoder(spec: FeatureSpec): ValueEncoder {
  return spec.kind === 'numeric' ? encodeNumeric : categoricalEncoder(spec);
}

function encodeNumeric(raw: unknown): number {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : Number.NaN;
  if (typeof raw === 'string') return parseNumber(raw) ?? Number.NaN;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  return Number.NaN;
}

function categoricalEncoder(spec: CategoricalFeatureSpec): ValueEncoder {
  const exact = new Map<string, number>();
  // Profiles may spell a level differently ("true" for "TRUE"); match case-insensitively when unambiguous.
  const folded = new Map<string, number | undefined>();
  spec.levels.forEach((level, code) => {
    if (level.pooled === true) return;
    exact.set(level.value, code);
    const key = level.value.toLowerCase();
    folded.set(key, folded.has(key) ? undefined : code);
  });
  return (raw) => {
    if (isMissingValue(raw)) return Number.NaN;
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return Number.NaN;
    const text = String(raw).trim();
    return exact.get(text) ?? folded.get(text.toLowerCase()) ?? spec.otherLevel;
  };
}

/** Encodes the table's rows column by column: `encoded[feature][i]` is row `rows[i]`. */
export function encodeColumns(specs: readonly FeatureSpec[], table: LabeledTable, rows: Uint32Array): Float64Array[] {
  return specs.map((spec) => {
    const f = table.featureNames.indexOf(spec.name);
    const column = table.columns[f];
    if (!column) throw new Error(`feature "${spec.name}" is not a column of the table`);
    const encode = valueEncoder(spec);
    const encoded = new Float64Array(rows.length);
    rows.forEach((r, i) => {
      encoded[i] = encode(column[r]);
    });
    return encoded;
  });
}
