/**
 * Strict ISO 8601 parsing for event times. `Date.parse` is too lenient for a contract (it rolls
 * 2024-02-30 over to March and reads zone-less times in the host's zone), so dates are checked
 * field by field. A time without an offset is UTC, as on every Lambda host.
 */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** The instant an ISO 8601 date or date-time names, as a normalized `toISOString()`; else undefined. */
export function normalizeIsoTimestamp(text: string): string | undefined {
  const match = ISO_8601.exec(text.trim());
  if (!match) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', offset = 'Z'] = match;
  const fields = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second),
  };
  if (fields.month < 1 || fields.month > 12) return undefined;
  if (fields.day < 1 || fields.day > daysInMonth(fields.year, fields.month)) return undefined;
  if (fields.hour > 23 || fields.minute > 59 || fields.second > 59) return undefined;
  const offsetMinutes = parseOffsetMinutes(offset);
  if (offsetMinutes === undefined) return undefined;
  const milliseconds = Number(fraction.padEnd(3, '0').slice(0, 3));
  const utc = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  utc.setUTCFullYear(fields.year, fields.month - 1, fields.day);
  utc.setUTCHours(fields.hour, fields.minute - offsetMinutes, fields.second, milliseconds);
  return utc.toISOString();
}

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

function parseOffsetMinutes(offset: string): number | undefined {
  if (offset === 'Z' || offset === 'z') return 0;
  const digits = offset.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return (offset.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

/**
 * How far event times may stray from the receipt time (issue "Hostile input"). The write key is
 * public, so the time a message claims is only a claim:
 * - a client clock is corrected with `sentAt` as Segment does: `timestamp + (receivedAt - sentAt)`
 *   (the client's own clock error cancels out), when the message carries `sentAt` and a time of its own;
 * - a time more than MAX_FUTURE_SKEW_MS after receipt is clamped to the receipt time;
 * - a time older than MAX_EVENT_AGE_DAYS before receipt (the hot event retention, 13 months, as
 *   docs/contract.md §14 allows histories to be loaded) is raised to that bound.
 */
export const EVENT_TIME_BOUNDS = {
  maxFutureSkewMs: 5 * 60_000,
  maxEventAgeDays: 395,
} as const;

const DAY_MS = 86_400_000;

/** What the bounded event time is computed from (the fields of an accepted message). */
export interface ClaimedTimes {
  /** Event time as accepted: `timestamp`, else `originalTimestamp`, else the receipt time. */
  readonly timestamp: string;
  /** Receipt time stamped by the ingest function (never the client's). */
  readonly receivedAt: string;
  readonly sentAt?: string;
}

/**
 * The event time the platform uses: corrected for the client clock, then bounded to
 * [receivedAt - maxEventAgeDays, receivedAt + maxFutureSkewMs]. A deterministic function of the
 * message, so every delivery of it (and every rebuild) gives the same time.
 */
export function boundedEventTime(times: ClaimedTimes, bounds: typeof EVENT_TIME_BOUNDS = EVENT_TIME_BOUNDS): string {
  const received = Date.parse(times.receivedAt);
  let event = Date.parse(times.timestamp);
  if (Number.isNaN(received)) return times.timestamp;
  if (Number.isNaN(event)) return times.receivedAt;
  const sent = times.sentAt === undefined ? Number.NaN : Date.parse(times.sentAt);
  // A message without a time of its own was stamped with the receipt time: nothing to correct.
  if (!Number.isNaN(sent) && times.timestamp !== times.receivedAt) event += received - sent;
  if (event > received + bounds.maxFutureSkewMs) event = received;
  const oldest = received - bounds.maxEventAgeDays * DAY_MS;
  if (event < oldest) event = oldest;
  return new Date(event).toISOString();
}

/**
 * The time that decides which value wins (traits, consent, the newest contact identifier): the
 * bounded event time, but never later than the receipt time. A message can therefore never
 * outrank one the platform received after it by claiming a future time; it can only lose by
 * claiming an older one. Messages received together keep their order by event time (the tie-break).
 */
export function precedenceTime(eventTime: string, receivedAt: string | undefined): string {
  return receivedAt !== undefined && receivedAt < eventTime ? receivedAt : eventTime;
}
