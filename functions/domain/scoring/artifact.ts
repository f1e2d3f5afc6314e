/**
 * The model artifact: versioned JSON holding everything needed to score a profile (feature
 * encodings, trees or weights, band cutoffs) and how the model was trained and how well it did.
 * The schema is the single source of the artifact's types.
 */
import * as z from 'zod';

export const MODEL_FORMAT = 'serverless-cdp.scoring-model';
export const MODEL_FORMAT_VERSION = 1;

const numericFeatureSchema = z.object({
  name: z.string().min(1),
  kind: z.literal('numeric'),
  mean: z.number(),
  /** Standard deviation on the training rows; 0 for a constant column. */
  std: z.number().nonnegative(),
  /** 25th, 50th and 75th percentiles: explanations call a value low or high against them. */
  quartiles: z.tuple([z.number(), z.number(), z.number()]),
  missingShare: z.number().min(0).max(1),
});

const categoricalLevelSchema = z.object({
  value: z.string(),
  share: z.number().min(0).max(1),
  /** Smoothed share of positives among training rows with this value. */
  positiveRate: z.number().min(0).max(1),
  /** The level pooling rare values and values never seen in training. */
  pooled: z.boolean().optional(),
});

const categoricalFeatureSchema = z.object({
  name: z.string().min(1),
  kind: z.literal('categorical'),
  /**
   * Levels ordered by ascending positive rate (a target statistic); a value's code is its
   * position, so one tree threshold separates low-rate levels from high-rate ones.
   */
  levels: z.array(categoricalLevelSchema).min(1),
  otherLevel: z.int().nonnegative(),
  missingShare: z.number().min(0).max(1),
});

export const featureSpecSchema = z.discriminatedUnion('kind', [numericFeatureSchema, categoricalFeatureSchema]);

/**
 * One regression tree as parallel arrays indexed by node (root 0). A leaf has feature -1.
 * An internal node sends a row left when its encoded value is <= threshold, or when the value
 * is missing and missingLeft is set. `value` is the node's output (log-odds, learning rate
 * applied), kept for internal nodes too so predictions can be attributed to features.
 */
const treeSchema = z.object({
  feature: z.array(z.int().min(-1)),
  threshold: z.array(z.number()),
  missingLeft: z.array(z.boolean()),
  left: z.array(z.int().min(-1)),
  right: z.array(z.int().min(-1)),
  value: z.array(z.number()),
});

const bandsSchema = z.object({
  /** Probability at or above which a row is in the high band. */
  highCutoff: z.number().min(0).max(1),
  /** Probability at or above which a row below highCutoff is in the medium band. */
  mediumCutoff: z.number().min(0).max(1),
  highShare: z.number().gt(0).lt(1),
  mediumShare: z.number().min(0).lt(1),
});

const crossValidationSchema = z.object({
  folds: z.int().min(2),
  aucMean: z.number(),
  aucSd: z.number(),
  aucPerFold: z.array(z.number()),
});

const trainingSchema = z.object({
  rows: z.int().positive(),
  positives: z.int().positive(),
  seed: z.int(),
  /** Hyperparameters of the chosen algorithm. */
  params: z.record(z.string(), z.number()),
  /** Boosting rounds kept after early stopping (trees only). */
  rounds: z.int().nonnegative().optional(),
  /** AUC on the training rows themselves: optimistic, compare with cv. */
  trainAuc: z.number(),
  /** Stratified k-fold AUC: what to expect on rows the model never saw. */
  crossValidation: crossValidationSchema.nullable(),
});

const commonFields = {
  format: z.literal(MODEL_FORMAT),
  version: z.literal(MODEL_FORMAT_VERSION),
  /** Identifies this trained model (content hash): recorded with every score it produces. */
  modelVersion: z.string().min(1),
  createdAt: z.iso.datetime(),
  label: z.object({ column: z.string(), positive: z.string() }),
  features: z.array(featureSpecSchema).min(1),
  /** Columns of the training file the model deliberately does not use. */
  ignoredColumns: z.array(z.string()),
  /** Readable names of features in explanations (configured trait features), by feature name. */
  featureLabels: z.record(z.string(), z.string()).optional(),
  bands: bandsSchema,
  training: trainingSchema,
};

const gbtArtifactSchema = z.object({
  ...commonFields,
  algorithm: z.literal('gbt'),
  model: z.object({ baseLogit: z.number(), trees: z.array(treeSchema) }),
});

const logregArtifactSchema = z.object({
  ...commonFields,
  algorithm: z.literal('logreg'),
  model: z.object({
    intercept: z.number(),
    /** One weight per numeric feature, then one per level of each categorical, in feature order. */
    weights: z.array(z.number()),
    /** Standardized values are clipped to +-clip so one extreme value cannot dominate. */
    clip: z.number().positive(),
  }),
});

export const modelArtifactSchema = z.discriminatedUnion('algorithm', [gbtArtifactSchema, logregArtifactSchema]);

export type FeatureSpec = z.infer<typeof featureSpecSchema>;
export type NumericFeatureSpec = z.infer<typeof numericFeatureSchema>;
export type CategoricalFeatureSpec = z.infer<typeof categoricalFeatureSchema>;
export type RegressionTree = z.infer<typeof treeSchema>;
export type GbtModel = z.infer<typeof gbtArtifactSchema>['model'];
export type LogregModel = z.infer<typeof logregArtifactSchema>['model'];
export type BandCutoffs = z.infer<typeof bandsSchema>;
export type TrainingSummary = z.infer<typeof trainingSchema>;
export type ModelArtifact = z.infer<typeof modelArtifactSchema>;
export type Algorithm = ModelArtifact['algorithm'];

/** Validates parsed JSON as a model artifact; throws an Error naming what is wrong. */
export function parseModelArtifact(json: unknown): ModelArtifact {
  const header = z.object({ format: z.string(), version: z.number() }).safeParse(json);
  if (header.success && (header.data.format !== MODEL_FORMAT || header.data.version !== MODEL_FORMAT_VERSION)) {
    throw new Error(`unsupported model artifact ${header.data.format} v${header.data.version}: this code reads ${MODEL_FORMAT} v${MODEL_FORMAT_VERSION}`);
  }
  const parsed = modelArtifactSchema.safeParse(json);
  if (!parsed.success) throw new Error(`invalid model artifact: ${z.prettifyError(parsed.error)}`);
  checkStructure(parsed.data);
  return parsed.data;
}

/** What the schema cannot say: indices point where they must, so scoring never loops or reads out of range. */
function checkStructure(artifact: ModelArtifact): void {
  artifact.features.forEach((spec) => {
    if (spec.kind === 'categorical' && spec.otherLevel >= spec.levels.length) {
      throw new Error(`invalid model artifact: feature "${spec.name}" has otherLevel out of range`);
    }
  });
  if (artifact.algorithm === 'logreg') {
    const expected = artifact.features.reduce((n, spec) => n + (spec.kind === 'numeric' ? 1 : spec.levels.length), 0);
    if (artifact.model.weights.length !== expected) {
      throw new Error(`invalid model artifact: ${artifact.model.weights.length} weights for ${expected} encoded inputs`);
    }
    return;
  }
  artifact.model.trees.forEach((tree, t) => {
    const size = tree.feature.length;
    const lengths = [tree.threshold, tree.missingLeft, tree.left, tree.right, tree.value].map((a) => a.length);
    if (size === 0 || lengths.some((length) => length !== size)) {
      throw new Error(`invalid model artifact: tree ${t} has arrays of different lengths`);
    }
    for (let node = 0; node < size; node++) {
      const feature = tree.feature[node]!;
      if (feature < 0) continue;
      const left = tree.left[node]!;
      const right = tree.right[node]!;
      // Children after their parent: every walk from the root ends at a leaf.
      if (feature >= artifact.features.length || left <= node || right <= node || left >= size || right >= size) {
        throw new Error(`invalid model artifact: tree ${t} node ${node} points out of range`);
      }
    }
  });
}
