/**
 * The global control group report (docs/contract.md §12, README "Global control group"): the
 * people of the control group against everyone else over a period: buyers over people (with the
 * lift's 95 % interval, as the segment report) and revenue per person (Welch's interval). Pure:
 * the populations and buyer-days are read by the attribution store.
 */
import type { BuyerDay } from '../../ports/attribution-store';
import { isControlBucket, type ControlGroupDraw } from './control-group';
import { roundedLift, type Lift } from './segment-report';
import { liftOverHoldout, meanDifferenceInterval, type Sample } from './statistics';
import { ratio, round, roundedEstimate } from './figures';

export interface CohortFigures {
  /** Live profiles in the cohort now. */
  readonly people: number;
  /** People with at least one order in the period. */
  readonly buyers: number;
  readonly orders: number;
  readonly revenue: number;
  readonly conversionRate: number | null;
  readonly revenuePerPerson: number | null;
}

export interface ControlGroupReport {
  readonly from: string;
  readonly to: string;
  readonly currency: string;
  /** The draw compared; null while the control group is off. */
  readonly draw: { readonly version: number; readonly share: number; readonly drawnAt: string } | null;
  /** Set when `from` was moved to the day of the draw: before it other people were held out. */
  readonly note?: string;
  readonly control: CohortFigures;
  readonly everyoneElse: CohortFigures;
  /** Everyone else's conversion rate minus the control group's, with its interval: the effect of all marketing. */
  readonly lift: Lift | null;
  readonly liftUnavailable?: string;
  /** Everyone else's revenue per person minus the control group's, Welch's 95 % interval. */
  readonly revenuePerPersonLift: { readonly value: number; readonly low: number; readonly high: number; readonly significant: boolean } | null;
  readonly incremental: { readonly conversions: number; readonly revenue: number } | null;
}

interface Cohort {
  people: number;
  orders: number;
  revenue: number;
  revenueByBuyer: Map<string, number>;
}

function figures(cohort: Cohort): CohortFigures {
  const buyers = Math.min(cohort.revenueByBuyer.size, cohort.people);
  const conversionRate = ratio(buyers, cohort.people);
  const revenuePerPerson = ratio(cohort.revenue, cohort.people);
  return {
    people: cohort.people,
    buyers,
    orders: cohort.orders,
    revenue: round(cohort.revenue, 2),
    conversionRate: conversionRate === null ? null : round(conversionRate),
    revenuePerPerson: revenuePerPerson === null ? null : round(revenuePerPerson),
  };
}

/** Per-person revenue as a sample: buyers' totals, and a zero for each other person. */
function revenueSample(cohort: Cohort): Sample {
  let sumOfSquares = 0;
  for (const revenue of cohort.revenueByBuyer.values()) sumOfSquares += revenue * revenue;
  return { n: Math.max(cohort.people, cohort.revenueByBuyer.size), sum: cohort.revenue, sumOfSquares };
}

export function buildControlGroupReport(
  draw: ControlGroupDraw | undefined,
  populations: ReadonlyMap<number, number>,
  buyerDays: readonly BuyerDay[],
  range: { readonly from: string; readonly to: string; readonly note?: string },
  currency: string,
): ControlGroupReport {
  const cohorts: Record<'control' | 'rest', Cohort> = {
    control: { people: 0, orders: 0, revenue: 0, revenueByBuyer: new Map() },
    rest: { people: 0, orders: 0, revenue: 0, revenueByBuyer: new Map() },
  };
  const cohortOf = (bucket: number): Cohort => (draw !== undefined && isControlBucket(bucket, draw) ? cohorts.control : cohorts.rest);
  for (const [bucket, people] of populations) cohortOf(bucket).people += people;
  for (const day of buyerDays) {
    const cohort = cohortOf(day.bucket);
    cohort.orders += day.orders;
    cohort.revenue += day.revenue;
    cohort.revenueByBuyer.set(day.profileId, (cohort.revenueByBuyer.get(day.profileId) ?? 0) + day.revenue);
  }
  const control = figures(cohorts.control);
  const everyoneElse = figures(cohorts.rest);
  const lifted = liftOverHoldout({ successes: everyoneElse.buyers, trials: everyoneElse.people }, { successes: control.buyers, trials: control.people });
  const lift: Lift | null = lifted.kind === 'lift' ? roundedLift(lifted) : null;
  const samples = [revenueSample(cohorts.rest), revenueSample(cohorts.control)] as const;
  const revenueLift = lift !== null && samples[0].n >= 2 && samples[1].n >= 2 ? meanDifferenceInterval(samples[0], samples[1]) : null;
  return {
    from: range.from,
    to: range.to,
    currency,
    draw: draw ? { version: draw.version, share: draw.share, drawnAt: draw.drawnAt } : null,
    ...(range.note !== undefined && { note: range.note }),
    control,
    everyoneElse,
    lift,
    ...(lifted.kind === 'unavailable' && { liftUnavailable: draw === undefined ? 'the global control group is off: draw it first' : lifted.reason }),
    revenuePerPersonLift: revenueLift && { ...roundedEstimate(revenueLift), significant: revenueLift.low > 0 || revenueLift.high < 0 },
    incremental:
      lift === null || everyoneElse.revenuePerPerson === null || control.revenuePerPerson === null
        ? null
        : {
            conversions: round(lift.value * everyoneElse.people, 2),
            revenue: round((cohorts.rest.revenue / cohorts.rest.people - cohorts.control.revenue / cohorts.control.people) * everyoneElse.people, 2),
          },
  };
}

/**
 * The period the control-group report compares: from the day of the draw at the earliest, since
 * before it other people were held out (`note` says so). A draw after `to` leaves nothing to compare.
 */
export function controlGroupRange(
  range: { readonly from: string; readonly to: string },
  draw: Pick<ControlGroupDraw, 'drawnAt'> | undefined,
): { readonly from: string; readonly to: string; readonly note?: string } {
  const drawDay = draw?.drawnAt.slice(0, 10);
  if (drawDay === undefined || drawDay <= range.from) return range;
  return { from: drawDay, to: range.to, note: `the control group was drawn on ${drawDay}: the comparison starts that day` };
}
