/** How many profiles a run trains on, and drawing them. */
import { type Random, sampleSorted } from '../scoring/random';
import { fnv1a } from '../shared/string-hash';
import { BACKGROUND_PER_SEED, MAX_BACKGROUND, MAX_SEED_SAMPLE, MIN_BACKGROUND } from './lookalike';

/** Seed members trained on: all of them up to MAX_SEED_SAMPLE. */
export const seedSampleSize = (seedSize: number): number => Math.min(seedSize, MAX_SEED_SAMPLE);

/** Background profiles wanted: a few times the seed sample, within bounds (fewer when there are fewer candidates). */
export const backgroundTarget = (seedSample: number): number => Math.min(MAX_BACKGROUND, Math.max(MIN_BACKGROUND, BACKGROUND_PER_SEED * seedSample));

/** `count` of `items` drawn without replacement (all of them when there are not more). */
export function sampleOf<T>(items: readonly T[], count: number, random: Random): T[] {
  if (items.length <= count) return [...items];
  return Array.from(
    sampleSorted(
      Uint32Array.from({ length: items.length }, (_, i) => i),
      count,
      random,
    ),
    (i) => items[i]!,
  );
}

/** A stable number from a run id: the run's samples and trees are drawn from it. */
export const randomSeedOf = (runId: string): number => fnv1a(runId);
