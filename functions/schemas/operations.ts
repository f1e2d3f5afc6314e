/** Query parameters of the Operations API's activity route: validated at the edge, 400 naming each wrong parameter. */
import * as z from 'zod';
import { MAX_ACTIVITY_DAYS } from '../domain/operations/activity';
import { addDays, dayOf } from '../domain/shared/utc-days';
import { BadRequestError } from '../http/errors';
import { invalidQuery } from '../http/query';
import { calendarDay } from './reports';

const activityQuery = z.strictObject({ from: calendarDay.optional(), to: calendarDay.optional() });

/** `from`..`to`, both today (UTC) by default and `to` defaulting to `from`: at most MAX_ACTIVITY_DAYS days. */
export function parseActivityQuery(query: Readonly<Record<string, string | undefined>>, now: Date): { readonly from: string; readonly to: string } {
  const parsed = activityQuery.safeParse(query);
  if (!parsed.success) throw invalidQuery(parsed.error, Object.keys(activityQuery.shape));
  const today = dayOf(now);
  const from = parsed.data.from ?? (parsed.data.to !== undefined && parsed.data.to < today ? parsed.data.to : today);
  const to = parsed.data.to ?? (from > today ? from : today);
  if (from > to) throw new BadRequestError([{ path: 'from', reason: 'from must be on or before to' }]);
  if (addDays(from, MAX_ACTIVITY_DAYS - 1) < to) throw new BadRequestError([{ path: 'from', reason: `the activity covers at most ${MAX_ACTIVITY_DAYS} days` }]);
  return { from, to };
}
