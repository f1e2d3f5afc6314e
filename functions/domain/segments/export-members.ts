import type { ProfileStore } from '../../ports/profile-store';
import type { SegmentStore } from '../../ports/segment-store';
import { mapConcurrently } from '../shared/concurrency';
import { consentRegion, purposeGranted, type PurposeConfig } from '../privacy/purposes';
import { isHoldout } from '../shared/holdout';
import type { Touch } from '../reports/attribution';
import { exportColumns, exportRow, type ExportOptions, type ExportRow } from './export';

/** Profiles read side by side for one page of an export. */
const PROFILE_READS_IN_FLIGHT = 16;

export interface MembersExportDependencies {
  readonly segments: Pick<SegmentStore, 'listMembers'>;
  readonly profiles: Pick<ProfileStore, 'getProfile'>;
  /** Whether the person is in the global control group: left out of ad platform exports. */
  inControlGroup(profileId: string): Promise<boolean>;
}

/** Options of an export for ad platforms: the share of the segment held out of them (its `ad_export` destination). */
export interface AdExportOptions {
  readonly holdout?: number;
  readonly now: Date;
}

/** Whether a member is in the segment's ad-export holdout: stable across exports. */
export const isAdExportHoldout = (segmentId: string, profileId: string, share: number | undefined): boolean =>
  share !== undefined && isHoldout(`ad_export:${segmentId}:${profileId}`, share);

export interface MembersExportPage {
  readonly columns: readonly string[];
  readonly rows: readonly ExportRow[];
  /** Cursor of the next page; absent on the last one. */
  readonly next?: string;
  /** Members of the page left out of a hashed (ad platform) export: they did not grant `ad_user_data`. */
  readonly withoutConsent: number;
  /** Members of the page left out of an ad platform export: the segment's holdout and the global control group. */
  readonly heldOut: number;
  readonly controlGroup: number;
  /** The segment report's ad-export reach of the page: exported people and those held out (one per stay in the segment). */
  readonly touches: readonly Touch[];
}

/**
 * One page of a segment's members as export rows. A member merged into another profile resolves
 * to the survivor: one row per person, even when the page lists both. Hashed identifiers are for
 * ad platforms: people who did not grant `ad_user_data` are left out (Google requires it for EEA
 * users in Customer Match since March 2024), and so are the global control group and the segment's
 * ad-export holdout; the people exported or held out are the page's ad-export touches. Throws the
 * store's InvalidCursorError for a cursor it did not give.
 */
export async function exportSegmentMembers(
  segmentId: string,
  page: { readonly limit: number; readonly cursor?: string },
  options: ExportOptions & { readonly purposeConfig: PurposeConfig },
  deps: MembersExportDependencies,
  adExport?: AdExportOptions,
): Promise<MembersExportPage> {
  const members = await deps.segments.listMembers(segmentId, page);
  const loaded = await mapConcurrently(members.members, PROFILE_READS_IN_FLIGHT, (member) => deps.profiles.getProfile(member.profileId));
  const forAdvertising = options.hash || options.platform !== undefined;
  const rows = new Map<string, ExportRow>();
  const skipped = new Set<string>();
  let withoutConsent = 0;
  let heldOut = 0;
  let controlGroup = 0;
  const touches: Touch[] = [];
  const at = (adExport?.now ?? new Date()).toISOString();
  for (const [index, profile] of loaded.entries()) {
    if (!profile || rows.has(profile.profileId) || skipped.has(profile.profileId)) continue;
    const touch = (group: Touch['group']): Touch => ({
      profileId: profile.profileId,
      segmentId,
      channel: 'ad_export',
      group,
      at,
      touchKey: `entered:${members.members[index]?.enteredAt ?? ''}`,
    });
    if (forAdvertising) {
      if (!purposeGranted(profile.consent, 'ad_user_data', consentRegion(profile.traits.country?.value), options.purposeConfig)) {
        skipped.add(profile.profileId);
        withoutConsent += 1;
        continue;
      }
      if (await deps.inControlGroup(profile.profileId)) {
        skipped.add(profile.profileId);
        controlGroup += 1;
        continue;
      }
      if (isAdExportHoldout(segmentId, profile.profileId, adExport?.holdout)) {
        skipped.add(profile.profileId);
        heldOut += 1;
        touches.push(touch('holdout'));
        continue;
      }
      touches.push(touch('treatment'));
    }
    rows.set(profile.profileId, exportRow(profile, options));
  }
  return {
    columns: exportColumns(options),
    rows: [...rows.values()],
    ...(members.next && { next: members.next }),
    withoutConsent,
    heldOut,
    controlGroup,
    touches,
  };
}
