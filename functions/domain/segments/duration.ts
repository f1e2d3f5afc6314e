/**
 * ISO 8601 durations (`P30D`, `PT12H`, `P1Y2M`, `P2W`) as segment definitions use them for time
 * windows. Years and months are calendar units on the UTC calendar (`P1M` before 31 March is the
 * last day of February); weeks, days, hours, minutes and seconds are fixed lengths.
 */
export interface Duration {
  /** The text as written, kept for messages and documentation. */
  readonly text: string;
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

const DURATION_PATTERN = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** Parses `PnYnMnWnDTnHnMnS` (integer parts, at least one); undefined when it is not one. */
export function parseDuration(text: string): Duration | undefined {
  const match = DURATION_PATTERN.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const part = (index: number): number => Number(match[index] ?? 0);
  const duration: Duration = {
    text,
    years: part(1),
    months: part(2),
    weeks: part(3),
    days: part(4),
    hours: part(5),
    minutes: part(6),
    seconds: part(7),
  };
  return duration;
}

/** The instant `duration` before `now`: the start of a "within the last ..." window. */
export function subtractDuration(now: Date, duration: Duration): Date {
  const start = new Date(now.getTime());
  if (duration.years !== 0 || duration.months !== 0) {
    const day = start.getUTCDate();
    start.setUTCDate(1);
    start.setUTCMonth(start.getUTCMonth() - duration.months - 12 * duration.years);
    // Clamp to the last day of the target month (31 March minus P1M is 28/29 February).
    const lastDay = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 0)).getUTCDate();
    start.setUTCDate(Math.min(day, lastDay));
  }
  const fixedMs = ((((duration.weeks * 7 + duration.days) * 24 + duration.hours) * 60 + duration.minutes) * 60 + duration.seconds) * 1000;
  return new Date(start.getTime() - fixedMs);
}
