/**
 * Online scoring: one profile's features in, a probability, its band and the features that
 * pushed it up or down out. The artifact is compiled once per model object (encoders,
 * lookups), so a call costs microseconds.
 */
import type { BandCutoffs, FeatureSpec, ModelArtifact } from './artifact';
import { valueEncoder, type ValueEncoder } from './features';
import { gbtContributions, gbtLogit, sigmoid } from './gbt';
import { logregContributions, logregLogit } from './logreg';
import { isMissingValue } from './table';

export type Band = 'low' | 'medium' | 'high';

/** Raw feature values of one profile, by training column name (strings, numbers, booleans, null). */
export type FeatureValues = Readonly<Record<string, unknown>>;

export interface FeatureContribution {
  readonly feature: string;
  readonly value: string | number | boolean | null;
  /** Signed change of probability this feature accounts for, against the average training row. */
  readonly contribution: number;
  /** For a marketer, e.g. `ProductPageTime high (+0.21)`. */
  readonly label: string;
}

export interface ScoreResult {
  readonly probability: number;
  readonly band: Band;
  readonly modelVersion: string;
  /** The features that moved the probability most, largest first. */
  readonly contributions: FeatureContribution[];
  /** Input problems that did not stop scoring: unknown features, non-numeric numbers. */
  readonly warnings: string[];
}

export interface Explanation {
  readonly probability: number;
  /** Probability of the average training row; it plus every contribution is `probability`. */
  readonly baselineProbability: number;
  /** Every feature's contribution, largest magnitude first. */
  readonly contributions: FeatureContribution[];
  readonly warnings: string[];
}

export interface ScoreOptions {
  /** How many contributions to return (default 3). */
  readonly topContributions?: number;
}

interface CompiledModel {
  readonly encoders: readonly ValueEncoder[];
  readonly knownColumns: ReadonlySet<string>;
  readonly logit: (row: Float64Array) => number;
  /** Adds log-odds contributions per feature to `out`; returns the expected log-odds. */
  readonly contributions: (row: Float64Array, out: Float64Array) => number;
}

const compiledModels = new WeakMap<ModelArtifact, CompiledModel>();

function compile(model: ModelArtifact): CompiledModel {
  const cached = compiledModels.get(model);
  if (cached) return cached;
  const specs = model.features;
  const compiled: CompiledModel = {
    encoders: specs.map(valueEncoder),
    knownColumns: new Set([...specs.map((spec) => spec.name), ...model.ignoredColumns, model.label.column]),
    ...(model.algorithm === 'gbt'
      ? {
          logit: (row: Float64Array) => gbtLogit(model.model, row),
          contributions: (row: Float64Array, out: Float64Array) => gbtContributions(model.model, row, out),
        }
      : {
          logit: (row: Float64Array) => logregLogit(specs, model.model, row),
          contributions: (row: Float64Array, out: Float64Array) => logregContributions(specs, model.model, row, out),
        }),
  };
  compiledModels.set(model, compiled);
  return compiled;
}

/**
 * Encodes a profile's values in feature order. A feature absent from `values` is missing;
 * a value the model cannot read is missing too, with a warning, and so is a column the model
 * never saw in training, which is ignored.
 */
function encodeFeatures(model: ModelArtifact, compiled: CompiledModel, values: FeatureValues): { row: Float64Array; warnings: string[] } {
  const warnings: string[] = [];
  const row = new Float64Array(model.features.length);
  model.features.forEach((spec, f) => {
    const raw = values[spec.name];
    const encoded = compiled.encoders[f]!(raw);
    if (Number.isNaN(encoded) && !isMissingValue(raw)) {
      warnings.push(`feature "${spec.name}" has a value the model cannot read (${typeof raw}): treated as missing`);
    }
    row[f] = encoded;
  });
  for (const name of Object.keys(values)) {
    if (!compiled.knownColumns.has(name)) warnings.push(`feature "${name}" was not seen in training: ignored`);
  }
  return { row, warnings };
}

export function bandOf(bands: BandCutoffs, probability: number): Band {
  if (probability >= bands.highCutoff) return 'high';
  return probability >= bands.mediumCutoff ? 'medium' : 'low';
}

/** Probability only, without explanations: for batch evaluation. */
export function predictProbability(model: ModelArtifact, values: FeatureValues): { probability: number; warnings: string[] } {
  const compiled = compile(model);
  const { row, warnings } = encodeFeatures(model, compiled, values);
  return { probability: sigmoid(compiled.logit(row)), warnings };
}

export function scoreRow(model: ModelArtifact, values: FeatureValues, options: ScoreOptions = {}): ScoreResult {
  const explanation = explainRow(model, values);
  return {
    probability: explanation.probability,
    band: bandOf(model.bands, explanation.probability),
    modelVersion: model.modelVersion,
    contributions: explanation.contributions.slice(0, options.topContributions ?? 3),
    warnings: explanation.warnings,
  };
}

/**
 * Splits the probability into a baseline and one signed contribution per feature. The
 * attributions are additive in log-odds (tree paths, or weight x value); they are rescaled by
 * one common factor so that they add up to the probability's distance from the baseline.
 */
export function explainRow(model: ModelArtifact, values: FeatureValues): Explanation {
  const compiled = compile(model);
  const { row, warnings } = encodeFeatures(model, compiled, values);
  const logOdds = new Float64Array(model.features.length);
  const expectedLogit = compiled.contributions(row, logOdds);
  const logit = logOdds.reduce((sum, c) => sum + c, expectedLogit);
  const probability = sigmoid(logit);
  const baselineProbability = sigmoid(expectedLogit);
  const change = logit - expectedLogit;
  // Probability change per unit of log-odds along the way; the slope at the baseline when there is no change.
  const scale = Math.abs(change) > 1e-12 ? (probability - baselineProbability) / change : baselineProbability * (1 - baselineProbability);
  const contributions = model.features
    .map((spec, f) => describe(spec, model.featureLabels?.[spec.name], values[spec.name], row[f]!, logOdds[f]! * scale))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || (a.feature < b.feature ? -1 : 1));
  return { probability, baselineProbability, contributions, warnings };
}

function describe(spec: FeatureSpec, readableName: string | undefined, raw: unknown, encoded: number, contribution: number): FeatureContribution {
  const value = typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? raw : null;
  const signed = `${contribution >= 0 ? '+' : '-'}${Math.abs(contribution).toFixed(2)}`;
  if (readableName === undefined) return { feature: spec.name, value, contribution, label: `${spec.name} ${describeValue(spec, raw, encoded)} (${signed})` };
  // A named flag that is set reads as the name itself: "browses price-comparison sites: +0.21".
  const label = isFlag(spec) && encoded === 1 ? `${readableName}: ${signed}` : `${readableName}: ${describeNamedValue(spec, raw, encoded)} (${signed})`;
  return { feature: spec.name, value, contribution, label };
}

/** A numeric feature whose training values were 0 and 1 only (a yes/no trait). */
function isFlag(spec: FeatureSpec): boolean {
  return spec.kind === 'numeric' && spec.quartiles.every((q) => q === 0 || q === 1) && spec.mean >= 0 && spec.mean <= 1;
}

function describeNamedValue(spec: FeatureSpec, raw: unknown, encoded: number): string {
  if (Number.isNaN(encoded)) return 'unknown';
  if (isFlag(spec) && (encoded === 0 || encoded === 1)) return encoded === 1 ? 'yes' : 'no';
  if (spec.kind === 'numeric') return describeValue(spec, raw, encoded);
  return String(raw).trim();
}

function describeValue(spec: FeatureSpec, raw: unknown, encoded: number): string {
  if (Number.isNaN(encoded)) return 'missing';
  if (spec.kind === 'numeric') {
    const [lowerQuartile, , upperQuartile] = spec.quartiles;
    if (encoded < lowerQuartile) return 'low';
    return encoded > upperQuartile ? 'high' : 'typical';
  }
  const level = spec.levels[encoded];
  const text = level?.pooled === true ? `${String(raw).trim()} (rare)` : level?.value;
  return `= ${text}`;
}
