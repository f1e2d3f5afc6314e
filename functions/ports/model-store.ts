import type { ModelArtifact } from '../domain/scoring/artifact';
import type { FeatureConfig } from '../domain/scoring/model-features';
import type { ModelVersionRecord, ServingEntry, TrainingJob } from '../domain/scoring/model-versions';
import type { TrainingExample } from '../domain/scoring/training-examples';

/** A job's examples, as the export slices wrote them. */
export interface JobExamples {
  readonly train: TrainingExample[];
  readonly holdout: TrainingExample[];
}

/**
 * Where predictive models live once trained on the customer's data (docs/contract.md §14): each
 * score's trait configuration, versions (artifact and figures), retraining jobs and the examples
 * they export, and which version serves each score.
 */
export interface ModelStore {
  getFeatureConfig(score: string): Promise<FeatureConfig | undefined>;
  putFeatureConfig(score: string, config: FeatureConfig, at: Date): Promise<void>;

  /** The serving entry of every score that left its prior (eventually consistent unless `consistent`). */
  servingEntries(options?: { readonly consistent?: boolean }): Promise<ServingEntry[]>;
  /** Writes `entry` if the score is still served by `expectedVersion` (`priorVersion` standing for no entry); false otherwise. */
  replaceServing(entry: ServingEntry, expectedVersion: string, priorVersion: string): Promise<boolean>;

  putVersion(record: ModelVersionRecord, artifact: ModelArtifact): Promise<void>;
  listVersions(score: string): Promise<ModelVersionRecord[]>;
  loadArtifact(score: string, version: string): Promise<ModelArtifact | undefined>;

  putJob(job: TrainingJob): Promise<void>;
  getJob(score: string, jobId: string): Promise<TrainingJob | undefined>;
  /** Newest first. */
  listJobs(score: string, limit: number): Promise<TrainingJob[]>;

  /** One export page's examples (`page` names it uniquely within the job); they expire after a week. */
  putExamples(score: string, jobId: string, page: string, examples: JobExamples, now: Date): Promise<void>;
  loadExamples(score: string, jobId: string): Promise<JobExamples>;
}
