import { Logger } from '@aws-lambda-powertools/logger';
import type { OperationsRouteKey } from '../../lib/definitions/api';
import { operationsEnvironment, type OperationsEnvironment } from '../composition/operations';
import { activityDays } from '../domain/operations/activity';
import { adminApiHandler, dispatchRoute, type AdminRoute, type RouteTable } from '../http/admin-handler';
import { integerQueryParameter } from '../http/query';
import { jsonResponse } from '../http/responses';
import { parseActivityQuery } from '../schemas/operations';

const logger = new Logger({ serviceName: 'operations-api' });

/** Runs listed per workflow: by default the last few, at most a page of ListExecutions. */
const DEFAULT_RUNS = 5;
const MAX_RUNS = 50;

/** The routes of the Operations API (read-only) over its environment (built on first use) and a clock. */
export function operationsRoutes(environmentOf: () => OperationsEnvironment, clock: () => Date = () => new Date()): AdminRoute {
  // Built on first read: a request refused before it reads (token, parameters) needs no client.
  let built: OperationsEnvironment | undefined;
  const environment = (): OperationsEnvironment => (built ??= environmentOf());
  const routes: RouteTable<OperationsRouteKey> = {
    'GET /v1/operations/activity': async (event) => {
      const { from, to } = parseActivityQuery(event.queryStringParameters ?? {}, clock());
      const stored = await environment().activity.list({ from, to });
      logger.info('activity read', { from, to, items: stored.length });
      return jsonResponse(200, { days: activityDays(stored, from, to) });
    },
    'GET /v1/operations/queues': async () => jsonResponse(200, { queues: await environment().queues.depths() }),
    'GET /v1/operations/runs': async (event) => {
      const limit = integerQueryParameter(event, 'limit', DEFAULT_RUNS, MAX_RUNS);
      const runs = await environment().workflows.latest(limit);
      logger.info('runs listed', { limit, runs: runs.length });
      return jsonResponse(200, { runs });
    },
  };
  return (event) => dispatchRoute(routes, event);
}

let route: AdminRoute | undefined;

/** Admin Operations API: events and merges per hour, queue depths and dead letters, the latest batch workflow runs. */
export const handler = adminApiHandler(logger, (event) => {
  route ??= operationsRoutes(() => operationsEnvironment());
  return route(event);
});
