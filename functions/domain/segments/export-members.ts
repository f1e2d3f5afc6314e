import type { ProfileStore } from '../../ports/profile-store';
import type { SegmentStore } from '../../ports/segment-store';
import { mapConcurrently } from '../shared/concurrency';
import { consentRegion, purposeGranted, type PurposeConfig } from '../privacy/purposes';
import { exportColumns, exportRow, type ExportOptions, type ExportRow } from './export';

/** Profiles read side by side for one page of an export. */
const PROFILE_READS_IN_FLIGHT = 16;

export interface MembersExportDependencies {
  readonly segments: Pick<SegmentStore, 'listMembers'>;
  readonly profiles: Pick<ProfileStore, 'getProfile'>;
}

export interface MembersExportPage {
  readonly columns: readonly string[];
  readonly rows: readonly ExportRow[];
  /** Cursor of the next page; absent on the last one. */
  readonly next?: string;
  /** Members of the page left out of a hashed (ad platform) export: they did not grant `ad_user_data`. */
  readonly withoutConsent: number;
}

/**
 * One page of a segment's members as export rows. A member merged into another profile resolves
 * to the survivor: one row per person, even when the page lists both. Hashed identifiers are for
 * ad platforms: people who did not grant `ad_user_data` are left out (Google requires it for EEA
 * users in Customer Match since March 2024). Throws the store's InvalidCursorError for a cursor
 * it did not give.
 */
export async function exportSegmentMembers(
  segmentId: string,
  page: { readonly limit: number; readonly cursor?: string },
  options: ExportOptions & { readonly purposeConfig: PurposeConfig },
  deps: MembersExportDependencies,
): Promise<MembersExportPage> {
  const members = await deps.segments.listMembers(segmentId, page);
  const loaded = await mapConcurrently(members.members, PROFILE_READS_IN_FLIGHT, (member) => deps.profiles.getProfile(member.profileId));
  const forAdvertising = options.hash || options.platform !== undefined;
  const rows = new Map<string, ExportRow>();
  const withoutConsent = new Set<string>();
  for (const profile of loaded) {
    if (!profile || rows.has(profile.profileId) || withoutConsent.has(profile.profileId)) continue;
    if (forAdvertising && !purposeGranted(profile.consent, 'ad_user_data', consentRegion(profile.traits.country?.value), options.purposeConfig)) {
      withoutConsent.add(profile.profileId);
      continue;
    }
    rows.set(profile.profileId, exportRow(profile, options));
  }
  return { columns: exportColumns(options), rows: [...rows.values()], ...(members.next && { next: members.next }), withoutConsent: withoutConsent.size };
}
