import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { decideEnvironment } from '../composition/decide';
import { decideFor, publicDecision } from '../domain/personalization/visitor-decisions';
import type { Identifier } from '../domain/identity/identifiers';
import { basicAuthUser, requireCredential } from '../http/auth';
import { withCors } from '../http/cors';
import { BadRequestError } from '../http/errors';
import { jsonResponse, toHttpResponse } from '../http/responses';
import { parsePlacements } from '../schemas/decision-query';

const logger = new Logger({ serviceName: 'decide' });

/** As long as the Tracking API accepts an id (functions/domain/profile/limits.ts). */
const MAX_ID_LENGTH = 256;

/** Every answer: personal to the visitor, never kept by a browser or a proxy. */
const NO_STORE = { 'cache-control': 'private, no-store' };

/** The visitor as analytics.js knows them: their userId first (the most trusted), then their anonymousId. */
function visitorIdentifiers(query: Readonly<Record<string, string | undefined>>): Identifier[] {
  const identifiers: Identifier[] = [];
  for (const [parameter, type] of [
    ['userId', 'user_id'],
    ['anonymousId', 'anonymous_id'],
  ] as const) {
    const value = query[parameter]?.trim();
    if (value === undefined || value === '') continue;
    if (value.length > MAX_ID_LENGTH) throw new BadRequestError([{ path: parameter, reason: `at most ${MAX_ID_LENGTH} characters` }]);
    identifiers.push({ type, value });
  }
  if (identifiers.length === 0) throw new BadRequestError([{ path: 'anonymousId', reason: 'anonymousId or userId is required' }]);
  return identifiers;
}

async function answer(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const query = event.queryStringParameters ?? {};
  const environment = decideEnvironment();
  requireCredential(basicAuthUser(event) ?? query.writeKey, await environment.writeKeyHashes(), 'write key');
  const placements = parsePlacements(query);
  const identifiers = visitorIdentifiers(query);
  const { profileId, decisions } = await decideFor(environment, { identifiers }, placements, new Date());
  const answered = decisions.map((decision) => ({ decision, decisionId: randomUUID() }));
  // Held-out decisions are logged (ids only) beside the holdout touches the Offer Shown events record.
  for (const { decision, decisionId } of answered) {
    if (decision.reason === 'holdout')
      logger.info('decision held out', { placement: decision.placement, offerId: decision.heldOutOfferId, decisionId, profileId });
  }
  const bodies = answered.map(({ decision, decisionId }) => publicDecision(decision, decisionId));
  const body = query.placements !== undefined ? { decisions: bodies } : bodies[0];
  return jsonResponse(200, body, NO_STORE);
}

/**
 * `GET /v1/decide` (docs/contract.md §10): the offer a visitor sees in each placement, called by
 * the site's pages with the public write key. One identity lookup and one query of the visitor's
 * precomputed facts answer it; the offers are cached per container.
 */
export const handler = withCors('site-origins', async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
  logger.addContext(context);
  try {
    return await answer(event);
  } catch (error) {
    const response = toHttpResponse(error);
    if (response.statusCode === 500) logger.error('decision failed', { error: error as Error });
    return { ...response, headers: { ...response.headers, ...NO_STORE } };
  }
});
