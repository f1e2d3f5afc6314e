const DAY_MS = 86_400_000;

/** The UTC day (YYYY-MM-DD) of an ISO 8601 time. */
export function dayOf(at: string | Date): string {
  const time = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(time.getTime())) throw new RangeError('not a time');
  return time.toISOString().slice(0, 10);
}

/** The UTC day `days` after (or before, negative) `day` (YYYY-MM-DD). */
export const addDays = (day: string, days: number): string => dayOf(new Date(Date.parse(`${day}T00:00:00.000Z`) + days * DAY_MS));
