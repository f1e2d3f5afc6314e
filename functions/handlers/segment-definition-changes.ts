import type { Logger } from '@aws-lambda-powertools/logger';
import type { SegmentApiEnvironment } from '../composition/segment-api';
import type { SegmentRecord } from '../ports/segment-store';
import { parseSegmentDefinition, type SegmentDefinition } from '../domain/segments/definition';
import { BadRequestError } from '../http/errors';
import { isLookalikeScoreName } from '../domain/lookalikes/lookalike';

/** Checking and saving segment definitions, for the segments API and the offers that manage a segment. */

/** 400 with the JSON path of every wrong part (docs/contract.md §7). */
export function validDefinition(json: unknown): SegmentDefinition {
  const parsed = parseSegmentDefinition(json, 'definition');
  if (!parsed.ok) throw new BadRequestError(parsed.errors);
  const onLookalikes = lookalikeScorePaths(json, 'definition');
  if (onLookalikes.length > 0)
    throw new BadRequestError(
      onLookalikes.map((path) => ({
        path,
        reason: "lookalike scores are kept by the lookalike's runs, not by segments: use its audience segment (lookalike-<id>) and its size",
      })),
    );
  return parsed.definition;
}

/** Paths of `score` conditions on a lookalike's score: segments cannot be evaluated on them (they live with the lookalike's runs). */
function lookalikeScorePaths(json: unknown, path: string): string[] {
  if (Array.isArray(json)) return json.flatMap((item, index) => lookalikeScorePaths(item, `${path}[${index}]`));
  if (json === null || typeof json !== 'object') return [];
  const record = json as Record<string, unknown>;
  const own = typeof record.score === 'string' && isLookalikeScoreName(record.score) ? [`${path}.score`] : [];
  return [...own, ...Object.entries(record).flatMap(([key, value]) => (key === 'score' ? [] : lookalikeScorePaths(value, `${path}.${key}`)))];
}

/**
 * A new or changed definition is rebuilt at once so existing profiles are counted; real-time
 * evaluation covers later changes. Without a state machine (unit deployments) it waits for the next change.
 */
export async function rebuildForDefinition(
  { rebuilds }: Pick<SegmentApiEnvironment, 'rebuilds'>,
  segment: SegmentRecord,
  now: Date,
  logger: Logger,
): Promise<string | undefined> {
  if (!rebuilds) return undefined;
  try {
    return (await rebuilds.start(segment, 'definition', now)).runId;
  } catch (error) {
    logger.error('rebuild after a definition change could not start', { segmentId: segment.id, error: error as Error });
    return undefined;
  }
}

/** The segment's schedule follows its `schedule` field (nothing to do without rebuilds). */
export const syncSchedule = ({ rebuilds }: Pick<SegmentApiEnvironment, 'rebuilds'>, segmentId: string, expression: string | null): Promise<void> =>
  rebuilds?.syncSchedule(segmentId, expression) ?? Promise.resolve();
