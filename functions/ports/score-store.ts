import type { ProfileScores } from '../domain/scoring/profile-scores';

/**
 * Where a profile's scores live: the `P#<profileId>` / `SCORES` item of the profiles table,
 * apart from the profile item so that scoring never races reconciliation on the profile version.
 */
export interface ScoreStore {
  /** What the Profile API shows as `scores`; undefined when the profile was never scored. */
  getScores(profileId: string): Promise<ProfileScores | undefined>;
  /**
   * Writes the scores unless the stored ones come from a newer profile version or the profile was
   * retired (merged away, erased); `'profile-changed'` then (a newer change rescores it, or nobody should).
   */
  putScores(profile: { readonly profileId: string; readonly version: number }, scores: ProfileScores, now: Date): Promise<'written' | 'profile-changed'>;
  /** Removes the scores of profiles that no longer exist on their own (merged away, erased), and refuses their late writes. */
  retireScores(profileIds: readonly string[], now: Date): Promise<void>;
}

/** A score store that also reads many profiles' scores together (the Score function reads a batch's at once). */
export interface BatchScoreStore extends ScoreStore {
  /** The scores of each profile that has some, read together. */
  getScoresOf(profileIds: readonly string[]): Promise<Map<string, ProfileScores>>;
}
