import { DynamoScoreStore } from '../adapters/dynamodb-score-store';
import { DynamoLookalikeStore } from '../adapters/dynamodb-lookalike-store';
import type { LookalikeScore } from '../domain/lookalikes/audience';
import { lookalikeScoresOf } from '../domain/lookalikes/profile-lookalike-scores';
import { cachedLoader } from '../domain/shared/cached-loader';
import type { LookalikeStore } from '../ports/lookalike-store';
import type { SqsJsonQueue } from '../adapters/sqs-message-queue';
import type { IdentityConfig } from '../domain/identity/identity-config';
import type { ProfileChange } from '../domain/pipeline/messages';
import type { PurposeConfig } from '../domain/privacy/purposes';
import type { ProfileStore } from '../ports/profile-store';
import type { ScoreStore } from '../ports/score-store';
import type { SegmentStore } from '../ports/segment-store';
import type { ErasureJobs } from '../ports/erasure-jobs';
import type { WorkflowRuns } from '../ports/workflow-runs';
import { erasureJobsFromEnvironment, erasureRunsFromEnvironment } from './erasure';
import { profileChangesQueue } from './pipeline-queues';
import { profileEnvironment } from './profile-environment';

/** What the Profile API needs: the profile, score and segment stores, and the ProfileChanges queue (`PROFILE_CHANGES_QUEUE_URL`). */
export interface ProfileApiEnvironment {
  readonly profiles: ProfileStore;
  readonly identityConfig: IdentityConfig;
  readonly purposeConfig: PurposeConfig;
  /** Identifier types that expire when unseen (cookies, device ids). */
  readonly lenientTypes: readonly string[];
  readonly scores: ScoreStore;
  /** The profile's lookalike scores (docs/contract.md §11). */
  lookalikeScores(profileId: string): Promise<Record<string, LookalikeScore>>;
  readonly segments: SegmentStore;
  readonly erasureJobs: ErasureJobs;
  /** Built on first use, as the queue below: only an erasure request starts one. */
  erasureRuns(): WorkflowRuns;
  /** Built on first use: reads need no queue. */
  profileChanges(): SqsJsonQueue<ProfileChange>;
}

/** Lookalikes and where their scores are, reused this long: a run that just completed shows within it. */
const SCORED_LOOKALIKES_CACHE_MS = 10_000;

function lookalikeScoresReader(store: LookalikeStore): ProfileApiEnvironment['lookalikeScores'] {
  const scored = cachedLoader(SCORED_LOOKALIKES_CACHE_MS, async () => {
    const runs = await Promise.all(
      (await store.listLookalikes()).map((lookalike) => (lookalike.scoresRunId ? store.getRun(lookalike.id, lookalike.scoresRunId) : undefined)),
    );
    return runs.flatMap((run) => (run?.layout ? [{ lookalikeId: run.lookalikeId, layout: run.layout }] : []));
  });
  return (profileId) => lookalikeScoresOf(profileId, { scored, scoreOf: (id, layout, profile) => store.scoreOf(id, layout, profile) });
}

let cached: ProfileApiEnvironment | undefined;

export function profileApiEnvironment(env: NodeJS.ProcessEnv = process.env): ProfileApiEnvironment {
  if (cached) return cached;
  const { dynamo, tableName, store, identityConfig, purposeConfig, lenientTypes, segments } = profileEnvironment(env);
  cached = {
    profiles: store,
    identityConfig,
    purposeConfig,
    lenientTypes,
    scores: new DynamoScoreStore(dynamo, tableName),
    lookalikeScores: lookalikeScoresReader(new DynamoLookalikeStore(dynamo, tableName)),
    segments: segments,
    profileChanges: () => profileChangesQueue(env),
    erasureJobs: erasureJobsFromEnvironment(env),
    erasureRuns: () => erasureRunsFromEnvironment(env),
  };
  return cached;
}
