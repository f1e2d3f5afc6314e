import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { loadCredentialHashes } from '../adapters/credential-hashes';
import { requireAdminToken } from './auth';
import { withCors } from './cors';
import { toHttpResponse } from './responses';

export type AdminRoute = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

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
