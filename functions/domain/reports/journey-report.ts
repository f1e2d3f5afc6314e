/**
 * The journey report (read side of the daily `RPT#<journeyKey>` / `D#<day>` counter items): sums
 * the counters of the requested days per journey key and derives the rates marketers read, with
 * the lift of the treatment group over the holdout. Pure: the items are read by the report store.
 */
import { JOURNEY_STEPS } from '../journeys/journey-config';
import { ATTRIBUTION_DAYS, AUDIENCE_JOURNEY_PREFIX, AUDIENCE_SMS_JOURNEY_PREFIX } from './journey-counters';
import { compareText, ratio, round, roundOrNull } from './figures';

/** `cart-abandonment`, `product-view`, or `audience-email:<segmentId>` / `audience-sms:<segmentId>` for a segment's journey. */
export const JOURNEY_KEY_PATTERN = /^(?:cart-abandonment|product-view|audience-(?:email|sms):[a-z0-9][a-z0-9_-]{0,47})$/;

/** A journey's own steps appear even before any count. */
const STEPS_OF_JOURNEY: Readonly<Record<string, readonly string[]>> = {
  'cart-abandonment': ['email1', 'email2'],
  'product-view': ['promotion'],
  'audience-email': ['audience'],
  'audience-sms': ['audience'],
};

/** One daily counter item: its journey key, UTC day and every counter (`sent:email1`, ...). */
export interface ReportCounterItem {
  readonly journeyKey: string;
  readonly day: string;
  readonly counters: Readonly<Record<string, number>>;
}

export interface GroupFigures<T> {
  readonly treatment: T;
  readonly holdout: T;
}

export interface StepReport {
  readonly sent: number;
  readonly skipped: Record<string, number>;
  readonly ended: Record<string, number>;
  readonly delivered: number;
  readonly opened: number;
  readonly clicked: number;
  readonly bounced: number;
  readonly complained: number;
  /** Unique opens over deliveries; null before any delivery. */
  readonly openRate: number | null;
  /** Unique clicks over deliveries; null before any delivery. */
  readonly clickRate: number | null;
}

export interface JourneyReport {
  readonly journey: string;
  readonly segmentId?: string;
  readonly entrants: GroupFigures<number>;
  readonly steps: Record<string, StepReport>;
  readonly conversions: GroupFigures<number>;
  readonly revenue: GroupFigures<number>;
  /** Conversions over entrants per group; null for a group without entrants. */
  readonly conversionRate: GroupFigures<number | null>;
  /** (rateT − rateH) / rateH; null when either rate is unknown or the holdout never converted. */
  readonly lift: number | null;
  /** Conversions the emails caused: (rateT − rateH) × treatment entrants. */
  readonly incrementalConversions: number | null;
}

export interface ReportBody {
  readonly from: string;
  readonly to: string;
  readonly attributionDays: number;
  readonly journeys: JourneyReport[];
}

type StepCounter = 'sent' | 'delivered' | 'opened' | 'clicked' | 'bounced' | 'complained';
const STEP_COUNTERS: ReadonlySet<string> = new Set<StepCounter>(['sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained']);
type GroupCounter = 'entrants' | 'conversions' | 'revenue';
const GROUP_COUNTERS: ReadonlySet<string> = new Set<GroupCounter>(['entrants', 'conversions', 'revenue']);

interface StepTotals {
  readonly counts: Record<StepCounter, number>;
  readonly skipped: Record<string, number>;
  readonly ended: Record<string, number>;
}

interface JourneyTotals {
  readonly groups: Record<GroupCounter, { treatment: number; holdout: number }>;
  readonly steps: Map<string, StepTotals>;
}

function emptyJourney(): JourneyTotals {
  return {
    groups: { entrants: { treatment: 0, holdout: 0 }, conversions: { treatment: 0, holdout: 0 }, revenue: { treatment: 0, holdout: 0 } },
    steps: new Map(),
  };
}

function stepOf(totals: JourneyTotals, step: string): StepTotals {
  let found = totals.steps.get(step);
  if (!found) {
    found = { counts: { sent: 0, delivered: 0, opened: 0, clicked: 0, bounced: 0, complained: 0 }, skipped: {}, ended: {} };
    totals.steps.set(step, found);
  }
  return found;
}

/** Adds one counter by its name; names the schema does not know are ignored (a newer writer). */
function addCounter(totals: JourneyTotals, name: string, value: number): void {
  if (!Number.isFinite(value)) return;
  const parts = name.split(':');
  const [kind, first, second] = parts;
  if (parts.length === 2 && kind && first) {
    if (GROUP_COUNTERS.has(kind) && (first === 'treatment' || first === 'holdout')) totals.groups[kind as GroupCounter][first] += value;
    else if (STEP_COUNTERS.has(kind)) stepOf(totals, first).counts[kind as StepCounter] += value;
  } else if (parts.length === 3 && (kind === 'skipped' || kind === 'ended') && first && second) {
    const reasons = stepOf(totals, second)[kind];
    reasons[first] = (reasons[first] ?? 0) + value;
  }
}

/** The journey and, for a segment's journey, the segment id named by a journey key. */
export function parseJourneyKey(journeyKey: string): { readonly journey: string; readonly segmentId?: string } {
  if (journeyKey.startsWith(AUDIENCE_JOURNEY_PREFIX)) return { journey: 'audience-email', segmentId: journeyKey.slice(AUDIENCE_JOURNEY_PREFIX.length) };
  if (journeyKey.startsWith(AUDIENCE_SMS_JOURNEY_PREFIX)) return { journey: 'audience-sms', segmentId: journeyKey.slice(AUDIENCE_SMS_JOURNEY_PREFIX.length) };
  return { journey: journeyKey };
}

const stepRank = (step: string): number => {
  // JOURNEY_STEPS lists the steps in the order the journeys run them.
  const index = JOURNEY_STEPS.indexOf(step);
  return index === -1 ? JOURNEY_STEPS.length : index;
};

function stepReport(step: StepTotals): StepReport {
  const { sent, delivered, opened, clicked, bounced, complained } = step.counts;
  return {
    sent,
    skipped: step.skipped,
    ended: step.ended,
    delivered,
    opened,
    clicked,
    bounced,
    complained,
    openRate: roundOrNull(ratio(opened, delivered)),
    clickRate: roundOrNull(ratio(clicked, delivered)),
  };
}

function journeyReport(journeyKey: string, totals: JourneyTotals): JourneyReport {
  const { journey, segmentId } = parseJourneyKey(journeyKey);
  for (const step of STEPS_OF_JOURNEY[journey] ?? []) stepOf(totals, step);
  const { entrants, conversions, revenue } = totals.groups;
  const rateT = ratio(conversions.treatment, entrants.treatment);
  const rateH = ratio(conversions.holdout, entrants.holdout);
  const lift = rateT === null || rateH === null || rateH === 0 ? null : (rateT - rateH) / rateH;
  const incremental = rateT === null || rateH === null ? null : (rateT - rateH) * entrants.treatment;
  const steps = [...totals.steps.entries()].sort(([a], [b]) => stepRank(a) - stepRank(b) || compareText(a, b));
  return {
    journey,
    ...(segmentId !== undefined && { segmentId }),
    entrants: { ...entrants },
    steps: Object.fromEntries(steps.map(([step, stepTotals]) => [step, stepReport(stepTotals)])),
    conversions: { ...conversions },
    revenue: { treatment: round(revenue.treatment), holdout: round(revenue.holdout) },
    conversionRate: { treatment: roundOrNull(rateT), holdout: roundOrNull(rateH) },
    lift: roundOrNull(lift),
    incrementalConversions: roundOrNull(incremental),
  };
}

/**
 * The report over the items of the days `from`..`to` (the store reads only those), one entry per
 * journey key, ordered by key. `journeyKeys` always appear, with zeros when nothing was counted, so
 * a report asked for one journey answers that journey even before its first entrant.
 */
export function buildJourneyReport(
  items: readonly ReportCounterItem[],
  range: { readonly from: string; readonly to: string; readonly journeyKeys?: readonly string[] },
): ReportBody {
  const journeys = new Map<string, JourneyTotals>();
  const totalsOf = (journeyKey: string): JourneyTotals => {
    let totals = journeys.get(journeyKey);
    if (!totals) {
      totals = emptyJourney();
      journeys.set(journeyKey, totals);
    }
    return totals;
  };
  for (const journeyKey of range.journeyKeys ?? []) totalsOf(journeyKey);
  for (const item of items) {
    const totals = totalsOf(item.journeyKey);
    for (const [name, value] of Object.entries(item.counters)) addCounter(totals, name, value);
  }
  return {
    from: range.from,
    to: range.to,
    attributionDays: ATTRIBUTION_DAYS,
    journeys: [...journeys.entries()].sort(([a], [b]) => compareText(a, b)).map(([journeyKey, totals]) => journeyReport(journeyKey, totals)),
  };
}
