import type { Logger } from '@aws-lambda-powertools/logger';
import type { SegmentApiEnvironment } from '../composition/segment-api';
import type { SegmentRecord } from '../ports/segment-store';
import { parseSegmentDefinition, type SegmentDefinition } from '../domain/segments/definition';
import { BadRequestError } from '../http/errors';

/** Checking and saving segment definitions, for the segments API and the offers that manage a segment. */

/** 400 with the JSON path of every wrong part (docs/contract.md §7). */
export function validDefinition(json: unknown): SegmentDefinition {
  const parsed = parseSegmentDefinition(json, 'definition');
  if (!parsed.ok) throw new BadRequestError(parsed.errors);
  return parsed.definition;
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
