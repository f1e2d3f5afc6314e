import { useState } from 'preact/hooks';
import type { Api } from '../api';
import { BarChart } from '../components/chart';
import { ErrorNote, Show, useLoad } from '../components/common';
import { DataTable } from '../components/data-table';
import { LiftPlot, liftInWords } from '../components/lift-plot';
import { downloadReport, ReportPeriodForm, useReportPeriod } from '../components/report-period';
import { formatDateTime, formatMoney, formatNumber, formatPercent } from '../format';

interface Pair {
  readonly treatment: number;
  readonly holdout: number;
}
interface JourneyRow {
  readonly journey: string;
  readonly segmentId?: string;
  readonly entrants: Pair;
  readonly conversions: Pair;
  readonly revenue: Pair;
  readonly conversionRate: { readonly treatment: number | null; readonly holdout: number | null };
  readonly lift: number | null;
  readonly incrementalConversions: number | null;
}
interface Lift {
  readonly value: number;
  readonly low: number;
  readonly high: number;
  readonly significant: boolean;
}
interface SegmentRow {
  readonly segmentId: string;
  readonly segmentName?: string;
  readonly liftUnavailable?: string;
  readonly channel: string;
  readonly reached: number;
  readonly conversions: Pair;
  readonly revenue: Pair;
  readonly lift: Lift | null;
}

interface Cohort {
  readonly people: number;
  readonly buyers: number;
  readonly orders: number;
  readonly revenue: number;
  readonly conversionRate: number | null;
  readonly revenuePerPerson: number | null;
}
interface ControlGroupReport {
  readonly currency?: string;
  readonly draw: { readonly version: number; readonly share: number; readonly drawnAt: string } | null;
  readonly control: Cohort;
  readonly everyoneElse: Cohort;
  readonly lift: Lift | null;
  readonly liftUnavailable?: string;
  readonly note?: string;
}

const percent = (value: number): string => formatPercent(value, undefined, 0);

export function ReportsPage({ api }: { readonly api: Api }) {
  const period = useReportPeriod();
  const [downloadError, setDownloadError] = useState<Error | undefined>(undefined);
  const { query } = period;
  const [loaded] = useLoad(
    () =>
      Promise.all([
        api.get<{ journeys: JourneyRow[] }>(`/v1/reports/journeys?${query}`),
        api.get<{ rows: SegmentRow[] }>(`/v1/reports/segments?${query}`),
        api.get<ControlGroupReport>(`/v1/reports/control-group?${query}`),
      ]),
    [query],
  );
  const download = async (report: 'journeys' | 'segments' | 'control-group'): Promise<void> => {
    try {
      setDownloadError(undefined);
      await downloadReport(api, report, period);
    } catch (error) {
      setDownloadError(error instanceof Error ? error : new Error(String(error)));
    }
  };
  return (
    <>
      <h1>Reports</h1>
      <ReportPeriodForm period={period} />
      {downloadError && <ErrorNote error={downloadError} />}
      <Show loaded={loaded}>
        {([{ journeys }, { rows }, control]) => (
          <>
            <section aria-labelledby="journeys-title" class="panel">
              <h2 id="journeys-title">Journeys</h2>
              {journeys.length > 0 && (
                <BarChart
                  title="Conversion rate: emailed group against holdout"
                  summary={`Conversion rates per journey: ${journeys
                    .map(
                      (row) =>
                        `${row.segmentId ?? row.journey} treatment ${percent(row.conversionRate.treatment ?? 0)}, holdout ${percent(row.conversionRate.holdout ?? 0)}`,
                    )
                    .join('; ')}`}
                  categories={journeys.map((row) => row.segmentId ?? row.journey)}
                  series={[
                    { label: 'Treatment', values: journeys.map((row) => row.conversionRate.treatment), color: '#1f5fa8' },
                    { label: 'Holdout', values: journeys.map((row) => row.conversionRate.holdout), color: '#b85c00' },
                  ]}
                  format={percent}
                />
              )}
              <DataTable
                label="Journeys table"
                rows={journeys}
                rowKey={(row) => `${row.journey}-${row.segmentId ?? ''}`}
                columns={[
                  { header: 'Journey', cell: (row) => (row.segmentId ? `${row.journey}: ${row.segmentId}` : row.journey) },
                  {
                    header: 'Entrants (treatment / holdout)',
                    cell: (row) => `${formatNumber(row.entrants.treatment)} / ${formatNumber(row.entrants.holdout)}`,
                  },
                  {
                    header: 'Conversions (treatment / holdout)',
                    cell: (row) => `${formatNumber(row.conversions.treatment)} / ${formatNumber(row.conversions.holdout)}`,
                  },
                  { header: 'Revenue (treatment)', cell: (row) => formatMoney(row.revenue.treatment) },
                  {
                    header: 'Conversion rate (treatment / holdout)',
                    cell: (row) => `${formatPercent(row.conversionRate.treatment)} / ${formatPercent(row.conversionRate.holdout)}`,
                  },
                  { header: 'Lift', cell: (row) => formatPercent(row.lift) },
                  { header: 'Incremental conversions', cell: (row) => formatNumber(row.incrementalConversions) },
                ]}
              />
              <button type="button" onClick={() => download('journeys')}>
                Download journeys (CSV)
              </button>
            </section>
            <section aria-labelledby="segment-reports-title" class="panel">
              <h2 id="segment-reports-title">Segments × channels</h2>
              {rows.length === 0 ? (
                <p class="muted">Nothing reached through a segment in this period.</p>
              ) : (
                <>
                  {rows.some((row) => row.lift) && (
                    <LiftPlot
                      title="Lift: conversion rate over the holdout's, in points, with its 95 % interval"
                      rows={rows.flatMap((row) => (row.lift ? [{ label: `${row.segmentName ?? row.segmentId} · ${row.channel}`, ...row.lift }] : []))}
                    />
                  )}
                  <DataTable
                    label="Segments × channels table"
                    rows={rows}
                    rowKey={(row) => `${row.segmentId}-${row.channel}`}
                    columns={[
                      { header: 'Segment', cell: (row) => row.segmentName ?? row.segmentId },
                      { header: 'Channel', cell: (row) => row.channel },
                      { header: 'Reached', cell: (row) => formatNumber(row.reached) },
                      {
                        header: 'Conversions (treatment / holdout)',
                        cell: (row) => `${formatNumber(row.conversions.treatment)} / ${formatNumber(row.conversions.holdout)}`,
                      },
                      { header: 'Lift in points (95 % interval)', cell: (row) => liftInWords(row.lift, row.liftUnavailable) },
                      { header: 'Significant', cell: (row) => (row.lift ? (row.lift.significant ? 'yes' : 'no') : '—') },
                    ]}
                  />
                </>
              )}
              <button type="button" onClick={() => download('segments')}>
                Download segments × channels (CSV)
              </button>
            </section>
            <ControlGroup report={control} onDownload={() => download('control-group')} />
          </>
        )}
      </Show>
    </>
  );
}

/** The global control group (no marketing at all) against everyone else. */
function ControlGroup({ report, onDownload }: { readonly report: ControlGroupReport; readonly onDownload: () => void }) {
  const cohorts: [string, Cohort][] = [
    ['Control group', report.control],
    ['Everyone else', report.everyoneElse],
  ];
  return (
    <section aria-labelledby="control-title" class="panel">
      <h2 id="control-title">Global control group</h2>
      <p>
        {report.draw
          ? `Drawn ${formatDateTime(report.draw.drawnAt)}: ${formatPercent(report.draw.share)} of people get no marketing (draw ${report.draw.version}).`
          : 'No control group is drawn: everyone may get marketing.'}{' '}
        {report.note ?? ''}
      </p>
      <DataTable
        label="Control group table"
        rows={cohorts}
        rowKey={([name]) => name}
        columns={[
          { header: 'Cohort', cell: ([name]) => name },
          { header: 'People', cell: ([, cohort]) => formatNumber(cohort.people) },
          { header: 'Buyers', cell: ([, cohort]) => formatNumber(cohort.buyers) },
          { header: 'Conversion rate', cell: ([, cohort]) => formatPercent(cohort.conversionRate) },
          { header: 'Revenue per person', cell: ([, cohort]) => formatMoney(cohort.revenuePerPerson, undefined, report.currency) },
        ]}
      />
      <p>
        Lift of marketing: {liftInWords(report.lift, report.liftUnavailable)}
        {report.lift ? `, ${report.lift.significant ? 'significant' : 'not significant'}` : ''}
      </p>
      <button type="button" onClick={onDownload}>
        Download control group (CSV)
      </button>
    </section>
  );
}
