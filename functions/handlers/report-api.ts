import { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import { reportStoreFromEnvironment } from '../composition/report-api';
import { dayOf } from '../domain/reports/journey-counters';
import { buildJourneyReport, JOURNEY_KEY_PATTERN } from '../domain/reports/journey-report';
import { adminApiHandler, dispatchRoute, type AdminRoute, type RouteTable } from '../http/admin-handler';
import type { ReportRouteKey } from '../../lib/definitions/api';
import { BadRequestError } from '../http/errors';
import { jsonResponse } from '../http/responses';
import type { ReportStore } from '../ports/report-store';

const logger = new Logger({ serviceName: 'report-api' });

const DAY_MS = 86_400_000;
/** Without `from`, the report covers the last 30 days up to `to`. */
const DEFAULT_DAYS = 30;
/** Counter items live 400 days (their TTL): a longer range could only show zeros. */
const MAX_DAYS = 400;

/** `2026-02-30` parses (as 2 March): only a day that prints back as itself exists. */
function isCalendarDay(text: string): boolean {
  const time = Date.parse(`${text}T00:00:00.000Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(text);
}

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date YYYY-MM-DD', abort: true })
  .refine(isCalendarDay, 'must be a calendar date YYYY-MM-DD');

const reportQuery = z.strictObject({
  from: day.optional(),
  to: day.optional(),
  journey: z.string().regex(JOURNEY_KEY_PATTERN, 'must be cart-abandonment, product-view or audience-email:<segmentId>').optional(),
});

const addDays = (text: string, days: number): string => dayOf(new Date(Date.parse(`${text}T00:00:00.000Z`) + days * DAY_MS));
const daysBetween = (from: string, to: string): number => Math.round((Date.parse(`${to}T00:00:00.000Z`) - Date.parse(`${from}T00:00:00.000Z`)) / DAY_MS);

export interface ReportRange {
  readonly from: string;
  readonly to: string;
  readonly journeyKey?: string;
}

/** The query of `GET /v1/reports/journeys`, defaults applied; 400 naming each wrong parameter. */
export function parseReportQuery(query: Readonly<Record<string, string | undefined>>, now: Date): ReportRange {
  const parsed = reportQuery.safeParse(query);
  if (!parsed.success) {
    throw new BadRequestError(
      parsed.error.issues.flatMap((issue) =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({ path: key, reason: 'unknown parameter: use from, to and journey' }))
          : [{ path: String(issue.path[0] ?? 'query'), reason: `${String(issue.path[0] ?? 'query')} ${issue.message}` }],
      ),
    );
  }
  const { from: givenFrom, to: givenTo, journey } = parsed.data;
  const to = givenTo ?? dayOf(now);
  const from = givenFrom ?? addDays(to, -(DEFAULT_DAYS - 1));
  if (from > to) throw new BadRequestError([{ path: 'from', reason: 'from must be on or before to' }]);
  if (daysBetween(from, to) + 1 > MAX_DAYS) throw new BadRequestError([{ path: 'from', reason: `the report covers at most ${MAX_DAYS} days` }]);
  return { from, to, ...(journey !== undefined && { journeyKey: journey }) };
}

/** The routes of the report API over a store and a clock (the handler's composition below). */
export function reportRoutes(store: ReportStore, clock: () => Date = () => new Date()): AdminRoute {
  const routes: RouteTable<ReportRouteKey> = {
    'GET /v1/reports/journeys': async (event) => {
      const range = parseReportQuery(event.queryStringParameters ?? {}, clock());
      const items = await store.listCounters(range);
      logger.info('journey report', { from: range.from, to: range.to, journeyKey: range.journeyKey, items: items.length });
      return jsonResponse(
        200,
        buildJourneyReport(items, { from: range.from, to: range.to, ...(range.journeyKey !== undefined && { journeyKeys: [range.journeyKey] }) }),
      );
    },
  };
  return (event) => dispatchRoute(routes, event);
}

let route: AdminRoute | undefined;

/** Admin report API: per journey and audience, entrants, sends, engagement and lift over the holdout. */
export const handler = adminApiHandler(logger, (event) => {
  route ??= reportRoutes(reportStoreFromEnvironment());
  return route(event);
});
