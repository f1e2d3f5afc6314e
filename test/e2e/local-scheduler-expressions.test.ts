import { instantOf, nextCronTime, parseCron, parseScheduleExpression, ScheduleExpressionError, wallTimeAt } from '../../local/scheduler/schedule-expression';

/** Successive firing times, as ISO strings, from `after`. */
function firings(cron: string, after: string, timeZone: string, count: number): string[] {
  const schedule = parseCron(cron);
  const times: string[] = [];
  let cursor = Date.parse(after);
  for (let index = 0; index < count; index += 1) {
    const next = nextCronTime(schedule, cursor, timeZone);
    if (next === undefined) break;
    times.push(new Date(next).toISOString());
    cursor = next;
  }
  return times;
}

describe('rate()', () => {
  it('reads minutes, hours and days, singular for 1 and plural otherwise, as AWS does', () => {
    expect(parseScheduleExpression('rate(1 hour)')).toEqual({ kind: 'rate', periodMs: 3_600_000 });
    expect(parseScheduleExpression('rate(15 minutes)')).toEqual({ kind: 'rate', periodMs: 900_000 });
    expect(parseScheduleExpression('rate(2 days)')).toEqual({ kind: 'rate', periodMs: 172_800_000 });
    for (const invalid of ['rate(1 hours)', 'rate(2 hour)', 'rate(0 minutes)', 'rate(5 seconds)', 'every hour']) {
      expect(() => parseScheduleExpression(invalid)).toThrow(ScheduleExpressionError);
    }
  });
});

describe('cron()', () => {
  it('fires on weekdays at 09:00 local time, across a daylight saving change', () => {
    // Paris leaves summer time on Sunday 2026-10-25: 09:00 is 07:00Z before and 08:00Z after.
    expect(firings('0 9 ? * MON-FRI *', '2026-10-22T12:00:00Z', 'Europe/Paris', 3)).toEqual([
      '2026-10-23T07:00:00.000Z',
      '2026-10-26T08:00:00.000Z',
      '2026-10-27T08:00:00.000Z',
    ]);
  });

  it('supports steps, lists and ranges in minutes and hours', () => {
    expect(firings('0/20 8-9 * * ? *', '2026-01-01T00:00:00Z', 'UTC', 7)).toEqual([
      '2026-01-01T08:00:00.000Z',
      '2026-01-01T08:20:00.000Z',
      '2026-01-01T08:40:00.000Z',
      '2026-01-01T09:00:00.000Z',
      '2026-01-01T09:20:00.000Z',
      '2026-01-01T09:40:00.000Z',
      '2026-01-02T08:00:00.000Z',
    ]);
    expect(firings('15,45 12 1 JAN,JUL ? 2027', '2026-06-01T00:00:00Z', 'UTC', 3)).toEqual([
      '2027-01-01T12:15:00.000Z',
      '2027-01-01T12:45:00.000Z',
      '2027-07-01T12:15:00.000Z',
    ]);
  });

  it('supports L, W and # in the day fields', () => {
    // Last day of the month, nearest weekday to the 1st (Saturday 2026-08-01 → Monday 3rd), second Tuesday, last Friday.
    expect(firings('0 0 L * ? *', '2026-02-01T00:00:00Z', 'UTC', 2)).toEqual(['2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z']);
    expect(firings('0 0 1W 8 ? 2026', '2026-07-01T00:00:00Z', 'UTC', 1)).toEqual(['2026-08-03T00:00:00.000Z']);
    expect(firings('0 0 ? 11 3#2 2026', '2026-01-01T00:00:00Z', 'UTC', 1)).toEqual(['2026-11-10T00:00:00.000Z']);
    expect(firings('0 0 ? 11 6L 2026', '2026-01-01T00:00:00Z', 'UTC', 1)).toEqual(['2026-11-27T00:00:00.000Z']);
  });

  it('answers nothing once the years run out', () => {
    expect(firings('0 0 1 1 ? 2025', '2026-01-01T00:00:00Z', 'UTC', 1)).toEqual([]);
  });

  it('refuses what AWS refuses', () => {
    for (const invalid of ['0 9 * * MON *', '0 9 ? * ? *', '0 9 * *', '60 9 * * ? *', '0 24 * * ? *', '0 9 32 * ? *', '0 9 ? * 8 *', '0 9 * 13 ? *']) {
      expect(() => parseCron(invalid)).toThrow(ScheduleExpressionError);
    }
  });
});

describe('at() and time zones', () => {
  it('reads a one-time schedule as a wall time in its zone', () => {
    const at = parseScheduleExpression('at(2026-12-24T18:30:00)');
    expect(at).toEqual({ kind: 'at', wallTime: { year: 2026, month: 12, day: 24, hour: 18, minute: 30, second: 0 } });
    if (at.kind !== 'at') throw new Error('expected at()');
    expect(new Date(instantOf(at.wallTime, 'America/New_York')).toISOString()).toBe('2026-12-24T23:30:00.000Z');
    expect(wallTimeAt(Date.parse('2026-12-24T23:30:00Z'), 'Asia/Tokyo')).toEqual({ year: 2026, month: 12, day: 25, hour: 8, minute: 30, second: 0 });
    expect(() => parseScheduleExpression('at(2026-02-30T00:00:00)')).toThrow(ScheduleExpressionError);
  });
});
