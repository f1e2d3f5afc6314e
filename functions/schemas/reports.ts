/**
 * Query parameters of the report routes (docs/contract.md §12) and the control group's redraw
 * body: validated at the edge, 400 naming each wrong parameter.
 */
import * as z from 'zod';
import { CHANNELS } from '../domain/reports/attribution';
import { MAX_CONTROL_SHARE } from '../domain/reports/control-group';
import { addDays, dayOf } from '../domain/shared/utc-days';
import { JOURNEY_KEY_PATTERN } from '../domain/reports/journey-report';
import { OFFER_ID_PATTERN } from '../domain/personalization/offer';
import { BadRequestError } from '../http/errors';
import { invalidQuery } from '../http/query';

const DAY_MS = 86_400_000;
/** Without `from`, a report covers the last 30 days up to `to`. */
const DEFAULT_DAYS = 30;
/** Counter items live 400 days (their TTL): a longer range could only show zeros. */
export const MAX_REPORT_DAYS = 400;

/** `2026-02-30` parses (as 2 March): only a day that prints back as itself exists. */
function isCalendarDay(text: string): boolean {
  const time = Date.parse(`${text}T00:00:00.000Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(text);
}

/** A query parameter naming a calendar day, YYYY-MM-DD. */
export const calendarDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date YYYY-MM-DD', abort: true })
  .refine(isCalendarDay, 'must be a calendar date YYYY-MM-DD');

const range = { from: calendarDay.optional(), to: calendarDay.optional(), format: z.enum(['json', 'csv']).optional() };

const queries = {
  journeys: z.strictObject({
    ...range,
    journey: z.string().regex(JOURNEY_KEY_PATTERN, 'must be cart-abandonment, product-view, audience-email:<segmentId> or audience-sms:<segmentId>').optional(),
  }),
  segments: z.strictObject({
    ...range,
    segment: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,47}$/, 'must be a segment id')
      .optional(),
    channel: z.enum(CHANNELS, { message: `must be one of ${CHANNELS.join(', ')}` }).optional(),
  }),
  'control-group': z.strictObject(range),
  offers: z.strictObject({
    ...range,
    offer: z.string().regex(OFFER_ID_PATTERN, 'must be an offer id').optional(),
  }),
};

export type ReportKind = keyof typeof queries;

const daysBetween = (from: string, to: string): number => Math.round((Date.parse(`${to}T00:00:00.000Z`) - Date.parse(`${from}T00:00:00.000Z`)) / DAY_MS);

export interface ReportQuery {
  readonly from: string;
  readonly to: string;
  readonly format: 'json' | 'csv';
  readonly journeyKey?: string;
  readonly segmentId?: string;
  readonly channel?: (typeof CHANNELS)[number];
  readonly offerId?: string;
}

/** The query of a report route, defaults applied; 400 naming each wrong parameter. */
export function parseReportQuery(kind: ReportKind, query: Readonly<Record<string, string | undefined>>, now: Date): ReportQuery {
  const parsed = queries[kind].safeParse(query);
  if (!parsed.success) throw invalidQuery(parsed.error, Object.keys(queries[kind].shape));
  const data = parsed.data as {
    from?: string;
    to?: string;
    format?: 'json' | 'csv';
    journey?: string;
    segment?: string;
    channel?: ReportQuery['channel'];
    offer?: string;
  };
  const to = data.to ?? dayOf(now);
  const from = data.from ?? addDays(to, -(DEFAULT_DAYS - 1));
  if (from > to) throw new BadRequestError([{ path: 'from', reason: 'from must be on or before to' }]);
  if (daysBetween(from, to) + 1 > MAX_REPORT_DAYS) throw new BadRequestError([{ path: 'from', reason: `the report covers at most ${MAX_REPORT_DAYS} days` }]);
  return {
    from,
    to,
    format: data.format ?? 'json',
    ...(data.journey !== undefined && { journeyKey: data.journey }),
    ...(data.segment !== undefined && { segmentId: data.segment }),
    ...(data.channel !== undefined && { channel: data.channel }),
    ...(data.offer !== undefined && { offerId: data.offer }),
  };
}

/** `POST /v1/control-group/redraw` body: optionally a new share. */
export const redrawBody = z.strictObject({
  share: z.number().min(0, `share is between 0 and ${MAX_CONTROL_SHARE}`).max(MAX_CONTROL_SHARE, `share is between 0 and ${MAX_CONTROL_SHARE}`).optional(),
});
