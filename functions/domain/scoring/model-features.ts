/**
 * What a predictive model reads about a profile: the behavioural features every model has
 * (profile-features.ts) and the traits configured for that model (docs/contract.md §14), first-,
 * second- or third-party alike, as `trait:<name>` columns. One function builds the row for the
 * training export and for online scoring, so the two cannot drift apart.
 */
import * as z from 'zod';
import type { ModelArtifact } from './artifact';
import { type FeatureSource, PROFILE_FEATURE_NAMES, type ProfileFeatures, profileFeatures } from './profile-features';
import { isPersonalTrait } from '../profile/traits';
import { parseNumber } from './table';

export const TRAIT_FEATURE_PREFIX = 'trait:';

/** Traits a model may learn from at most: each is a column of every training row. */
export const MAX_TRAIT_FEATURES = 50;

/** A feature value: a number, a category (text), or null when unknown (the models treat it as missing). */
export type ModelFeatureValue = number | string | null;
export type ModelFeatureRow = Readonly<Record<string, ModelFeatureValue>>;

export const traitFeatureName = (trait: string): string => `${TRAIT_FEATURE_PREFIX}${trait}`;

/** The trait a feature column reads, for a `trait:` column. */
export function traitOfFeature(feature: string): string | undefined {
  return feature.startsWith(TRAIT_FEATURE_PREFIX) ? feature.slice(TRAIT_FEATURE_PREFIX.length) : undefined;
}

/** The traits a trained model reads (its `trait:` features). */
export function traitsOfModel(model: Pick<ModelArtifact, 'features'>): string[] {
  return model.features.map((spec) => traitOfFeature(spec.name)).filter((trait): trait is string => trait !== undefined);
}

/** Every column a model may read: the behavioural features, then one per configured trait. */
export function modelFeatureNames(traits: readonly string[]): string[] {
  return [...PROFILE_FEATURE_NAMES, ...traits.map(traitFeatureName)];
}

const TRUE_WORDS = new Set(['true', 'yes', 'y']);
const FALSE_WORDS = new Set(['false', 'no', 'n']);

/**
 * A trait value as a model reads it: numbers as numbers; booleans, and the words imports carry for
 * them ("true", "yes", "false", "no"), as 1 and 0; numeric text as its number; other text as a
 * category; anything else (absent, empty, a list or an object) as unknown.
 */
export function traitFeatureValue(value: unknown): ModelFeatureValue {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text === '') return null;
  const word = text.toLowerCase();
  if (TRUE_WORDS.has(word)) return 1;
  if (FALSE_WORDS.has(word)) return 0;
  return parseNumber(text) ?? text;
}

/** A profile's row for a model reading `traits` besides the behavioural features, at `now`. */
export function modelFeatureRow(source: FeatureSource, now: Date, traits: readonly string[]): ModelFeatureRow {
  return withTraitFeatures(profileFeatures(source, now), source.traits, traits);
}

/** The behavioural features of a profile with its `traits` columns added (several models, one behaviour row). */
export function withTraitFeatures(behaviour: ProfileFeatures, traitValues: FeatureSource['traits'], traits: readonly string[]): ModelFeatureRow {
  const row: Record<string, ModelFeatureValue> = { ...behaviour };
  for (const trait of traits) row[traitFeatureName(trait)] = traitFeatureValue(traitValues[trait]);
  return row;
}

/** Trait names a model may learn from: a profile trait's name, never a contact or identity trait. */
export const traitFeatureSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a trait name is 1-64 letters, digits, _ . or -')
  .refine((name) => !isPersonalTrait(name), 'contact and identity traits (email, phone, names, address, birthday) are personal data, never a model feature');

/** Readable names of trait features in explanations, e.g. `{"price_comparison": "browses price-comparison sites"}`. */
export const featureLabelSchema = z.string().trim().min(1).max(80);

/** `PUT /v1/models/{score}/features` (docs/contract.md §14). */
export const featureConfigBody = z
  .strictObject({
    traits: z
      .array(traitFeatureSchema)
      .max(MAX_TRAIT_FEATURES)
      .refine((traits) => new Set(traits).size === traits.length, 'traits lists each trait once'),
    labels: z.record(z.string(), featureLabelSchema).optional(),
  })
  .superRefine((body, context) => {
    for (const name of Object.keys(body.labels ?? {})) {
      if (!body.traits.includes(name)) context.addIssue({ code: 'custom', path: ['labels', name], message: `"${name}" is not one of the traits` });
    }
  });

export type FeatureConfig = z.infer<typeof featureConfigBody>;

/** The explanation labels of a model's trait features, keyed by feature column. */
export function featureLabelsOf(config: FeatureConfig): Record<string, string> {
  return Object.fromEntries(Object.entries(config.labels ?? {}).map(([trait, label]) => [traitFeatureName(trait), label]));
}
