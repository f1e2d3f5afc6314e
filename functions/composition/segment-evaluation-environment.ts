import { definitionOf } from '../domain/segments/definition';
import type { EvaluableSegment } from '../domain/segments/rebuild/membership-diff';
import type { AudienceTransition } from '../domain/pipeline/messages';
import { DynamoRebuildStore } from '../adapters/dynamodb-rebuild-store';
import { DynamoScoreStore } from '../adapters/dynamodb-score-store';
import type { RebuildStore } from '../ports/rebuild-store';
import type { ScoreStore } from '../ports/score-store';
import type { SegmentStore } from '../ports/segment-store';
import { profileEnvironment, type ProfileEnvironment } from './profile-environment';
import type { SqsJsonQueue } from '../adapters/sqs-message-queue';
import { activationQueue } from './pipeline-queues';

/** How long the segment list is reused: a new or changed segment applies within this time. */
const SEGMENT_LIST_CACHE_MS = 5_000;

/**
 * What the real-time evaluator and the rebuild tasks share, built once per container from
 * `process.env`: the stores on the Profiles table and the Activation queue sender.
 */
export interface SegmentEvaluationEnvironment {
  readonly profiles: ProfileEnvironment;
  readonly segments: SegmentStore;
  readonly scores: ScoreStore;
  readonly activation: SqsJsonQueue<AudienceTransition>;
  /** The rebuild tasks' scans, lookups, progress and outbox. */
  readonly rebuild: RebuildStore;
  /** Every segment with a definition that parses (stored ones were validated when saved). */
  evaluableSegments(): Promise<EvaluableSegment[]>;
}

let cached: SegmentEvaluationEnvironment | undefined;

export function segmentEvaluationEnvironment(env: NodeJS.ProcessEnv = process.env): SegmentEvaluationEnvironment {
  if (cached) return cached;
  const profiles = profileEnvironment(env);
  const { dynamo, tableName, segments } = profiles;
  let list: { readonly until: number; readonly segments: Promise<EvaluableSegment[]> } | undefined;
  const loadSegments = async (): Promise<EvaluableSegment[]> =>
    (await segments.listSegments()).flatMap((segment) => {
      try {
        const webhookPurposes = [
          ...new Set(segment.destinations.flatMap((destination) => (destination.type === 'webhook' && destination.purpose ? [destination.purpose] : []))),
        ];
        return [{ id: segment.id, name: segment.name, definition: definitionOf(segment.definition), ...(webhookPurposes.length > 0 && { webhookPurposes }) }];
      } catch {
        return [];
      }
    });
  cached = {
    profiles,
    segments,
    scores: new DynamoScoreStore(dynamo, tableName),
    activation: activationQueue(env),
    rebuild: new DynamoRebuildStore(dynamo, tableName),
    evaluableSegments() {
      if (!list || list.until <= Date.now()) {
        const loading = loadSegments();
        list = { until: Date.now() + SEGMENT_LIST_CACHE_MS, segments: loading };
        // A failed load is not cached.
        loading.catch(() => {
          list = undefined;
        });
      }
      return list.segments;
    },
  };
  return cached;
}
