import type { ReportCounterItem } from '../domain/reports/journey-report';

/** Where the daily journey counters live (the `RPT#<journeyKey>` / `D#<day>` items). */
export interface ReportStore {
  /**
   * Every counter item of the UTC days `from`..`to` (inclusive, `YYYY-MM-DD`), of every journey
   * or only of `journeyKey`.
   */
  listCounters(range: { readonly from: string; readonly to: string; readonly journeyKey?: string }): Promise<ReportCounterItem[]>;
}
