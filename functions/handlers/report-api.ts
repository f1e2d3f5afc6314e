import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ReportRouteKey } from '../../lib/definitions/api';
import { reportApiEnvironment, type ReportApiEnvironment } from '../composition/report-api';
import { buildControlGroupReport, controlGroupRange } from '../domain/reports/control-group-report';
import { addDays, dayOf } from '../domain/shared/utc-days';
import { buildJourneyReport } from '../domain/reports/journey-report';
import { controlGroupReportCsv, journeyReportCsv, offerReportCsv, segmentReportCsv } from '../domain/reports/report-csv';
import { buildOfferReport } from '../domain/reports/offer-report';
import { offerIdOfReportKey, offerReportKey } from '../domain/personalization/offer';
import type { SegmentCounterItem } from '../ports/attribution-store';
import { buildSegmentReport, type ReportedSegment } from '../domain/reports/segment-report';
import { adminApiHandler, dispatchRoute, type AdminRoute, type RouteTable } from '../http/admin-handler';
import { invalidBody, optionalJsonBody } from '../http/request-body';
import { jsonResponse } from '../http/responses';
import { parseReportQuery, redrawBody } from '../schemas/reports';
import type { SegmentRecord } from '../ports/segment-store';

const logger = new Logger({ serviceName: 'report-api' });

const MAX_BODY_BYTES = 1_024;

/** A report as JSON, or as CSV for a spreadsheet (`format=csv`). */
function answer<T>(format: 'json' | 'csv', name: string, report: T, csv: (report: T) => string): APIGatewayProxyStructuredResultV2 {
  if (format === 'json') return jsonResponse(200, report);
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}.csv"` },
    body: csv(report),
  };
}

/** The channels a segment's destinations activate: they get a row even before any count. */
function reportedSegment(segment: SegmentRecord): ReportedSegment {
  const channels = segment.destinations.map((destination) => (destination.type === 'journey' ? 'email' : destination.type));
  return { id: segment.id, name: segment.name, size: segment.size, channels: [...new Set(channels)] };
}

/** The routes of the report API over its environment (built on first use) and a clock (the handler's composition below). */
export function reportRoutes(environmentOf: () => ReportApiEnvironment, clock: () => Date = () => new Date()): AdminRoute {
  // Built on first read: a request refused before it reads (token, parameters) needs no table.
  let built: ReportApiEnvironment | undefined;
  const environment = (): ReportApiEnvironment => (built ??= environmentOf());
  const routes: RouteTable<ReportRouteKey> = {
    'GET /v1/reports/journeys': async (event) => {
      const query = parseReportQuery('journeys', event.queryStringParameters ?? {}, clock());
      const items = await environment().journeys.listCounters({
        from: query.from,
        to: query.to,
        ...(query.journeyKey !== undefined && { journeyKey: query.journeyKey }),
      });
      logger.info('journey report', { from: query.from, to: query.to, journeyKey: query.journeyKey, items: items.length });
      const report = buildJourneyReport(items, { from: query.from, to: query.to, ...(query.journeyKey !== undefined && { journeyKeys: [query.journeyKey] }) });
      return answer(query.format, `journeys-${query.from}-${query.to}`, report, journeyReportCsv);
    },
    'GET /v1/reports/segments': async (event) => {
      const now = clock();
      const query = parseReportQuery('segments', event.queryStringParameters ?? {}, now);
      const today = dayOf(now);
      const scope = query.segmentId === undefined ? {} : { segmentId: query.segmentId };
      // The days after the period, up to today: their entries and exits give the members at its end.
      const [items, later, segments] = await Promise.all([
        environment().attribution.listSegmentCounters({ from: query.from, to: query.to, ...scope }),
        query.to < today ? environment().attribution.listSegmentCounters({ from: addDays(query.to, 1), to: today, ...scope }) : Promise.resolve([]),
        environment().segments.listSegments(),
      ]);
      // Offers keep their counters beside the segments' (the offers report reads them).
      const ofSegments = (list: readonly SegmentCounterItem[]) => list.filter((item) => offerIdOfReportKey(item.segmentId) === undefined);
      const report = buildSegmentReport(ofSegments(items), ofSegments(later), segments.map(reportedSegment), query, environment().attributionConfig);
      logger.info('segment report', {
        from: query.from,
        to: query.to,
        segmentId: query.segmentId,
        channel: query.channel,
        items: items.length,
        rows: report.rows.length,
      });
      return answer(query.format, `segments-${query.from}-${query.to}`, report, segmentReportCsv);
    },
    'GET /v1/reports/offers': async (event) => {
      const query = parseReportQuery('offers', event.queryStringParameters ?? {}, clock());
      const [items, offers] = await Promise.all([
        environment().attribution.listSegmentCounters({
          from: query.from,
          to: query.to,
          ...(query.offerId !== undefined && { segmentId: offerReportKey(query.offerId) }),
        }),
        environment().offers.listOffers(),
      ]);
      const report = buildOfferReport(items, offers, query, environment().attributionConfig);
      logger.info('offer report', { from: query.from, to: query.to, offerId: query.offerId, items: items.length, rows: report.rows.length });
      return answer(query.format, `offers-${query.from}-${query.to}`, report, offerReportCsv);
    },
    'GET /v1/reports/control-group': async (event) => {
      const query = parseReportQuery('control-group', event.queryStringParameters ?? {}, clock());
      const draw = await environment().controlGroup.draw();
      const range = controlGroupRange(query, draw);
      const [populations, buyerDays] = await Promise.all([
        environment().attribution.bucketPopulations(),
        range.from <= range.to ? environment().attribution.listBuyerDays(range) : Promise.resolve([]),
      ]);
      const report = buildControlGroupReport(draw, populations, buyerDays, range, environment().attributionConfig.currency);
      logger.info('control group report', { from: range.from, to: range.to, drawVersion: draw?.version, buyerDays: buyerDays.length });
      return answer(query.format, `control-group-${range.from}-${range.to}`, report, controlGroupReportCsv);
    },
    'GET /v1/journeys': async () => jsonResponse(200, environment().journeyCatalog),
    'GET /v1/control-group': async () => jsonResponse(200, { draw: (await environment().controlGroup.draw()) ?? null }),
    'POST /v1/control-group/redraw': async (event) => {
      const parsed = redrawBody.safeParse(await optionalJsonBody(event, MAX_BODY_BYTES));
      if (!parsed.success) throw invalidBody(parsed.error);
      const draw = await environment().controlGroup.redraw(parsed.data.share);
      logger.info('control group drawn', { version: draw.version, share: draw.share });
      return jsonResponse(200, { draw });
    },
  };
  return (event) => dispatchRoute(routes, event);
}

let route: AdminRoute | undefined;

/** Admin report API: journeys, segments × channels, offers and the global control group, with lift and its interval; the journeys as configured. */
export const handler = adminApiHandler(logger, (event) => {
  route ??= reportRoutes(() => reportApiEnvironment());
  return route(event);
});
