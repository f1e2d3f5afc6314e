/**
 * The segment × channel report (docs/contract.md §12, README "Reports"): per segment and channel,
 * the audience over the period, the people reached and held out, engagement, conversions and
 * revenue attributed to each group, and the lift of the treatment over the holdout with its 95 %
 * interval. Pure: the counters are read by the attribution store.
 */
import type { SegmentCounterItem } from '../../ports/attribution-store';
import { CHANNELS, type AttributionConfig, type AttributionModel } from './attribution';
import { liftOverHoldout, type LiftFigures } from './statistics';
import { compareText, ratio, round, roundedEstimate, roundOrNull } from './figures';

/** The figures of one segment's audience, shared by its channel rows. */
export interface AudienceFigures {
  readonly entered: number;
  readonly exited: number;
  /** Members at the end of the period: today's size less the entries and exits counted since. */
  readonly membersAtEnd: number;
}

export interface GroupFigures<T> {
  readonly treatment: T;
  readonly holdout: T;
}

export interface Lift {
  /** Treatment conversion rate minus holdout's (a fraction: 0.05 is 5 points). */
  readonly value: number;
  readonly low: number;
  readonly high: number;
  /** The 95 % interval excludes 0. */
  readonly significant: boolean;
  /** (rateT / rateH) − 1 with its Katz log interval; null when the holdout never converted. */
  readonly relative: { readonly value: number; readonly low: number; readonly high: number } | null;
  readonly method: LiftFigures['method'];
}

/** What a treatment and its holdout earned: the figures a segment × channel row and an offer row share. */
export interface AttributedOutcome {
  /** Reached (or held out) people with at least one attributed order. */
  readonly conversions: GroupFigures<number>;
  readonly orders: GroupFigures<number>;
  readonly revenue: GroupFigures<number>;
  readonly conversionRate: GroupFigures<number | null>;
  readonly revenuePerPerson: GroupFigures<number | null>;
  /** Null when it cannot be told (see `liftUnavailable`). */
  readonly lift: Lift | null;
  readonly liftUnavailable?: string;
  /** Conversions and revenue the channel caused: the rate differences times the people reached. */
  readonly incremental: { readonly conversions: number; readonly revenue: number } | null;
  readonly attributionDays: number;
  /** Orders in currencies without a conversion rate: counted, their revenue left out. */
  readonly unconvertedOrders?: Readonly<Record<string, number>>;
}

export interface SegmentChannelRow extends AttributedOutcome {
  readonly segmentId: string;
  readonly segmentName: string | null;
  readonly channel: string;
  readonly audience: AudienceFigures;
  /** People reached: sent (email), delivered (webhook), exported (ad_export), shown (personalization). */
  readonly reached: number;
  /** People held out of the channel (its holdout share), the comparison group. */
  readonly heldOut: number;
  /** Engagement the channel reports: delivered, opened, clicked, bounced, complained, offer_clicked. */
  readonly engagement: Readonly<Record<string, number>>;
}

export interface SegmentReport {
  readonly from: string;
  readonly to: string;
  readonly currency: string;
  readonly attributionModel: AttributionModel;
  readonly rows: SegmentChannelRow[];
}

/** What the report knows of a segment: its name, size now and the channels its destinations use. */
export interface ReportedSegment {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly channels: readonly string[];
}

interface Totals {
  counters: Record<string, number>;
}

const channelRank = (channel: string): number => {
  const index = (CHANNELS as readonly string[]).indexOf(channel);
  return index === -1 ? CHANNELS.length : index;
};

function sumInto(target: Record<string, number>, counters: Readonly<Record<string, number>>): void {
  for (const [name, value] of Object.entries(counters)) if (Number.isFinite(value)) target[name] = (target[name] ?? 0) + value;
}

function prefixed(counters: Readonly<Record<string, number>>, prefix: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counters)
      .filter(([name]) => name.startsWith(prefix))
      .map(([name, value]) => [name.slice(prefix.length), value]),
  );
}

function liftOf(reached: number, heldOut: number, convertedT: number, convertedH: number): { lift: Lift | null; unavailable?: string } {
  // A conversion counted in the period may belong to a reach counted before it: never more than the people.
  const figures = liftOverHoldout({ successes: Math.min(convertedT, reached), trials: reached }, { successes: Math.min(convertedH, heldOut), trials: heldOut });
  if (figures.kind === 'unavailable') return { lift: null, unavailable: figures.reason };
  return { lift: roundedLift(figures) };
}

/** The lift as the reports print it: every figure rounded to 4 decimals. */
export function roundedLift(figures: LiftFigures): Lift {
  return {
    ...roundedEstimate(figures),
    significant: figures.significant,
    relative: figures.relative && roundedEstimate(figures.relative),
    method: figures.method,
  };
}

function channelRow(
  segment: ReportedSegment | undefined,
  segmentId: string,
  channel: string,
  totals: Totals,
  audience: AudienceFigures,
  config: AttributionConfig,
): SegmentChannelRow {
  const counters = totals.counters;
  const reached = counters['reached:treatment'] ?? 0;
  const heldOut = counters['reached:holdout'] ?? 0;
  const conversions = { treatment: counters['converted:treatment'] ?? 0, holdout: counters['converted:holdout'] ?? 0 };
  const revenue = { treatment: counters['revenue:treatment'] ?? 0, holdout: counters['revenue:holdout'] ?? 0 };
  const rateT = ratio(Math.min(conversions.treatment, reached), reached);
  const rateH = ratio(Math.min(conversions.holdout, heldOut), heldOut);
  const perPersonT = ratio(revenue.treatment, reached);
  const perPersonH = ratio(revenue.holdout, heldOut);
  const { lift, unavailable } = liftOf(reached, heldOut, conversions.treatment, conversions.holdout);
  const unconverted = prefixed(counters, 'unconverted:');
  const windowDays = (config.windowDays as Readonly<Record<string, number>>)[channel];
  return {
    segmentId,
    segmentName: segment?.name ?? null,
    channel,
    audience,
    reached,
    heldOut,
    engagement: prefixed(counters, 'engaged:'),
    conversions,
    orders: { treatment: counters['orders:treatment'] ?? 0, holdout: counters['orders:holdout'] ?? 0 },
    revenue: { treatment: round(revenue.treatment, 2), holdout: round(revenue.holdout, 2) },
    conversionRate: { treatment: roundOrNull(rateT), holdout: roundOrNull(rateH) },
    revenuePerPerson: { treatment: roundOrNull(perPersonT), holdout: roundOrNull(perPersonH) },
    lift,
    ...(unavailable !== undefined && { liftUnavailable: unavailable }),
    incremental:
      rateT === null || rateH === null || perPersonT === null || perPersonH === null
        ? null
        : { conversions: round((rateT - rateH) * reached, 2), revenue: round((perPersonT - perPersonH) * reached, 2) },
    attributionDays: windowDays ?? 0,
    ...(Object.keys(unconverted).length > 0 && { unconvertedOrders: unconverted }),
  };
}

/**
 * The report over the counters of `from`..`to` (and, for the members at the end, the audience
 * counters of the days after `to`): a row per segment and channel with a reach, a holdout, an
 * order or a destination of that channel. `segmentId` and `channel` narrow it.
 */
export function buildSegmentReport(
  items: readonly SegmentCounterItem[],
  laterAudienceItems: readonly SegmentCounterItem[],
  segments: readonly ReportedSegment[],
  range: { readonly from: string; readonly to: string; readonly segmentId?: string; readonly channel?: string },
  config: AttributionConfig,
): SegmentReport {
  const known = new Map(segments.map((segment) => [segment.id, segment]));
  const rows = new Map<string, { segmentId: string; channel: string; totals: Totals }>();
  const audiences = new Map<string, Record<string, number>>();
  const rowOf = (segmentId: string, channel: string) => {
    const key = `${segmentId}|${channel}`;
    let row = rows.get(key);
    if (!row) {
      row = { segmentId, channel, totals: { counters: {} } };
      rows.set(key, row);
    }
    return row;
  };
  const audienceOf = (segmentId: string): Record<string, number> => {
    let audience = audiences.get(segmentId);
    if (!audience) {
      audience = {};
      audiences.set(segmentId, audience);
    }
    return audience;
  };
  const wanted = (segmentId: string, channel?: string): boolean =>
    (range.segmentId === undefined || segmentId === range.segmentId) && (channel === undefined || range.channel === undefined || channel === range.channel);
  for (const segment of segments) if (wanted(segment.id)) for (const channel of segment.channels) if (wanted(segment.id, channel)) rowOf(segment.id, channel);
  for (const item of items) {
    if (!wanted(item.segmentId)) continue;
    if (item.channel === 'audience') sumInto(audienceOf(item.segmentId), item.counters);
    else if (wanted(item.segmentId, item.channel)) sumInto(rowOf(item.segmentId, item.channel).totals.counters, item.counters);
  }
  const netChangeAfter = new Map<string, number>();
  for (const item of laterAudienceItems) {
    if (item.channel !== 'audience') continue;
    netChangeAfter.set(
      item.segmentId,
      (netChangeAfter.get(item.segmentId) ?? 0) + (item.counters['audience:entered'] ?? 0) - (item.counters['audience:exited'] ?? 0),
    );
  }
  const audienceFigures = (segmentId: string): AudienceFigures => {
    const counters = audiences.get(segmentId) ?? {};
    const size = known.get(segmentId)?.size ?? 0;
    return {
      entered: counters['audience:entered'] ?? 0,
      exited: counters['audience:exited'] ?? 0,
      membersAtEnd: Math.max(0, size - (netChangeAfter.get(segmentId) ?? 0)),
    };
  };
  return {
    from: range.from,
    to: range.to,
    currency: config.currency,
    attributionModel: config.model,
    rows: [...rows.values()]
      .sort((a, b) => compareText(a.segmentId, b.segmentId) || channelRank(a.channel) - channelRank(b.channel) || compareText(a.channel, b.channel))
      .map(({ segmentId, channel, totals }) => channelRow(known.get(segmentId), segmentId, channel, totals, audienceFigures(segmentId), config)),
  };
}
