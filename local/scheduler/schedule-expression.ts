/**
 * EventBridge Scheduler expressions: `rate(value unit)`, `cron(minutes hours day-of-month month
 * day-of-week year)` and `at(yyyy-mm-ddThh:mm:ss)`, cron and at read in an IANA time zone. Pure:
 * every function takes the time it works from.
 */

export class ScheduleExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleExpressionError';
  }
}

/** Which days of a month match, given the year, month (1-12) and day. */
type DayMatcher = (year: number, month: number, day: number) => boolean;

export interface CronSchedule {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly months: ReadonlySet<number>;
  readonly years: ReadonlySet<number>;
  readonly day: DayMatcher;
}

export interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

export type ScheduleExpression =
  | { readonly kind: 'rate'; readonly periodMs: number }
  | { readonly kind: 'cron'; readonly cron: CronSchedule }
  | { readonly kind: 'at'; readonly wallTime: WallTime };

const RATE_UNITS: Readonly<Record<string, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
/** AWS numbers days of the week 1 (Sunday) to 7 (Saturday). */
const WEEKDAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MIN_YEAR = 1970;
const MAX_YEAR = 2199;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 1 (Sunday) to 7 (Saturday), as AWS cron numbers them. */
function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

function parseNumber(text: string, min: number, max: number, names: readonly string[] | undefined, field: string): number {
  const named = names?.indexOf(text.toUpperCase()) ?? -1;
  const value = named >= 0 ? named + 1 : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw new ScheduleExpressionError(`invalid ${field} value "${text}"`);
  return value;
}

/** A comma-separated list of `*`, `n`, `a-b`, each optionally `/step`, as the set of values it covers. */
function parseList(text: string, min: number, max: number, field: string, names?: readonly string[]): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText, extra] = part.split('/');
    if (extra !== undefined || range === '') throw new ScheduleExpressionError(`invalid ${field} "${part}"`);
    const step = stepText === undefined ? 1 : parseNumber(stepText, 1, max, undefined, field);
    let from: number;
    let to: number;
    if (range === '*') {
      [from, to] = [min, max];
    } else if (range.includes('-')) {
      const [start = '', end = ''] = range.split('-');
      [from, to] = [parseNumber(start, min, max, names, field), parseNumber(end, min, max, names, field)];
      if (from > to) throw new ScheduleExpressionError(`invalid ${field} range "${range}"`);
    } else {
      from = parseNumber(range, min, max, names, field);
      // `5/10` means from 5 to the end in steps of 10.
      to = stepText === undefined ? from : max;
    }
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

function sorted(values: Set<number>): number[] {
  return [...values].sort((a, b) => a - b);
}

/** The weekday nearest to `day` in the same month (AWS `W`). */
function nearestWeekday(year: number, month: number, day: number): number {
  const lastDay = daysInMonth(year, month);
  const target = Math.min(day, lastDay);
  const dayOfWeek = weekday(year, month, target);
  if (dayOfWeek === 7) return target === 1 ? 3 : target - 1;
  if (dayOfWeek === 1) return target === lastDay ? target - 2 : target + 1;
  return target;
}

function parseDayOfMonth(text: string): DayMatcher {
  if (text === 'L') return (year, month, day) => day === daysInMonth(year, month);
  if (text === 'LW') return (year, month, day) => day === nearestWeekday(year, month, daysInMonth(year, month));
  const nearest = /^(\d+)W$/.exec(text);
  if (nearest) {
    const target = parseNumber(nearest[1] ?? '', 1, 31, undefined, 'day-of-month');
    return (year, month, day) => day === nearestWeekday(year, month, target);
  }
  const days = parseList(text, 1, 31, 'day-of-month');
  return (_year, _month, day) => days.has(day);
}

function parseDayOfWeek(text: string): DayMatcher {
  const last = /^(\w+)?L$/.exec(text);
  if (last) {
    // `L` alone is the last day of the week (Saturday); `6L` the month's last Friday.
    const target = last[1] === undefined ? 7 : parseNumber(last[1], 1, 7, WEEKDAY_NAMES, 'day-of-week');
    return (year, month, day) => weekday(year, month, day) === target && day + 7 > daysInMonth(year, month);
  }
  const nth = /^(\w+)#([1-5])$/.exec(text);
  if (nth) {
    const target = parseNumber(nth[1] ?? '', 1, 7, WEEKDAY_NAMES, 'day-of-week');
    const occurrence = Number(nth[2]);
    return (year, month, day) => weekday(year, month, day) === target && Math.ceil(day / 7) === occurrence;
  }
  const days = parseList(text, 1, 7, 'day-of-week', WEEKDAY_NAMES);
  return (year, month, day) => days.has(weekday(year, month, day));
}

export function parseCron(fieldsText: string): CronSchedule {
  const fields = fieldsText.trim().split(/\s+/);
  if (fields.length !== 6) throw new ScheduleExpressionError('cron needs 6 fields: minutes hours day-of-month month day-of-week year');
  const [minutes = '', hours = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = fields;
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new ScheduleExpressionError('exactly one of day-of-month and day-of-week must be "?"');
  }
  return {
    minutes: sorted(parseList(minutes, 0, 59, 'minutes')),
    hours: sorted(parseList(hours, 0, 23, 'hours')),
    months: parseList(month, 1, 12, 'month', MONTH_NAMES),
    years: parseList(year, MIN_YEAR, MAX_YEAR, 'year'),
    day: dayOfMonth === '?' ? parseDayOfWeek(dayOfWeek) : parseDayOfMonth(dayOfMonth),
  };
}

export function parseScheduleExpression(expression: string): ScheduleExpression {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] ?? '';
    const singular = unit.replace(/s$/, '');
    // AWS wants `rate(1 hour)` but `rate(2 hours)`.
    if (value < 1 || (value === 1) !== (unit === singular)) throw new ScheduleExpressionError(`invalid rate expression "${expression}"`);
    return { kind: 'rate', periodMs: value * (RATE_UNITS[singular] ?? 0) };
  }
  const cron = /^cron\((.*)\)$/.exec(expression.trim());
  if (cron) return { kind: 'cron', cron: parseCron(cron[1] ?? '') };
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(expression.trim());
  if (at) {
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number) as [number, number, number, number, number, number];
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
      throw new ScheduleExpressionError(`invalid at expression "${expression}"`);
    }
    return { kind: 'at', wallTime: { year, month, day, hour, minute, second } };
  }
  throw new ScheduleExpressionError(`"${expression}" is not a rate(), cron() or at() expression`);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let cached = formatters.get(timeZone);
  if (!cached) {
    cached = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, cached);
  }
  return cached;
}

/** Throws unless `timeZone` is an IANA time zone this runtime knows. */
export function assertTimeZone(timeZone: string): void {
  try {
    formatter(timeZone);
  } catch {
    throw new ScheduleExpressionError(`unknown time zone "${timeZone}"`);
  }
}

/** The wall-clock time at `instant` (epoch ms) in `timeZone`. */
export function wallTimeAt(instant: number, timeZone: string): WallTime {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(new Date(instant))
      .map((part) => [part.type, part.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

function utcOffsetAt(instant: number, timeZone: string): number {
  const wall = wallTimeAt(instant, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant (epoch ms) a wall-clock time happens in `timeZone`; in a DST gap, the shifted instant. */
export function instantOf(wall: WallTime, timeZone: string): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  const firstGuess = asUtc - utcOffsetAt(asUtc, timeZone);
  const offset = utcOffsetAt(firstGuess, timeZone);
  return asUtc - offset;
}

/** The first time strictly after `after` (epoch ms) that `cron` matches in `timeZone`, or undefined past year 2199. */
export function nextCronTime(cron: CronSchedule, after: number, timeZone: string): number | undefined {
  const start = wallTimeAt(after, timeZone);
  for (let dayIndex = 0; ; dayIndex += 1) {
    const date = new Date(Date.UTC(start.year, start.month - 1, start.day + dayIndex));
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (year > MAX_YEAR) return undefined;
    if (!cron.years.has(year) || !cron.months.has(month) || !cron.day(year, month, day)) continue;
    for (const hour of cron.hours) {
      for (const minute of cron.minutes) {
        const instant = instantOf({ year, month, day, hour, minute, second: 0 }, timeZone);
        if (instant > after) return instant;
      }
    }
  }
}
