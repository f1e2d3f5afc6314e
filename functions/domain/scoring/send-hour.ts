/**
 * Best send hour: the local hour (0-23, in the profile's time zone) at which the profile is
 * most likely to engage, from its engagement timestamps. Each event votes for its local hour
 * with a weight by kind (an open says most about when email is read, then a click, then a
 * site visit), spread a little onto the neighbouring hours. The votes update a population
 * distribution used as a Bayesian prior worth `priorStrength` events: with few events the
 * answer stays near the population's peak, with many it moves to the profile's own.
 */

export type EngagementKind = 'open' | 'click' | 'visit';

export interface EngagementEvent {
  readonly kind: EngagementKind;
  /** When it happened: ISO 8601 or epoch milliseconds. */
  readonly at: string | number;
}

export interface SendHourOptions {
  /** IANA time zone of the profile; an unknown zone falls back to UTC. */
  readonly timeZone?: string;
  /** Relative engagement by local hour across all profiles (24 non-negative numbers). */
  readonly population?: readonly number[];
  readonly weights?: Readonly<Record<EngagementKind, number>>;
  /** How many weighted events the population prior is worth. */
  readonly priorStrength?: number;
}

export interface SendHour {
  readonly hour: number;
  /** Share of the answer that comes from the profile's own events, in [0, 1). */
  readonly confidence: number;
  /** The time zone the hours are in (UTC when the given one was unknown). */
  readonly timeZone: string;
  /** Weighted events counted (invalid timestamps are skipped). */
  readonly evidence: number;
  /** Posterior share of engagement by local hour; sums to 1. */
  readonly distribution: readonly number[];
}

/**
 * A default population curve for when the platform has not measured its own yet: email
 * engagement peaking mid-morning and again in the evening, lowest at night. An assumption,
 * meant to be replaced by the distribution observed over all profiles.
 */
export const DEFAULT_POPULATION_SEND_HOURS: readonly number[] = [
  1.5, 1, 0.7, 0.5, 0.5, 0.8, 1.8, 3.2, 4.5, 5.5, 6, 5.6, 5.2, 5, 4.8, 4.7, 4.8, 5, 5.2, 5.6, 5.8, 5, 3.6, 2.4,
];

export const DEFAULT_ENGAGEMENT_WEIGHTS: Readonly<Record<EngagementKind, number>> = { open: 3, click: 2, visit: 1 };
/**
 * Large enough that one open at an hour the population rarely engages does not move the
 * answer there, small enough that a habit seen a few times does.
 */
export const DEFAULT_PRIOR_STRENGTH = 50;

/** Share of an event's vote kept on its own hour; the rest goes half to each neighbour. */
const OWN_HOUR_SHARE = 0.5;

export function bestSendHour(events: readonly EngagementEvent[], options: SendHourOptions = {}): SendHour {
  const population = normalized(options.population ?? DEFAULT_POPULATION_SEND_HOURS);
  const weights = options.weights ?? DEFAULT_ENGAGEMENT_WEIGHTS;
  const priorStrength = options.priorStrength ?? DEFAULT_PRIOR_STRENGTH;
  if (!(priorStrength > 0)) throw new RangeError('priorStrength must be positive');
  const { timeZone, hourOf } = localHourReader(options.timeZone ?? 'UTC');

  const votes = new Array<number>(24).fill(0);
  let evidence = 0;
  for (const event of events) {
    const time = typeof event.at === 'number' ? event.at : Date.parse(event.at);
    const weight = weights[event.kind];
    if (!Number.isFinite(time) || !(weight > 0)) continue;
    const hour = hourOf(time);
    const spread = (weight * (1 - OWN_HOUR_SHARE)) / 2;
    votes[hour] = votes[hour]! + weight * OWN_HOUR_SHARE;
    votes[(hour + 23) % 24] = votes[(hour + 23) % 24]! + spread;
    votes[(hour + 1) % 24] = votes[(hour + 1) % 24]! + spread;
    evidence += weight;
  }
  const total = priorStrength + evidence;
  const distribution = population.map((share, hour) => (priorStrength * share + votes[hour]!) / total);
  // Ties go to the earliest hour, so the answer does not depend on iteration details.
  const hour = distribution.reduce((best, share, h) => (share > distribution[best]! ? h : best), 0);
  return { hour, confidence: evidence / total, timeZone, evidence, distribution };
}

function normalized(population: readonly number[]): number[] {
  const sum = population.reduce((total, value) => total + value, 0);
  if (population.length !== 24 || population.some((value) => !(value >= 0)) || !(sum > 0)) {
    throw new RangeError('population must hold 24 non-negative numbers, not all zero');
  }
  return population.map((value) => value / sum);
}

const hourFormats = new Map<string, Intl.DateTimeFormat>();

function localHourReader(requested: string): { timeZone: string; hourOf: (epochMs: number) => number } {
  let format = hourFormats.get(requested);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', { timeZone: requested, hour: 'numeric', hourCycle: 'h23' });
    } catch {
      return localHourReader('UTC');
    }
    hourFormats.set(requested, format);
  }
  const hourFormat = format;
  return {
    timeZone: hourFormat.resolvedOptions().timeZone,
    hourOf: (epochMs) => Number(hourFormat.formatToParts(epochMs).find((part) => part.type === 'hour')?.value ?? 0) % 24,
  };
}
