/**
 * Retraining a predictive score on the customer's own data (docs/contract.md §14): train a
 * candidate on the examples of the earlier cut-off, then judge it and the model in service on
 * the same holdout (the latest cut-off's examples, a future the candidate never saw). The caller
 * promotes the candidate only when it is at least as good.
 */
import type { ModelArtifact } from './artifact';
import { DEFAULT_GBT_PARAMS } from './gbt';
import { areaUnderRoc, compareAucs, type AucDifference } from './metrics';
import { predictProbability } from './score';
import { trainModel } from './train';
import { labeledTableOf, type TrainingExample } from './training-examples';
import type { LabelDefinition } from './training-labels';

/** Fewer examples of either outcome than this and the candidate would learn noise. */
export const MIN_TRAINING_EXAMPLES_PER_CLASS = 20;
/** Fewer than this on either side of the holdout and its AUC says nothing. */
export const MIN_HOLDOUT_EXAMPLES_PER_CLASS = 5;

/** The data cannot train or judge a model (too few positives, ...): final, with the reason for the platform team. */
export class ModelTrainingRefusal extends Error {
  override readonly name = 'ModelTrainingRefusal';
}

export interface RetrainInput {
  readonly definition: LabelDefinition;
  readonly train: readonly TrainingExample[];
  readonly holdout: readonly TrainingExample[];
  /** Traits the candidate learns from, beside the behavioural features. */
  readonly traits: readonly string[];
  /** Readable names of trait features in explanations, by feature column. */
  readonly featureLabels: Readonly<Record<string, string>>;
  /** The model in service, judged on the same holdout. */
  readonly current: ModelArtifact;
  /** Recorded in the artifact; passed in so retraining stays a pure function. */
  readonly createdAt: string;
  readonly seed?: number;
}

export interface ExampleCounts {
  readonly rows: number;
  readonly positives: number;
}

export interface RetrainResult {
  readonly candidate: ModelArtifact;
  readonly candidateAuc: number;
  readonly currentAuc: number;
  /** Candidate minus model in service on the holdout, with its 95 % interval (DeLong). */
  readonly comparison: AucDifference;
  /** Worth promoting (PROMOTION_MARGIN): better on the holdout, and not credibly worse. */
  readonly better: boolean;
  readonly trainCounts: ExampleCounts;
  readonly holdoutCounts: ExampleCounts;
}

export function countsOf(examples: readonly TrainingExample[]): ExampleCounts {
  return { rows: examples.length, positives: examples.reduce((sum, example) => sum + example.label, 0) };
}

function requireBothClasses(counts: ExampleCounts, minimum: number, what: string, definition: LabelDefinition): void {
  const negatives = counts.rows - counts.positives;
  if (counts.positives >= minimum && negatives >= minimum) return;
  throw new ModelTrainingRefusal(
    `too few examples to ${what}: ${counts.positives} positive (${definition.description}) and ${negatives} negative of ${counts.rows} profiles; ` +
      `at least ${minimum} of each are needed`,
  );
}

const probabilitiesOn = (model: ModelArtifact, examples: readonly TrainingExample[]): Float64Array =>
  Float64Array.from(examples, (example) => predictProbability(model, example.row).probability);

/** AUC of a model on examples (each row holds every column the model reads). */
export function aucOn(model: ModelArtifact, examples: readonly TrainingExample[]): number {
  return areaUnderRoc(
    probabilitiesOn(model, examples),
    Uint8Array.from(examples, (example) => example.label),
  );
}

/**
 * How much worse than the model in service a candidate may credibly be and still be promoted:
 * the lower end of the 95 % interval of the AUC difference. A candidate that is better on the
 * holdout, by more than the holdout can tell from noise, or by a little without being credibly
 * worse, learns from the customer's latest data; one that is not better is never promoted (a tie
 * would only move bands and segments for nothing).
 */
export const PROMOTION_MARGIN = 0.01;

export const worthPromoting = (comparison: AucDifference): boolean => comparison.difference > 0 && comparison.low > -PROMOTION_MARGIN;

export function retrain(input: RetrainInput): RetrainResult {
  const trainCounts = countsOf(input.train);
  const holdoutCounts = countsOf(input.holdout);
  requireBothClasses(trainCounts, MIN_TRAINING_EXAMPLES_PER_CLASS, 'train a candidate', input.definition);
  requireBothClasses(holdoutCounts, MIN_HOLDOUT_EXAMPLES_PER_CLASS, 'compare it with the model in service', input.definition);
  const trained = trainModel(labeledTableOf(input.train, input.traits, input.definition.column), {
    createdAt: input.createdAt,
    seed: input.seed ?? 1,
    // The time-split holdout is the validation that counts; k folds of the same period would only cost time.
    crossValidationFolds: 0,
    // A small customer base still gets splits: leaves of a twentieth of the rows, 5 to the default at most.
    gbt: { minLeafSize: Math.max(5, Math.min(DEFAULT_GBT_PARAMS.minLeafSize, Math.floor(trainCounts.rows / 20))) },
  });
  const candidate: ModelArtifact = Object.keys(input.featureLabels).length > 0 ? { ...trained, featureLabels: { ...input.featureLabels } } : trained;
  const labels = Uint8Array.from(input.holdout, (example) => example.label);
  const candidateScores = probabilitiesOn(candidate, input.holdout);
  const currentScores = probabilitiesOn(input.current, input.holdout);
  const comparison = compareAucs(candidateScores, currentScores, labels);
  return {
    candidate,
    candidateAuc: areaUnderRoc(candidateScores, labels),
    currentAuc: areaUnderRoc(currentScores, labels),
    comparison,
    better: worthPromoting(comparison),
    trainCounts,
    holdoutCounts,
  };
}
