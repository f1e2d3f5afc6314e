/**
 * Training a scoring model from a labelled table: feature specs, the chosen learner,
 * stratified k-fold cross-validation, band cutoffs, and the versioned artifact.
 */
import { createHash } from 'node:crypto';
import {
  type Algorithm,
  type BandCutoffs,
  type FeatureSpec,
  type GbtModel,
  type LogregModel,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type ModelArtifact,
} from './artifact';
import { DataError } from '../files/data-error';
import { DEFAULT_FEATURE_FIT_OPTIONS, encodeColumns, type FeatureFitOptions, fitFeatureSpecs } from './features';
import { DEFAULT_GBT_PARAMS, type GbtParams, gbtLogit, sigmoid, trainGbt } from './gbt';
import { DEFAULT_LOGREG_PARAMS, type LogregParams, logregLogit, trainLogreg } from './logreg';
import { areaUnderRoc, meanAndSd, quantileOfSorted, rowsExcept, stratifiedFolds } from './metrics';
import { seededRandom } from './random';
import type { LabeledTable } from './table';

export interface BandShares {
  /** Share of training rows scoring in the high band (the top). */
  readonly highShare: number;
  /** Share of training rows in the medium band, just below the high band. */
  readonly mediumShare: number;
}

export const DEFAULT_BAND_SHARES: BandShares = { highShare: 0.2, mediumShare: 0.3 };

export interface TrainingSettings {
  readonly algorithm: Algorithm;
  readonly seed: number;
  readonly gbt: GbtParams;
  readonly logreg: LogregParams;
  readonly features: FeatureFitOptions;
}

export interface TrainOptions {
  readonly algorithm?: Algorithm;
  readonly seed?: number;
  /** Recorded in the artifact; passed in so that training stays a pure function. */
  readonly createdAt: string;
  /** Folds of the cross-validation reported in the artifact; 0 skips it. */
  readonly crossValidationFolds?: number;
  readonly bands?: BandShares;
  readonly gbt?: Partial<GbtParams>;
  readonly logreg?: Partial<LogregParams>;
  readonly features?: Partial<FeatureFitOptions>;
  readonly onProgress?: (message: string) => void;
}

export interface CrossValidationResult {
  readonly folds: number;
  readonly aucPerFold: number[];
  readonly aucMean: number;
  readonly aucSd: number;
}

interface FittedModel {
  readonly features: FeatureSpec[];
  readonly body: { readonly algorithm: 'gbt'; readonly model: GbtModel } | { readonly algorithm: 'logreg'; readonly model: LogregModel };
  readonly rounds?: number;
}

export function trainingSettings(options: Pick<TrainOptions, 'algorithm' | 'seed' | 'gbt' | 'logreg' | 'features'>): TrainingSettings {
  return {
    algorithm: options.algorithm ?? 'gbt',
    seed: options.seed ?? 1,
    gbt: { ...DEFAULT_GBT_PARAMS, ...options.gbt },
    logreg: { ...DEFAULT_LOGREG_PARAMS, ...options.logreg },
    features: { ...DEFAULT_FEATURE_FIT_OPTIONS, ...options.features },
  };
}

/** Trains on every row of the table and returns the artifact (deterministic for a given seed). */
export function trainModel(table: LabeledTable, options: TrainOptions): ModelArtifact {
  const settings = trainingSettings(options);
  const shares = options.bands ?? DEFAULT_BAND_SHARES;
  checkBandShares(shares);
  const folds = options.crossValidationFolds ?? 5;
  const progress = options.onProgress ?? (() => undefined);

  const crossValidation = folds > 0 ? crossValidate(table, settings, folds, progress) : null;
  const allRows = Uint32Array.from({ length: table.labels.length }, (_, i) => i);
  const fitted = fitOnRows(table, allRows, settings, settings.seed);
  progress(`trained ${settings.algorithm} on ${allRows.length} rows${fitted.rounds === undefined ? '' : ` (${fitted.rounds} rounds)`}`);

  const probabilities = predictRows(fitted, table, allRows);
  const sorted = probabilities.slice().sort();
  const bands: BandCutoffs = {
    highCutoff: quantileOfSorted(sorted, 1 - shares.highShare),
    mediumCutoff: quantileOfSorted(sorted, 1 - shares.highShare - shares.mediumShare),
    ...shares,
  };
  const params: Record<string, number> = { ...(settings.algorithm === 'gbt' ? settings.gbt : settings.logreg), ...settings.features };
  const positives = table.labels.reduce((sum, y) => sum + y, 0);
  const content = { algorithm: fitted.body.algorithm, features: fitted.features, model: fitted.body.model, bands };
  const common: Omit<ModelArtifact, 'algorithm' | 'model'> = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    modelVersion: `${settings.algorithm}-${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 12)}`,
    createdAt: options.createdAt,
    label: { ...table.label },
    features: fitted.features,
    ignoredColumns: [...table.ignoredColumns],
    bands,
    training: {
      rows: allRows.length,
      positives,
      seed: settings.seed,
      params,
      ...(fitted.rounds === undefined ? {} : { rounds: fitted.rounds }),
      trainAuc: areaUnderRoc(probabilities, table.labels),
      crossValidation,
    },
  };
  return fitted.body.algorithm === 'gbt'
    ? { ...common, algorithm: 'gbt', model: fitted.body.model }
    : { ...common, algorithm: 'logreg', model: fitted.body.model };
}

/**
 * Stratified k-fold cross-validation: each fold is scored by a model fitted, features and
 * all, on the other folds only, so no statistic of a scored row reaches its model.
 */
export function crossValidate(
  table: LabeledTable,
  settings: TrainingSettings,
  folds: number,
  progress: (message: string) => void = () => undefined,
): CrossValidationResult {
  if (!Number.isInteger(folds) || folds < 2) throw new RangeError('cross-validation needs an integer number of folds >= 2');
  const positives = table.labels.reduce((sum, y) => sum + y, 0);
  const minority = Math.min(positives, table.labels.length - positives);
  if (minority < folds) {
    throw new DataError(`${folds}-fold cross-validation needs at least ${folds} rows of each class; the smaller class has ${minority}`);
  }
  const allRows = Uint32Array.from({ length: table.labels.length }, (_, i) => i);
  const testFolds = stratifiedFolds(allRows, table.labels, folds, seededRandom(settings.seed + 7919));
  const aucPerFold = testFolds.map((testRows, k) => {
    const fitted = fitOnRows(table, rowsExcept(allRows, testRows), settings, settings.seed + 1000 * (k + 1));
    const auc = areaUnderRoc(
      predictRows(fitted, table, testRows),
      testRows.map((r) => table.labels[r]!),
    );
    progress(`fold ${k + 1}/${folds}: AUC ${auc.toFixed(4)}`);
    return auc;
  });
  const { mean, sd } = meanAndSd(aucPerFold);
  return { folds, aucPerFold, aucMean: mean, aucSd: sd };
}

function fitOnRows(table: LabeledTable, rows: Uint32Array, settings: TrainingSettings, seed: number): FittedModel {
  const features = fitFeatureSpecs(table, rows, settings.features);
  const encoded = encodeColumns(features, table, rows);
  const labels = Uint8Array.from(rows, (r) => table.labels[r]!);
  if (settings.algorithm === 'logreg') {
    return { features, body: { algorithm: 'logreg', model: trainLogreg(features, encoded, labels, settings.logreg) } };
  }
  const { model, rounds } = trainGbt(encoded, labels, settings.gbt, seededRandom(seed));
  return { features, body: { algorithm: 'gbt', model }, rounds };
}

function predictRows(fitted: FittedModel, table: LabeledTable, rows: Uint32Array): Float64Array {
  const encoded = encodeColumns(fitted.features, table, rows);
  const row = new Float64Array(encoded.length);
  const probabilities = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    for (let f = 0; f < encoded.length; f++) row[f] = encoded[f]![i]!;
    const logit = fitted.body.algorithm === 'gbt' ? gbtLogit(fitted.body.model, row) : logregLogit(fitted.features, fitted.body.model, row);
    probabilities[i] = sigmoid(logit);
  }
  return probabilities;
}

function checkBandShares({ highShare, mediumShare }: BandShares): void {
  if (!(highShare > 0 && highShare < 1 && mediumShare >= 0 && highShare + mediumShare < 1)) {
    throw new RangeError('band shares: high must be in (0, 1), medium >= 0, and together below 1');
  }
}
