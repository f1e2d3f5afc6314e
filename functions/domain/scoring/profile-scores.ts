/**
 * Every score of one profile at time `now`: state scores from declarative rules, predictive
 * scores from the models (probability, band, model version, top contributing features) and the
 * best send hour. This is what the Profile API shows as `scores`, flat by score name:
 * `scores.propensity.band`, `scores.lifecycle`, `scores.send_hour.hour`.
 */
import { computeTraits } from '../profile/computed-traits';
import type { ProfileRecord } from '../profile/profile';
import type { AcceptedMessage } from '../tracking/accepted-message';
import type { ModelArtifact } from './artifact';
import { withTraitFeatures, traitsOfModel } from './model-features';
import { featureSourceOf, profileFeatures } from './profile-features';
import { scoreRow, type Band } from './score';
import { bestSendHour, type EngagementEvent } from './send-hour';
import { evaluateStateScores, type StateScoreRule } from './state-scores';
import { isVisit } from './training-labels';

export interface PredictiveScore {
  /** Probability of the predicted outcome, 4 decimals. */
  readonly probability: number;
  readonly band: Band;
  readonly modelVersion: string;
  readonly computedAt: string;
  /** The features that moved the probability most, with a sentence a marketer can read. */
  readonly contributions: ReadonlyArray<{
    readonly feature: string;
    readonly value: string | number | boolean | null;
    readonly contribution: number;
    readonly label: string;
  }>;
}

export interface SendHourScore {
  /** Best local hour to send, 0-23, in `timeZone`. */
  readonly hour: number;
  /** Share of the answer owed to the profile's own engagement (the rest is the population prior). */
  readonly confidence: number;
  readonly timeZone: string;
  /** Weighted engagement events it is based on. */
  readonly evidence: number;
  readonly computedAt: string;
}

export type ScoreValue = PredictiveScore | SendHourScore | string | number;

export type ProfileScores = Readonly<Record<string, ScoreValue>>;

/** The name under which the send hour appears (the activation issue reads `scores.send_hour`). */
export const SEND_HOUR_SCORE = 'send_hour';

/** The send-hour score among a profile's scores, when there is one. */
export function sendHourOf(scores: ProfileScores | undefined): SendHourScore | undefined {
  const value = scores?.[SEND_HOUR_SCORE];
  return typeof value === 'object' && 'hour' in value ? value : undefined;
}

export interface ScoringSettings {
  /** Predictive models by score name. */
  readonly models: ReadonlyMap<string, ModelArtifact>;
  readonly stateRules: readonly StateScoreRule[];
  /** Relative engagement by local hour over all profiles; the default curve when absent. */
  readonly sendHourPopulation?: readonly number[];
  /** Contributions kept per predictive score. */
  readonly topContributions: number;
}

const round = (value: number, decimals: number): number => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};

/** Opens, clicks and visits of a profile's events, for the send hour. */
export function engagementOf(messages: readonly AcceptedMessage[]): EngagementEvent[] {
  const engagement: EngagementEvent[] = [];
  for (const message of messages) {
    if (message.type === 'track' && message.event === 'Email Opened') engagement.push({ kind: 'open', at: message.timestamp });
    else if (message.type === 'track' && message.event === 'Email Link Clicked') engagement.push({ kind: 'click', at: message.timestamp });
    else if (isVisit(message)) engagement.push({ kind: 'visit', at: message.timestamp });
  }
  return engagement;
}

/** The profile's IANA time zone: its `timezone` trait, else the newest event's `context.timezone`, else UTC. */
export function timeZoneOf(profile: ProfileRecord, newestFirst: readonly AcceptedMessage[]): string {
  const trait = profile.traits.timezone?.value;
  if (typeof trait === 'string' && trait.trim() !== '') return trait.trim();
  const fromContext = newestFirst.map((message) => message.context.timezone).find((zone): zone is string => typeof zone === 'string' && zone.trim() !== '');
  return fromContext?.trim() ?? 'UTC';
}

/** Names a rule set and the models may not share, so no score hides another. */
export function checkScoreNames(settings: Pick<ScoringSettings, 'models' | 'stateRules'>): void {
  const seen = new Set<string>([SEND_HOUR_SCORE]);
  for (const name of [...settings.models.keys(), ...settings.stateRules.map((rule) => rule.name)]) {
    if (seen.has(name)) throw new Error(`score name "${name}" is used twice (models, state score rules and ${SEND_HOUR_SCORE} share one namespace)`);
    seen.add(name);
  }
}

/**
 * Scores a live profile. `newestFirst` are its recent events (for the send hour and time zone);
 * every other input is on the profile itself.
 */
export function computeProfileScores(profile: ProfileRecord, newestFirst: readonly AcceptedMessage[], settings: ScoringSettings, now: Date): ProfileScores {
  const computedAt = now.toISOString();
  const source = featureSourceOf(profile);
  const scores: Record<string, ScoreValue> = {
    ...evaluateStateScores(settings.stateRules, { traits: source.traits, computed: computeTraits(profile.activity, now) }),
  };
  const behaviour = profileFeatures(source, now);
  for (const [name, model] of settings.models) {
    const result = scoreRow(model, withTraitFeatures(behaviour, source.traits, traitsOfModel(model)), { topContributions: settings.topContributions });
    scores[name] = {
      probability: round(result.probability, 4),
      band: result.band,
      modelVersion: result.modelVersion,
      computedAt,
      contributions: result.contributions.map(({ feature, value, contribution, label }) => ({ feature, value, contribution: round(contribution, 4), label })),
    };
  }
  const sendHour = bestSendHour(engagementOf(newestFirst), {
    timeZone: timeZoneOf(profile, newestFirst),
    ...(settings.sendHourPopulation && { population: settings.sendHourPopulation }),
  });
  scores[SEND_HOUR_SCORE] = {
    hour: sendHour.hour,
    confidence: round(sendHour.confidence, 4),
    timeZone: sendHour.timeZone,
    evidence: sendHour.evidence,
    computedAt,
  };
  return scores;
}

/** JSON with object keys sorted at every level: a stored map comes back in any key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${stableJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The scores without their computation times: equal fingerprints need no write. */
export function scoresFingerprint(scores: ProfileScores): string {
  const withoutTimes = Object.fromEntries(
    Object.entries(scores).map(([name, value]) => {
      if (typeof value !== 'object') return [name, value];
      const { computedAt: _computedAt, ...rest } = value;
      return [name, rest];
    }),
  );
  return stableJson(withoutTimes);
}
