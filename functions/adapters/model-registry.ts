/**
 * The predictive models the score function applies, by score name. The defaults are the shipped
 * models/profile-*.json, imported so that esbuild bundles them into the Lambda; the environment
 * may replace or add models and move band cutoffs:
 * - `DMP_SCORING_MODEL_FILES`: JSON `{"<score name>": "<path to a model artifact>"}` (a file in
 *   the deployment package or a mounted layer), e.g. a model retrained on the customer's data;
 * - `DMP_SCORING_BANDS`: JSON `{"<score name>": {"highCutoff": 0.4, "mediumCutoff": 0.15}}`.
 */
import { readFileSync } from 'node:fs';
import { parseModelArtifact, type ModelArtifact } from '../domain/scoring/artifact';
import { traitOfFeature } from '../domain/scoring/model-features';
import { PROFILE_FEATURE_NAMES } from '../domain/scoring/profile-features';
import churnJson from '../../models/profile-churn.json';
import complaintJson from '../../models/profile-complaint.json';
import propensityJson from '../../models/profile-propensity.json';

const SHIPPED_MODELS: ReadonlyArray<[string, unknown]> = [
  ['propensity', propensityJson],
  ['churn', churnJson],
  ['complaint', complaintJson],
];

/** A model reading a column the platform does not compute would silently score on missing values. */
function checkFeatures(name: string, model: ModelArtifact): void {
  const known = new Set<string>(PROFILE_FEATURE_NAMES);
  const unknown = model.features.map((feature) => feature.name).filter((feature) => !known.has(feature) && traitOfFeature(feature) === undefined);
  if (unknown.length > 0) {
    throw new Error(`model "${name}" (${model.modelVersion}) reads features profiles do not have: ${unknown.join(', ')}`);
  }
}

function parseJsonVariable(env: NodeJS.ProcessEnv, variable: string): Record<string, unknown> {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return {};
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${variable} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

function withBands(name: string, model: ModelArtifact, override: unknown): ModelArtifact {
  const { highCutoff, mediumCutoff } = (override ?? {}) as { highCutoff?: unknown; mediumCutoff?: unknown };
  if (typeof highCutoff !== 'number' || typeof mediumCutoff !== 'number' || !(mediumCutoff >= 0 && mediumCutoff <= highCutoff && highCutoff <= 1)) {
    throw new Error(`DMP_SCORING_BANDS.${name} needs numbers 0 <= mediumCutoff <= highCutoff <= 1`);
  }
  return { ...model, bands: { ...model.bands, highCutoff, mediumCutoff } };
}

/** Loads, validates and returns the models by score name (once per container: the caller caches). */
export function loadScoringModels(env: NodeJS.ProcessEnv = process.env): ReadonlyMap<string, ModelArtifact> {
  const models = new Map<string, ModelArtifact>(SHIPPED_MODELS.map(([name, json]) => [name, parseModelArtifact(json)]));
  for (const [name, path] of Object.entries(parseJsonVariable(env, 'DMP_SCORING_MODEL_FILES'))) {
    if (typeof path !== 'string') throw new Error(`DMP_SCORING_MODEL_FILES.${name} must be a file path`);
    try {
      models.set(name, parseModelArtifact(JSON.parse(readFileSync(path, 'utf8'))));
    } catch (error) {
      throw new Error(`cannot load model "${name}" from ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const [name, override] of Object.entries(parseJsonVariable(env, 'DMP_SCORING_BANDS'))) {
    const model = models.get(name);
    if (!model) throw new Error(`DMP_SCORING_BANDS names "${name}", which is not a model`);
    models.set(name, withBands(name, model, override));
  }
  for (const [name, model] of models) checkFeatures(name, model);
  return models;
}
