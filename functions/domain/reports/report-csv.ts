/**
 * Every report as CSV for a spreadsheet (`&format=csv`): one line per row of the report, figures
 * as plain numbers (fractions, not percentages), empty where the JSON says null. The escaping and
 * the formula guard are the segment export's.
 */
import { toCsv, type ExportRow } from '../segments/export';
import type { ControlGroupReport, CohortFigures } from './control-group-report';
import type { ReportBody } from './journey-report';
import type { AttributedOutcome, Lift, SegmentReport } from './segment-report';
import type { OfferReport } from './offer-report';

type Cell = string | number | boolean | null | undefined;

const text = (value: Cell): string => (value === null || value === undefined ? '' : String(value));
const row = (cells: Readonly<Record<string, Cell>>): ExportRow => Object.fromEntries(Object.entries(cells).map(([name, value]) => [name, text(value)]));
const table = (rows: readonly ExportRow[], columns: readonly string[]): string => toCsv(columns, rows, true);

const liftCells = (lift: Lift | null, unavailable: string | undefined): Record<string, Cell> => ({
  lift: lift?.value,
  lift_low: lift?.low,
  lift_high: lift?.high,
  significant: lift?.significant,
  relative_lift: lift?.relative?.value,
  relative_lift_low: lift?.relative?.low,
  relative_lift_high: lift?.relative?.high,
  note: unavailable,
});
const LIFT_COLUMNS = ['lift', 'lift_low', 'lift_high', 'significant', 'relative_lift', 'relative_lift_low', 'relative_lift_high', 'note'];

const ENGAGEMENT = ['delivered', 'opened', 'clicked', 'bounced', 'complained', 'offer_clicked'];

/** The columns a segment × channel row and an offer row share (AttributedOutcome). */
const outcomeColumns = (currency: string): string[] => [
  'conversions_treatment',
  'conversions_holdout',
  'orders_treatment',
  'orders_holdout',
  `revenue_treatment_${currency}`,
  `revenue_holdout_${currency}`,
  'conversion_rate_treatment',
  'conversion_rate_holdout',
  ...LIFT_COLUMNS,
  'incremental_conversions',
  `incremental_revenue_${currency}`,
  'attribution_days',
];

const outcomeCells = (line: AttributedOutcome, currency: string): Record<string, Cell> => ({
  conversions_treatment: line.conversions.treatment,
  conversions_holdout: line.conversions.holdout,
  orders_treatment: line.orders.treatment,
  orders_holdout: line.orders.holdout,
  [`revenue_treatment_${currency}`]: line.revenue.treatment,
  [`revenue_holdout_${currency}`]: line.revenue.holdout,
  conversion_rate_treatment: line.conversionRate.treatment,
  conversion_rate_holdout: line.conversionRate.holdout,
  ...liftCells(line.lift, line.liftUnavailable),
  incremental_conversions: line.incremental?.conversions,
  [`incremental_revenue_${currency}`]: line.incremental?.revenue,
  attribution_days: line.attributionDays,
});

export function segmentReportCsv(report: SegmentReport): string {
  const columns = [
    'from',
    'to',
    'segment_id',
    'segment_name',
    'channel',
    'entered',
    'exited',
    'members_at_end',
    'reached',
    'held_out',
    ...ENGAGEMENT,
    ...outcomeColumns(report.currency),
  ];
  const rows = report.rows.map((line) =>
    row({
      from: report.from,
      to: report.to,
      segment_id: line.segmentId,
      segment_name: line.segmentName,
      channel: line.channel,
      entered: line.audience.entered,
      exited: line.audience.exited,
      members_at_end: line.audience.membersAtEnd,
      reached: line.reached,
      held_out: line.heldOut,
      ...Object.fromEntries(ENGAGEMENT.map((name) => [name, line.engagement[name]])),
      ...outcomeCells(line, report.currency),
    }),
  );
  return table(rows, columns);
}

export function offerReportCsv(report: OfferReport): string {
  const columns = ['from', 'to', 'offer_id', 'offer_name', 'placement', 'shown', 'held_out', 'clicked', 'click_rate', ...outcomeColumns(report.currency)];
  const rows = report.rows.map((line) =>
    row({
      from: report.from,
      to: report.to,
      offer_id: line.offerId,
      offer_name: line.offerName,
      placement: line.placement,
      shown: line.shown,
      held_out: line.heldOut,
      clicked: line.clicked,
      click_rate: line.clickRate,
      ...outcomeCells(line, report.currency),
    }),
  );
  return table(rows, columns);
}

export function controlGroupReportCsv(report: ControlGroupReport): string {
  const columns = [
    'from',
    'to',
    'cohort',
    'people',
    'buyers',
    'orders',
    `revenue_${report.currency}`,
    'conversion_rate',
    'revenue_per_person',
    ...LIFT_COLUMNS,
    'revenue_per_person_lift',
    'revenue_per_person_lift_low',
    'revenue_per_person_lift_high',
    'draw_version',
    'share',
  ];
  const cohortRow = (cohort: string, figures: CohortFigures): ExportRow =>
    row({
      from: report.from,
      to: report.to,
      cohort,
      people: figures.people,
      buyers: figures.buyers,
      orders: figures.orders,
      [`revenue_${report.currency}`]: figures.revenue,
      conversion_rate: figures.conversionRate,
      revenue_per_person: figures.revenuePerPerson,
      ...liftCells(report.lift, report.liftUnavailable ?? report.note),
      revenue_per_person_lift: report.revenuePerPersonLift?.value,
      revenue_per_person_lift_low: report.revenuePerPersonLift?.low,
      revenue_per_person_lift_high: report.revenuePerPersonLift?.high,
      draw_version: report.draw?.version,
      share: report.draw?.share,
    });
  return table([cohortRow('control', report.control), cohortRow('everyone_else', report.everyoneElse)], columns);
}

export function journeyReportCsv(report: ReportBody): string {
  const columns = [
    'from',
    'to',
    'journey',
    'segment_id',
    'step',
    'sent',
    'delivered',
    'opened',
    'clicked',
    'bounced',
    'complained',
    'open_rate',
    'click_rate',
    'entrants_treatment',
    'entrants_holdout',
    'conversions_treatment',
    'conversions_holdout',
    'revenue_treatment',
    'revenue_holdout',
    'conversion_rate_treatment',
    'conversion_rate_holdout',
    'lift',
    'incremental_conversions',
  ];
  const rows = report.journeys.flatMap((journey) =>
    Object.entries(journey.steps).map(([step, figures]) =>
      row({
        from: report.from,
        to: report.to,
        journey: journey.journey,
        segment_id: journey.segmentId,
        step,
        sent: figures.sent,
        delivered: figures.delivered,
        opened: figures.opened,
        clicked: figures.clicked,
        bounced: figures.bounced,
        complained: figures.complained,
        open_rate: figures.openRate,
        click_rate: figures.clickRate,
        entrants_treatment: journey.entrants.treatment,
        entrants_holdout: journey.entrants.holdout,
        conversions_treatment: journey.conversions.treatment,
        conversions_holdout: journey.conversions.holdout,
        revenue_treatment: journey.revenue.treatment,
        revenue_holdout: journey.revenue.holdout,
        conversion_rate_treatment: journey.conversionRate.treatment,
        conversion_rate_holdout: journey.conversionRate.holdout,
        lift: journey.lift,
        incremental_conversions: journey.incrementalConversions,
      }),
    ),
  );
  return table(rows, columns);
}
