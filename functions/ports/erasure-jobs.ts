/** Counts of what an erasure removed, as GET /v1/erasures/{jobId} shows them. */
export interface ErasureCounts {
  readonly identitiesSuppressed: number;
  readonly eventsDeleted: number;
  /** The profile and the profiles merged into it whose data was removed. */
  readonly profilesErased: number;
  readonly membershipsRemoved: number;
  readonly quarantineEntriesRemoved: number;
  readonly journeyRunsStopped: number;
  /** `Profile Deleted` notices sent to the webhooks of the segments the person was in. */
  readonly webhookNotices: number;
}

/**
 * An erasure request (GDPR art. 17) and its progress. Counts only: never an identifier, nor the
 * erased profile's id (the job outlives the person it erased).
 */
export interface ErasureJob {
  readonly jobId: string;
  readonly status: 'running' | 'completed' | 'failed';
  readonly requestedAt: string;
  readonly finishedAt?: string;
  readonly counts?: ErasureCounts;
  /** Why it failed (an error name), when it did. */
  readonly error?: string;
}

/** Erasure jobs, and for each erased profile (under a keyed pseudonym of its id) the job that erased it. */
export interface ErasureJobs {
  /** Records a new running job for the profile; the profile's existing job when it has one (one job per profile). */
  create(profileId: string, now: Date): Promise<ErasureJob>;
  get(jobId: string): Promise<ErasureJob | undefined>;
  /** The job that erased (or is erasing) a profile, by profile id. */
  jobOfProfile(profileId: string): Promise<ErasureJob | undefined>;
  finish(
    jobId: string,
    outcome: { readonly status: 'completed'; readonly counts: ErasureCounts } | { readonly status: 'failed'; readonly error: string },
    now: Date,
  ): Promise<void>;
}
