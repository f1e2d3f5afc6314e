/**
 * Lookalike audiences (docs/contract.md §11, README "Lookalikes"): the people most like the
 * members of a seed segment, scored by a model trained on the seed against a background sample of
 * the candidates, and kept as an ordinary segment (`lookalike-<id>`) the lookalike manages.
 */
import type { SegmentDestination } from '../../ports/segment-store';

/** Its audience segment's id, `lookalike-<id>`, stays within the 48 characters of a segment id. */
export const LOOKALIKE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,37}$/;

/** The audience: a share of the candidates, about a number of them, or everyone from a band up. */
export type AudienceSize = { readonly share: number } | { readonly count: number } | { readonly minBand: 'medium' | 'high' };

/** Which features the model learns from, beside the default choice (README "Lookalikes"). */
export interface FeatureChoice {
  /** Feature names (`trait:<name>`, `computed:<name>`, `score:<name>`) always offered, even below the coverage or when the seed tests them. */
  readonly include?: readonly string[];
  /** Feature names never used. */
  readonly exclude?: readonly string[];
}

export interface LookalikeFields {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  /** The segment whose members the audience should resemble. */
  readonly seed: string;
  /** The segment the audience is drawn from; every profile when absent. The seed's members are never candidates. */
  readonly candidates?: string;
  readonly size: AudienceSize;
  readonly features?: FeatureChoice;
  /** EventBridge Scheduler `rate(...)` of the refresh runs, or null for none. */
  readonly schedule: string | null;
  /** Copied to the audience segment: webhooks, journeys, hashed exports. */
  readonly destinations: readonly SegmentDestination[];
}

export interface Lookalike extends LookalikeFields {
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Incremented by every update (optimistic locking). */
  readonly version: number;
  /** The run whose scores profiles show (the last completed one). */
  readonly scoresRunId?: string;
  /** The newest run started. */
  readonly lastRunId?: string;
}

/** The audience segment of a lookalike: managed by it, changed only through it. */
const AUDIENCE_PREFIX = 'lookalike-';

export const audienceSegmentIdOf = (lookalikeId: string): string => `${AUDIENCE_PREFIX}${lookalikeId}`;

/** The lookalike a segment id is the audience of, when it is one. */
export function lookalikeIdOfAudience(segmentId: string): string | undefined {
  return segmentId.startsWith(AUDIENCE_PREFIX) ? segmentId.slice(AUDIENCE_PREFIX.length) : undefined;
}

/** A lookalike's score among a profile's scores: `scores["lookalike:<id>"]`. */
const SCORE_PREFIX = 'lookalike:';

export const lookalikeScoreName = (lookalikeId: string): string => `${SCORE_PREFIX}${lookalikeId}`;

export const isLookalikeScoreName = (name: string): boolean => name.startsWith(SCORE_PREFIX);

/** Below this many seed members a run fails: too few to learn anything. */
export const MIN_SEED_TO_TRAIN = 20;
/** Below this many seed members a run completes with a warning: validation figures are unreliable. */
export const RECOMMENDED_SEED = 200;

/** Seed members and background profiles a model is trained on at most (sampled above). */
export const MAX_SEED_SAMPLE = 5_000;
/** The background: this many times the seed sample, at least MIN_BACKGROUND, at most MAX_BACKGROUND. */
export const BACKGROUND_PER_SEED = 4;
export const MIN_BACKGROUND = 10_000;
export const MAX_BACKGROUND = 15_000;

export type RunStatus = 'running' | 'completed' | 'failed';

/** A run still marked running after this long died without its failure handler (the state machine times out at 6 h). */
const RUN_TIMEOUT_MS = 6 * 3_600_000;

/** Whether `run` is in progress at `now`: a lookalike runs one at a time (its runs alone write its audience). */
export function isInProgress(run: { readonly status: RunStatus; readonly startedAt: string } | undefined, now: Date): boolean {
  return run?.status === 'running' && now.getTime() - Date.parse(run.startedAt) < RUN_TIMEOUT_MS;
}

export interface TopFeature {
  readonly feature: string;
  /** Share of the model's attribution (mean absolute log-odds contribution), 0..1. */
  readonly importance: number;
  /** How the seed differs: a higher or lower number, or a value more common among them. */
  readonly direction: 'higher' | 'lower' | 'value';
  /** For a value more common among the seed: that value; customers and others are then its shares. */
  readonly value?: string;
  /** The seed's median (or the value's share among them), and the background's. */
  readonly customers: number | null;
  readonly others: number | null;
  /** A sentence a marketer reads. */
  readonly label: string;
}

/** One training and scoring run, as `GET /v1/lookalikes/{id}` shows the last one. */
export interface LookalikeRun {
  readonly lookalikeId: string;
  readonly runId: string;
  readonly status: RunStatus;
  readonly trigger: 'api' | 'definition' | 'schedule';
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  /** Members of the seed segment when the run started. */
  readonly seedSize?: number;
  /** Candidate profiles scored (the seed and people who object to analytics left out). */
  readonly candidates?: number;
  readonly audienceSize?: number;
  /** Validation on held-out seed members against held-out background profiles. */
  readonly auc?: number;
  /** How much more often held-out seed members rank in the background's top 10 % than chance (at most 10). */
  readonly liftAt10?: number;
  readonly topFeatures?: readonly TopFeature[];
  /** Profiles trained on, features and trees of the model, and how long sampling and training took. */
  readonly training?: { readonly seed: number; readonly background: number; readonly features: number; readonly rounds: number; readonly durationMs: number };
  readonly bands?: { readonly high: number; readonly medium: number; readonly low: number };
  readonly modelVersion?: string;
  readonly warnings: readonly string[];
  readonly error?: string;
}
