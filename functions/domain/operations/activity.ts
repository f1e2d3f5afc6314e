import { addDays, dayOf } from '../shared/utc-days';

/**
 * The platform's activity counters (Operations API, README "Operations API"): per UTC day, the
 * events reconciled and the profiles merged away in each hour. The reconcile consumer adds a
 * batch's counts to one item per day, with no marker per message as the report counters have:
 * they are operational figures, approximate (a counter write that fails is lost, one that DynamoDB
 * applied but the SDK retried counts twice). A redelivered message counts once all the same: only
 * applied messages count, and a message applied before is a duplicate.
 *
 * The hour of an event is the hour the platform received it (the ingest's `receivedAt`), not the
 * client's event time: "events today" are the events that arrived today, whatever the clocks of
 * the devices said; a message without a readable `receivedAt` counts at its processing time. A
 * merge counts in the hour of the message that caused it.
 */

/** At most this many days per activity request (a month of days, 24 hours each). */
export const MAX_ACTIVITY_DAYS = 31;

/** What reconciling one message did, as the counters see it. */
export interface ReconciledMessage {
  /** When the ingest accepted it (ISO 8601), if readable. */
  readonly receivedAt?: string;
  /** Profiles merged into the surviving profile by this message. */
  readonly merged: number;
}

/** The counters one batch adds to one day: `events:HH` and `merges:HH`, only those above zero. */
export interface DayIncrements {
  readonly day: string;
  readonly increments: Readonly<Record<string, number>>;
}

/** The counter names of an hour (0..23). */
export const eventsCounter = (hour: number): string => `events:${String(hour).padStart(2, '0')}`;
export const mergesCounter = (hour: number): string => `merges:${String(hour).padStart(2, '0')}`;

/**
 * The increments of a batch's applied messages, one entry per distinct UTC day (one write each):
 * duplicates, suppressed and unattributable messages are not passed here.
 */
export function activityIncrements(messages: readonly ReconciledMessage[], now: Date): DayIncrements[] {
  const days = new Map<string, Record<string, number>>();
  for (const message of messages) {
    const received = message.receivedAt === undefined ? Number.NaN : Date.parse(message.receivedAt);
    const at = Number.isNaN(received) ? now : new Date(received);
    const day = dayOf(at);
    const increments = days.get(day) ?? {};
    const events = eventsCounter(at.getUTCHours());
    const merges = mergesCounter(at.getUTCHours());
    increments[events] = (increments[events] ?? 0) + 1;
    if (message.merged > 0) increments[merges] = (increments[merges] ?? 0) + message.merged;
    days.set(day, increments);
  }
  return [...days].sort(([a], [b]) => a.localeCompare(b)).map(([day, increments]) => ({ day, increments }));
}

/** A stored day: its counters as read (`events:HH`, `merges:HH`). */
export interface DayCounters {
  readonly day: string;
  readonly counters: Readonly<Record<string, number>>;
}

export interface ActivityHour {
  readonly hour: number;
  readonly events: number;
  readonly merges: number;
}

export interface ActivityDay {
  readonly date: string;
  readonly events: number;
  readonly merges: number;
  /** Always 24 hours, 0..23 UTC, zeros where nothing was counted. */
  readonly hours: readonly ActivityHour[];
}

/** Every day `from`..`to` (inclusive) with its 24 hours, from the stored days (missing days and hours are zeros). */
export function activityDays(stored: readonly DayCounters[], from: string, to: string): ActivityDay[] {
  const byDay = new Map(stored.map((item) => [item.day, item.counters]));
  const days: ActivityDay[] = [];
  for (let date = from; date <= to; date = addDays(date, 1)) {
    const counters = byDay.get(date) ?? {};
    const hours = Array.from({ length: 24 }, (_, hour) => ({ hour, events: counters[eventsCounter(hour)] ?? 0, merges: counters[mergesCounter(hour)] ?? 0 }));
    days.push({
      date,
      events: hours.reduce((sum, hour) => sum + hour.events, 0),
      merges: hours.reduce((sum, hour) => sum + hour.merges, 0),
      hours,
    });
  }
  return days;
}
