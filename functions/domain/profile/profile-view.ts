import { hasMarketingConsent } from '../privacy/purposes';
import { computeTraits, type ComputedTraits } from './computed-traits';
import type { ProfileRecord } from './profile';
import type { TraitValue } from './traits';

/** The Profile API representation (docs/contract.md §4). */
export interface ProfileView {
  readonly profileId: string;
  readonly identities: ReadonlyArray<{ type: string; value: string; firstSeen: string; lastSeen: string }>;
  readonly traits: Record<string, unknown>;
  /** Per trait: event time, source and party of the value shown. */
  readonly traitSources: Record<string, Omit<TraitValue, 'value'>>;
  readonly computed: ComputedTraits;
  readonly scores: Record<string, unknown>;
  readonly segments: readonly string[];
  readonly consent: {
    readonly categoryPreferences: Record<string, boolean>;
    readonly unsubscribed: boolean;
    readonly marketing: boolean;
    readonly updatedAt?: string;
  };
  readonly mergedFrom: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ProfileViewOptions {
  readonly now: Date;
  /** Lenient identifiers (cookies) unseen this long are no longer shown as linked. */
  readonly lenientTypes: readonly string[];
  readonly lenientLifetimeDays: number;
  readonly scores?: Record<string, unknown>;
  readonly segments?: readonly string[];
}

export function toProfileView(profile: ProfileRecord, options: ProfileViewOptions): ProfileView {
  const expiredBefore = new Date(options.now.getTime() - options.lenientLifetimeDays * 86_400_000).toISOString();
  const traits: Record<string, unknown> = {};
  const traitSources: Record<string, Omit<TraitValue, 'value'>> = {};
  for (const [name, { value, ...source }] of Object.entries(profile.traits)) {
    traits[name] = value;
    traitSources[name] = source;
  }
  const decisions = [...Object.values(profile.consent.categories), ...(profile.consent.unsubscribed ? [profile.consent.unsubscribed] : [])];
  const updatedAt = decisions
    .map((d) => d.at)
    .sort()
    .pop();
  return {
    profileId: profile.profileId,
    identities: profile.identities
      .filter((link) => !(options.lenientTypes.includes(link.type) && link.lastSeen < expiredBefore))
      .map(({ type, value, firstSeen, lastSeen }) => ({ type, value, firstSeen, lastSeen })),
    traits,
    traitSources,
    computed: computeTraits(profile.activity, options.now),
    scores: options.scores ?? {},
    segments: options.segments ?? [],
    consent: {
      categoryPreferences: Object.fromEntries(Object.entries(profile.consent.categories).map(([name, d]) => [name, d.granted])),
      unsubscribed: profile.consent.unsubscribed?.granted ?? false,
      marketing: hasMarketingConsent(profile.consent),
      ...(updatedAt && { updatedAt }),
    },
    mergedFrom: profile.mergedFrom,
    createdAt: profile.createdAt,
    updatedAt: profile.updatedAt,
  };
}
