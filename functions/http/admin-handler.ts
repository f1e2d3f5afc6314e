import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { loadCredentialHashes } from '../adapters/credential-hashes';
import { requireAdminToken } from './auth';
import { withCors } from './cors';
import { NotFoundError } from './errors';
import { toHttpResponse } from './responses';

export type AdminRoute = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** A handler for every route key of a function (RouteKeys in lib/definitions/api.ts): one missing, or misspelled, does not compile. */
export type RouteTable<Key extends string> = Readonly<Record<Key, AdminRoute>>;

/** Runs the handler of the request's route key; 404 for a key the table does not hold. */
export async function dispatchRoute<Key extends string>(table: RouteTable<Key>, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const handle = Object.hasOwn(table, event.routeKey) ? table[event.routeKey as Key] : undefined;
  if (!handle) throw new NotFoundError(`no route ${event.routeKey}`);
  return handle(event);
}

/**
 * The shape of every admin API function: the bearer token is checked against the admin token
 * hashes (401 otherwise), then the route runs; any error becomes its HTTP answer, and only
 * unexpected ones (500) are logged, with the route and never the request body. CORS: only the
 * configured admin origins (`DMP_ADMIN_CORS_ORIGINS`), none by default; preflights are answered
 * before the token check.
 */
export function adminApiHandler(logger: Logger, route: AdminRoute) {
  return withCors('admin-origins', async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    logger.addContext(context);
    try {
      requireAdminToken(event, await loadCredentialHashes('ADMIN_TOKEN'));
      return await route(event);
    } catch (error) {
      const response = toHttpResponse(error);
      if (response.statusCode === 500) logger.error('admin request failed', { routeKey: event.routeKey, error: error as Error });
      return response;
    }
  });
}
