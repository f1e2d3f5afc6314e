/**
 * From a trained model to the audience: a candidate's score is its percentile among the
 * candidates (0 least, 1 most alike), its band follows from fixed shares of them, and the audience
 * is the top share, about a count, or every band from one up.
 */
import type { Band } from '../scoring/score';
import { valueEncoder } from '../scoring/features';
import { gbtLogit } from '../scoring/gbt';
import type { FeatureRow } from './feature-rows';
import { lookalikeScoreName, type AudienceSize } from './lookalike';
import type { LookalikeModel } from './train';

/** The top 10 % of candidates are high, the next 20 % medium, the rest low. */
export const LOOKALIKE_BAND_SHARES = { high: 0.1, medium: 0.2 } as const;

export interface LookalikeScore {
  /** Percentile among the candidates, 4 decimals. */
  readonly score: number;
  readonly band: Band;
  readonly modelVersion: string;
}

export function bandOfScore(score: number): Band {
  if (score >= 1 - LOOKALIKE_BAND_SHARES.high) return 'high';
  return score >= 1 - LOOKALIKE_BAND_SHARES.high - LOOKALIKE_BAND_SHARES.medium ? 'medium' : 'low';
}

/** Where `value` falls in ascending `sorted` (0..1), interpolated, ties at the middle of their run. */
export function percentileOf(sorted: readonly number[], value: number): number {
  const last = sorted.length - 1;
  if (last <= 0) return 0.5;
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  const firstNotBelow = low;
  let afterEqual = firstNotBelow;
  while (afterEqual <= last && sorted[afterEqual] === value) afterEqual++;
  if (afterEqual > firstNotBelow) return (firstNotBelow + afterEqual - 1) / 2 / last;
  if (firstNotBelow === 0) return 0;
  if (firstNotBelow > last) return 1;
  const below = sorted[firstNotBelow - 1]!;
  const above = sorted[firstNotBelow]!;
  return (firstNotBelow - 1 + (value - below) / (above - below)) / last;
}

/** Scores feature rows with a model: one encoder per feature, one buffer reused. */
export function lookalikeScorer(model: LookalikeModel): (row: FeatureRow) => LookalikeScore {
  const encoders = model.features.map((spec) => ({ name: spec.name, encode: valueEncoder(spec) }));
  const buffer = new Float64Array(encoders.length);
  return (row) => {
    encoders.forEach(({ name, encode }, f) => {
      buffer[f] = encode(row[name]);
    });
    const score = Math.round(percentileOf(model.calibration, gbtLogit(model.model, buffer)) * 10_000) / 10_000;
    return { score, band: bandOfScore(score), modelVersion: model.modelVersion };
  };
}

/** Who is in the audience: a minimum score, or a minimum band. */
export type AudienceRule = { readonly minScore: number } | { readonly minBands: readonly Band[] };

/**
 * The rule of a size: a share s keeps scores of at least 1 - s; a count N keeps the same share of
 * the candidates as N is of their estimated number (so the audience is about N); a band keeps it
 * and the bands above.
 */
export function audienceRule(size: AudienceSize, candidatesEstimate: number): AudienceRule {
  if ('share' in size) return { minScore: round4(1 - size.share) };
  if ('count' in size) return { minScore: round4(Math.max(0, 1 - size.count / Math.max(1, candidatesEstimate))) };
  return { minBands: size.minBand === 'high' ? ['high'] : ['medium', 'high'] };
}

const round4 = (value: number): number => Math.round(value * 10_000) / 10_000;

export function isInAudience(rule: AudienceRule, score: LookalikeScore): boolean {
  return 'minScore' in rule ? score.score >= rule.minScore : rule.minBands.includes(score.band);
}

/** What the audience segment shows as its definition: the rule over the lookalike's score (kept by the lookalike's runs). */
export function audienceDefinition(lookalikeId: string, rule: AudienceRule): Record<string, unknown> {
  const score = lookalikeScoreName(lookalikeId);
  return 'minScore' in rule ? { score, op: 'gte', value: rule.minScore } : { score, band: [...rule.minBands] };
}
