import * as z from 'zod';
import { LOOKALIKE_ID_PATTERN } from '../domain/lookalikes/lookalike';
import { destinations, schedule, segmentId } from './segments';

/**
 * Request bodies of the lookalikes API (docs/contract.md §11, README "Lookalikes"). Unknown
 * fields are refused, so a typo never silently changes an audience.
 */

/** A lookalike is refreshed daily unless told otherwise. */
export const DEFAULT_LOOKALIKE_SCHEDULE = 'rate(1 day)';

const size = z.union(
  [
    z.strictObject({ share: z.number().gt(0, 'share must be above 0').max(1, 'share is at most 1') }),
    z.strictObject({ count: z.int().positive('count must be a positive whole number') }),
    z.strictObject({ minBand: z.enum(['medium', 'high']) }),
  ],
  { error: 'size is {"share": 0..1}, {"count": N} or {"minBand": "medium"|"high"}' },
);

const featureName = z
  .string()
  .regex(/^(trait|computed|score):[^\s].{0,199}$/, 'a feature is trait:<name>, computed:<name> or score:<name>')
  .refine((name) => !name.startsWith('score:lookalike:'), 'a lookalike does not learn from lookalike scores');

const featureList = z
  .array(featureName)
  .max(200)
  .refine((names) => new Set(names).size === names.length, 'each feature once');

const lookalikeBody = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2_000).optional(),
  seed: segmentId,
  candidates: segmentId.optional(),
  size,
  features: z.strictObject({ include: featureList.optional(), exclude: featureList.optional() }).optional(),
  schedule: schedule.optional(),
  destinations: destinations.optional(),
};

export const createLookalikeBody = z.strictObject({
  id: z.string().regex(LOOKALIKE_ID_PATTERN, 'id is 1-38 lower-case letters, digits, - or _ (its audience segment is lookalike-<id>)').optional(),
  ...lookalikeBody,
});

export const updateLookalikeBody = z.strictObject({
  ...lookalikeBody,
  /** Optimistic locking: the version the client read; 409 when the lookalike changed since. */
  version: z.int().positive().optional(),
});

export type LookalikeRequestBody = z.infer<typeof updateLookalikeBody>;
