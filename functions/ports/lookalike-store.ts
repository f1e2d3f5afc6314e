import type { LookalikeScore } from '../domain/lookalikes/audience';
import type { Lookalike, LookalikeFields, LookalikeRun } from '../domain/lookalikes/lookalike';
import type { LookalikeRunPlan } from '../domain/lookalikes/score-slice';
import type { LookalikeModel } from '../domain/lookalikes/train';

/** A create found the id taken, or an update found another version (someone saved in between). */
export class LookalikeConflictError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'LookalikeConflictError';
  }
}

/** Where one run's scores are kept: how many buckets the profiles are hashed into (fixed per run). */
export interface ScoreLayout {
  readonly runId: string;
  readonly buckets: number;
  readonly modelVersion: string;
}

/** A run as stored: what the API shows, plus what its slices need once the model is trained. */
export interface StoredLookalikeRun extends LookalikeRun {
  readonly layout?: ScoreLayout;
  readonly plan?: LookalikeRunPlan & { readonly readsScores: boolean };
}

/**
 * Lookalikes, their runs, models and scores (functions/adapters/dynamodb-lookalike-store.ts).
 * Scores are written per slice of a run in large items (one per bucket of profiles), so a run of
 * millions of candidates writes thousands of items, not millions; a profile's score is read from
 * its bucket.
 */
export interface LookalikeStore {
  listLookalikes(): Promise<Lookalike[]>;
  getLookalike(id: string): Promise<Lookalike | undefined>;
  /** Creates (`expectedVersion` undefined: the id must be free) or updates (at that version); throws LookalikeConflictError. */
  putLookalike(fields: LookalikeFields, now: Date, expectedVersion?: number): Promise<Lookalike>;
  /** Deletes the definition, its runs, models and scores; false when it did not exist. */
  deleteLookalike(id: string): Promise<boolean>;
  /** Points the definition at its newest run, and at the run whose scores profiles show once it completed. */
  setRunPointers(id: string, pointers: { readonly lastRunId?: string; readonly scoresRunId?: string }): Promise<void>;

  putRun(run: StoredLookalikeRun): Promise<void>;
  getRun(id: string, runId: string): Promise<StoredLookalikeRun | undefined>;

  saveModel(id: string, runId: string, model: LookalikeModel): Promise<void>;
  loadModel(id: string, runId: string): Promise<LookalikeModel | undefined>;

  /** One slice's scores from `startPage` on (a retried slice writes the same keys again). */
  writeScores(id: string, layout: ScoreLayout, slice: number, startPage: number, scores: ReadonlyArray<readonly [string, number]>): Promise<void>;
  /** The profile's score in the run of `layout`; undefined when it was not a scored candidate. */
  scoreOf(id: string, layout: ScoreLayout, profileId: string): Promise<LookalikeScore | undefined>;
  /** Removes a run's scores (a newer run replaced them, or the lookalike is deleted). */
  deleteScores(id: string, layout: ScoreLayout): Promise<void>;
}
