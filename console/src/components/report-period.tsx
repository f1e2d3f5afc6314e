import { useState } from 'preact/hooks';
import { type Api, saveFile } from '../api';

/** The period a report covers: the last 30 days until changed. */
export interface ReportPeriod {
  readonly from: string;
  readonly to: string;
  /** `from=…&to=…`, for the report APIs. */
  readonly query: string;
  readonly setFrom: (day: string) => void;
  readonly setTo: (day: string) => void;
}

const day = (date: Date): string => date.toISOString().slice(0, 10);

export function useReportPeriod(): ReportPeriod {
  const [from, setFrom] = useState(() => day(new Date(Date.now() - 29 * 86_400_000)));
  const [to, setTo] = useState(() => day(new Date()));
  return { from, to, query: `from=${from}&to=${to}`, setFrom, setTo };
}

/** The period's two dates. */
export function ReportPeriodForm({ period }: { readonly period: ReportPeriod }) {
  return (
    <form class="search" aria-label="Report period" onSubmit={(event) => event.preventDefault()}>
      <label class="field">
        From
        <input type="date" value={period.from} max={period.to} onChange={(event) => period.setFrom(event.currentTarget.value)} />
      </label>
      <label class="field">
        To
        <input type="date" value={period.to} min={period.from} onChange={(event) => period.setTo(event.currentTarget.value)} />
      </label>
    </form>
  );
}

/** Saves a report of the period as CSV (`/v1/reports/<report>?…&format=csv`), named after it and the period. */
export async function downloadReport(api: Api, report: string, period: ReportPeriod): Promise<void> {
  saveFile(await api.download(`/v1/reports/${report}?${period.query}&format=csv`), `${report}-${period.from}-${period.to}.csv`);
}
