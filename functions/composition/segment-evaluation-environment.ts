import { callCenterTarget } from '../domain/activation/call-center';
import { definitionOf } from '../domain/segments/definition';
import { lookalikeIdOfAudience } from '../domain/lookalikes/lookalike';
import type { EvaluableSegment } from '../domain/segments/rebuild/membership-diff';
import type { AudienceTransition } from '../domain/pipeline/messages';
import { DynamoRebuildStore } from '../adapters/dynamodb-rebuild-store';
import { DynamoScoreStore } from '../adapters/dynamodb-score-store';
import type { RebuildStore } from '../ports/rebuild-store';
import type { DecisionFactsWriter } from '../ports/offer-store';
import { DynamoDecisionFacts } from '../adapters/dynamodb-offer-store';
import type { ScoreStore } from '../ports/score-store';
import type { SegmentStore } from '../ports/segment-store';
import { profileEnvironment, type ProfileEnvironment } from './profile-environment';
import type { SqsJsonQueue } from '../adapters/sqs-message-queue';
import { activationQueue } from './pipeline-queues';
import { cachedLoader } from '../domain/shared/cached-loader';

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
  /** What decisions read of a profile besides its memberships (granted purposes, merges). */
  readonly decisionFacts: DecisionFactsWriter;
  /**
   * Every segment with a definition that parses (stored ones were validated when saved), cached
   * SEGMENT_LIST_CACHE_MS and reloaded at once when the catalog's version moved: a batch that
   * reads the version first evaluates its changes against every segment created before them, so
   * no change slips between a new segment's first rebuild and the cache.
   */
  evaluableSegments(catalogVersion: number): Promise<EvaluableSegment[]>;
}

let cached: SegmentEvaluationEnvironment | undefined;

export function segmentEvaluationEnvironment(env: NodeJS.ProcessEnv = process.env): SegmentEvaluationEnvironment {
  if (cached) return cached;
  const profiles = profileEnvironment(env);
  const { dynamo, tableName, segments } = profiles;
  let list: { readonly version: number; readonly load: () => Promise<EvaluableSegment[]> } | undefined;
  const loadSegments = async (): Promise<EvaluableSegment[]> =>
    (await segments.listSegments()).flatMap((segment) => {
      // A lookalike's audience follows its scores, which its runs keep; no profile change moves it.
      if (lookalikeIdOfAudience(segment.id) !== undefined) return [];
      try {
        const webhookPurposes = [
          ...new Set(
            segment.destinations.flatMap((destination) =>
              destination.type === 'webhook' && destination.purpose
                ? [destination.purpose]
                : destination.type === 'call_center'
                  ? [callCenterTarget(destination).purpose]
                  : [],
            ),
          ),
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
    decisionFacts: new DynamoDecisionFacts(dynamo, tableName),
    evaluableSegments: (catalogVersion) => {
      if (!list || list.version !== catalogVersion) list = { version: catalogVersion, load: cachedLoader(SEGMENT_LIST_CACHE_MS, loadSegments) };
      return list.load();
    },
  };
  return cached;
}
