import type { ProfileStore } from '../../ports/profile-store';
import type { SegmentStore } from '../../ports/segment-store';
import { mapConcurrently } from '../shared/concurrency';
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
}

/**
 * One page of a segment's members as export rows. A member merged into another profile resolves
 * to the survivor: one row per person, even when the page lists both. Throws the store's
 * InvalidCursorError for a cursor it did not give.
 */
export async function exportSegmentMembers(
  segmentId: string,
  page: { readonly limit: number; readonly cursor?: string },
  options: ExportOptions,
  deps: MembersExportDependencies,
): Promise<MembersExportPage> {
  const members = await deps.segments.listMembers(segmentId, page);
  const loaded = await mapConcurrently(members.members, PROFILE_READS_IN_FLIGHT, (member) => deps.profiles.getProfile(member.profileId));
  const rows = new Map<string, ExportRow>();
  for (const profile of loaded) if (profile && !rows.has(profile.profileId)) rows.set(profile.profileId, exportRow(profile, options));
  return { columns: exportColumns(options), rows: [...rows.values()], ...(members.next && { next: members.next }) };
}
