import type { Identifier } from '../identity/identifiers';
import type { ContactTraits } from './call-center';
import type { ConsentRegion } from '../privacy/purposes';
import type { ConsentState } from '../profile/consent';
import { newestIdentity } from '../profile/profile';
import type { ProfileScores, ScoreValue } from '../scoring/profile-scores';

/**
 * What a webhook destination may ask to receive about the profile besides its id (`include`):
 * - `crmId`: the id the company's CRM knows the person by (see crmIdOf);
 * - `scores`: every score of the profile, compact (see compactScores).
 */
export const PROFILE_INCLUDES = ['crmId', 'scores'] as const;

export type ProfileInclude = (typeof PROFILE_INCLUDES)[number];

/**
 * The identifier type a CRM's customer number becomes: an import column mapped with
 * `{"identifiers": {"crm_id": "<column>"}}` or named `id:crm_id`, an `externalIds` entry of type
 * `crm_id`, or the `crm_id` trait (the default `externalIdTraits`).
 */
export const CRM_ID_TYPE = 'crm_id';
/** A profile without a CRM id is known to the CRM by the app's user id, if by anything. */
const CRM_ID_FALLBACK_TYPE = 'user_id';

/**
 * What is read about a profile at delivery time: its `include`d data, and what decides whether a
 * destination serving a purpose may get it at all (deliver-transition.ts). The consent fields
 * never reach a payload (webhookProfile picks only what `include` names).
 */
export interface ProfileSnapshot {
  readonly identities: ReadonlyArray<Identifier & { readonly lastSeen: string }>;
  readonly scores: ProfileScores;
  /** The person's consent decisions; absent counts as none (nothing granted but the region's defaults). */
  readonly consent?: ConsentState;
  /** The region of the `country` trait (consentRegion); absent counts as `eu`, the stricter defaults. */
  readonly region?: ConsentRegion;
  /** Phone, names, locale and time zone: only a call-center contact carries them (call-center.ts). */
  readonly contact?: ContactTraits;
}

/** A predictive score as the probability and band, the send hour as hour and zone, other scores as they are. */
export type CompactScore = { readonly score: number; readonly band: string } | { readonly hour: number; readonly timeZone: string } | string | number;

/** `data.profile` of a webhook payload: only the fields the destination included. */
export interface WebhookProfile {
  /** Null when the profile has neither a CRM id nor a user id. */
  readonly crmId?: string | null;
  readonly scores?: Readonly<Record<string, CompactScore>>;
}

/**
 * The profile's CRM id: its `crm_id` identifier (the most recently seen when it holds several),
 * else its `user_id`, else null.
 */
export function crmIdOf(identities: ProfileSnapshot['identities']): string | null {
  return newestIdentity(identities, CRM_ID_TYPE) ?? newestIdentity(identities, CRM_ID_FALLBACK_TYPE) ?? null;
}

function compactScore(value: ScoreValue): CompactScore {
  if (typeof value !== 'object') return value;
  if ('probability' in value) return { score: value.probability, band: value.band };
  return { hour: value.hour, timeZone: value.timeZone };
}

/** Scores without what a CRM field cannot hold (explanations, model versions, computation times). */
export function compactScores(scores: ProfileScores): Record<string, CompactScore> {
  return Object.fromEntries(
    Object.entries(scores)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, value]) => [name, compactScore(value)]),
  );
}

/**
 * The `data.profile` a destination asked for; null when the profile no longer exists (erased
 * since the transition): nothing about an erased person is sent.
 */
export function webhookProfile(include: readonly ProfileInclude[], snapshot: ProfileSnapshot | undefined): WebhookProfile | null {
  if (snapshot === undefined) return null;
  return {
    ...(include.includes('crmId') && { crmId: crmIdOf(snapshot.identities) }),
    ...(include.includes('scores') && { scores: compactScores(snapshot.scores) }),
  };
}
