import type { ProfileRecord } from '../domain/profile/profile';

/** A share of the live profiles read for an estimate, within a budget. */
export interface ProfileSample {
  readonly profiles: readonly ProfileRecord[];
  /** Items read to find them, profiles or not (what the sample cost, and the share of profiles among items). */
  readonly itemsScanned: number;
  /** Every live profile was read: the sample is the whole population. */
  readonly complete: boolean;
}

export interface SampleBudget {
  /** Profiles wanted at most. */
  readonly maxProfiles: number;
  /** Items read at most, whatever they are: bounds the time and cost of a sample of a large table. */
  readonly maxItemsScanned: number;
}

/** One slice of a parallel walk over every live profile (`segment` of `totalSegments`). */
export interface LiveProfileSlice {
  readonly segment: number;
  readonly totalSegments: number;
}

/**
 * The live (not merged-away) profiles as a population: sampled for estimates (segment preview),
 * walked slice by slice for jobs over everyone (score recompute), and counted.
 */
export interface LiveProfiles {
  /** Profiles spread over the whole population (not the first ones of an order), within the budget. */
  sample(budget: SampleBudget): Promise<ProfileSample>;
  /** One page of profile ids of a slice from `cursor` (opaque; absent at the start); no `cursor` in the answer at the slice's end. */
  profileIdPage(
    slice: LiveProfileSlice,
    cursor: string | undefined,
    pageSize: number,
  ): Promise<{ readonly profileIds: readonly string[]; readonly cursor?: string }>;
  /** One page of whole profiles of a slice from `cursor`, as profileIdPage. */
  profilePage(
    slice: LiveProfileSlice,
    cursor: string | undefined,
    pageSize: number,
  ): Promise<{ readonly profiles: readonly ProfileRecord[]; readonly cursor?: string }>;
  /** Items of the store as last counted (DynamoDB refreshes it about every six hours): an estimate. */
  approximateItemCount(): Promise<number>;
}
