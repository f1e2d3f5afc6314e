import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoLiveProfiles } from '../adapters/dynamodb-live-profiles';
import { DynamoScoreStore } from '../adapters/dynamodb-score-store';
import { SegmentRebuildRuns } from '../adapters/segment-rebuild-runs';
import type { IdentityConfig } from '../domain/identity/identity-config';
import type { PurposeConfig } from '../domain/privacy/purposes';
import type { LiveProfiles } from '../ports/live-profiles';
import type { ProfileStore } from '../ports/profile-store';
import type { RebuildRuns } from '../ports/rebuild-runs';
import type { ScoreStore } from '../ports/score-store';
import type { SegmentStore } from '../ports/segment-store';
import type { AttributionStore } from '../ports/attribution-store';
import { attributionEnvironment } from './attribution';
import { DynamoDecisionFacts, DynamoOfferStore } from '../adapters/dynamodb-offer-store';
import type { DecisionFactsReader, OfferStore } from '../ports/offer-store';
import { profileEnvironment } from './profile-environment';
import { DynamoLookalikeStore } from '../adapters/dynamodb-lookalike-store';
import { StepFunctionsLookalikeRuns } from '../adapters/lookalike-runs';
import type { LookalikeRuns } from '../ports/lookalike-runs';
import type { LookalikeStore } from '../ports/lookalike-store';

/**
 * What the Segments API needs: the stores on the profiles table (`PROFILES_TABLE_NAME`) and, when
 * `SEGMENT_REBUILD_STATE_MACHINE_ARN` is set, rebuild runs and per-segment schedules
 * (`SCHEDULER_ROLE_ARN`, `SEGMENT_SCHEDULE_GROUP`).
 */
export interface SegmentApiEnvironment {
  readonly segments: SegmentStore;
  readonly profiles: ProfileStore;
  readonly liveProfiles: LiveProfiles;
  readonly scores: ScoreStore;
  readonly identityConfig: IdentityConfig;
  readonly purposeConfig: PurposeConfig;
  /** Absent when no rebuild state machine is configured. */
  readonly rebuilds?: RebuildRuns;
  /** Lookalikes (each keeps an audience segment); runs and schedules when `LOOKALIKE_STATE_MACHINE_ARN` is set. */
  readonly lookalikes: LookalikeStore;
  readonly lookalikeRuns?: LookalikeRuns;
  /** Offers (an inline eligibility is a segment they manage) and what decisions read of a profile. */
  readonly offers: OfferStore;
  readonly decisionFacts: DecisionFactsReader;
  /** Ad platform exports count their reach and leave the global control group out. */
  readonly attribution: Pick<AttributionStore, 'recordTouches'>;
  inControlGroup(profileId: string): Promise<boolean>;
}

let cached: SegmentApiEnvironment | undefined;

export function segmentApiEnvironment(logger: Logger, env: NodeJS.ProcessEnv = process.env): SegmentApiEnvironment {
  if (cached) return cached;
  const { dynamo, tableName, store, identityConfig, purposeConfig, segments } = profileEnvironment(env);
  const stateMachineArn = env.SEGMENT_REBUILD_STATE_MACHINE_ARN;
  const lookalikeStateMachineArn = env.LOOKALIKE_STATE_MACHINE_ARN;
  const lookalikes = new DynamoLookalikeStore(dynamo, tableName);
  const { attribution, controlGroup } = attributionEnvironment(env);
  cached = {
    segments,
    profiles: store,
    liveProfiles: new DynamoLiveProfiles(dynamo, tableName),
    scores: new DynamoScoreStore(dynamo, tableName),
    identityConfig,
    purposeConfig,
    attribution,
    offers: new DynamoOfferStore(dynamo, tableName),
    lookalikes,
    ...(lookalikeStateMachineArn && {
      lookalikeRuns: new StepFunctionsLookalikeRuns({
        store: lookalikes,
        stateMachineArn: lookalikeStateMachineArn,
        logger,
        ...(env.LOOKALIKE_SCHEDULER_ROLE_ARN && { schedulerRoleArn: env.LOOKALIKE_SCHEDULER_ROLE_ARN }),
        ...(env.SEGMENT_SCHEDULE_GROUP && { scheduleGroup: env.SEGMENT_SCHEDULE_GROUP }),
      }),
    }),
    decisionFacts: new DynamoDecisionFacts(dynamo, tableName),
    inControlGroup: (profileId) => controlGroup.contains(profileId),
    ...(stateMachineArn && {
      rebuilds: new SegmentRebuildRuns({
        store: segments,
        stateMachineArn,
        logger,
        ...(env.SCHEDULER_ROLE_ARN && { schedulerRoleArn: env.SCHEDULER_ROLE_ARN }),
        ...(env.SEGMENT_SCHEDULE_GROUP && { scheduleGroup: env.SEGMENT_SCHEDULE_GROUP }),
      }),
    }),
  };
  return cached;
}
