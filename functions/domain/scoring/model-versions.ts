/**
 * The lifecycle of a predictive score's model (docs/contract.md §14): the shipped prior serves
 * until a retraining job promotes a candidate that did at least as well on the same holdout; each
 * promotion keeps the version it replaced so a rollback can put it back; every job is recorded
 * with both AUCs, whatever its outcome.
 */
import type { ExampleCounts } from './retrain';

/** Versions kept behind the one in service, for rollbacks. */
export const MAX_ROLLBACK_VERSIONS = 10;

/** A retraining job's outcome: `kept` when the candidate was not at least as good as the model in service. */
export type TrainingJobStatus = 'running' | 'promoted' | 'kept' | 'failed';

export interface TrainingJob {
  readonly score: string;
  readonly jobId: string;
  readonly status: TrainingJobStatus;
  /** `api` (POST /v1/models/{score}/train) or `schedule` (the weekly retraining). */
  readonly trigger: 'api' | 'schedule';
  /** The holdout cut-off (YYYY-MM-DD); the candidate trains on the cut-off one label horizon earlier. */
  readonly asOf: string;
  readonly trainCutOff: string;
  /** Traits the candidate learns from. */
  readonly traits: readonly string[];
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly candidateAuc?: number;
  /** The model in service's AUC on the same holdout. */
  readonly currentAuc?: number;
  /** Candidate minus model in service, with its 95 % interval (DeLong): what the promotion decided on. */
  readonly aucDifference?: { readonly difference: number; readonly low: number; readonly high: number };
  /** The candidate's version (promoted or not). */
  readonly version?: string;
  /** The version the candidate was compared with. */
  readonly currentVersion?: string;
  readonly train?: ExampleCounts;
  readonly holdout?: ExampleCounts;
  /** Why it failed or was kept, for the platform team. */
  readonly reason?: string;
}

/** A trained model version as the API lists it (its artifact is stored beside it). */
export interface ModelVersionRecord {
  readonly score: string;
  readonly version: string;
  readonly jobId: string;
  readonly trainedAt: string;
  /** AUC on the job's holdout. */
  readonly auc: number;
  /** The AUC of the model it was compared with, on the same holdout. */
  readonly comparedAuc: number;
  readonly comparedVersion: string;
  readonly features: readonly string[];
  readonly traits: readonly string[];
  readonly train: ExampleCounts;
  readonly holdout: ExampleCounts;
  readonly asOf: string;
  readonly trainCutOff: string;
}

/** Which version serves a score, and those it replaced (newest last). */
export interface ServingEntry {
  readonly score: string;
  readonly version: string;
  readonly previous: readonly string[];
  readonly changedAt: string;
  readonly change: 'promoted' | 'rolled-back';
}

/** The entry after promoting `version` over `current` (the prior's version when nothing was promoted yet). */
export function promotedEntry(score: string, version: string, current: ServingEntry | undefined, priorVersion: string, at: string): ServingEntry {
  const replaced = current?.version ?? priorVersion;
  return {
    score,
    version,
    previous: [...(current?.previous ?? []), replaced].slice(-MAX_ROLLBACK_VERSIONS),
    changedAt: at,
    change: 'promoted',
  };
}

/** The entry after a rollback: the version replaced last serves again; undefined when there is none to go back to. */
export function rolledBackEntry(current: ServingEntry | undefined, at: string): ServingEntry | undefined {
  const previous = current?.previous ?? [];
  const version = previous.at(-1);
  if (current === undefined || version === undefined) return undefined;
  return { score: current.score, version, previous: previous.slice(0, -1), changedAt: at, change: 'rolled-back' };
}
