import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ingestDependencies } from '../composition/tracking';
import { payloadWriteKey, trackingEndpointForPath, TRACKING_LIMITS, validateTrackingPayload } from '../domain/tracking/accept-tracking-payload';
import { basicAuthUser, requireCredential } from '../http/auth';
import { BadRequestError, HttpError, NotFoundError, ServiceUnavailableError, type ErrorDetail } from '../http/errors';
import { parseJsonBody, readRequestBody } from '../http/request-body';
import { jsonResponse, toHttpResponse } from '../http/responses';
import { EventQueueUnavailableError, type EventQueue } from '../ports/event-queue';
import { groupByPerson } from '../domain/reconcile/group-by-person';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';

/** Tracking API (docs/contract.md §3): authenticate, validate, durably enqueue, answer. */
export interface IngestDependencies {
  readonly queue: EventQueue;
  /** SHA-256 hashes of the write keys currently accepted. */
  readonly writeKeyHashes: () => Promise<readonly string[]>;
  readonly now: () => Date;
  readonly newMessageId: () => string;
}

export type IngestHandler = (event: APIGatewayProxyEventV2, context: Pick<Context, 'awsRequestId'>) => Promise<APIGatewayProxyStructuredResultV2>;

/** Dependencies are resolved per invocation, inside the error mapping, so a misconfiguration is a logged 500. */
export function createIngestHandler(logger: Logger, resolveDependencies: () => IngestDependencies): IngestHandler {
  return async (event, context) => {
    // Request ids go on each log line rather than into the shared logger's state: the local
    // platform runs concurrent invocations in one process.
    const requestIds = { requestId: context.awsRequestId, apiRequestId: event.requestContext.requestId };
    try {
      return await acceptTrackingRequest(event, resolveDependencies(), logger, requestIds);
    } catch (error) {
      if (!(error instanceof HttpError)) {
        logger.error('tracking request failed', { ...requestIds, error });
      } else {
        const fields = { ...requestIds, status: error.statusCode, reasons: countReasons(error.details) };
        if (error.statusCode >= 500) logger.warn('tracking request refused', fields);
        else logger.info('tracking request refused', fields);
      }
      return toHttpResponse(error);
    }
  };
}

/** The ids an SDK sends with a message: enough to keep one visitor's messages together. */
const senderKeys = (message: AcceptedMessage): string[] => [
  ...(message.userId ? [`user:${message.userId}`] : []),
  ...(message.anonymousId ? [`anonymous:${message.anonymousId}`] : []),
];

async function acceptTrackingRequest(
  event: APIGatewayProxyEventV2,
  { queue, writeKeyHashes, now, newMessageId }: IngestDependencies,
  logger: Logger,
  requestIds: Readonly<Record<string, string>>,
): Promise<APIGatewayProxyStructuredResultV2> {
  const receivedAt = now();
  const endpoint = trackingEndpointForPath(event.rawPath);
  if (endpoint === undefined) throw new NotFoundError('unknown tracking route');

  const acceptedHashes = await writeKeyHashes();
  // A Basic header is checked before the body is even decoded; otherwise the body's writeKey.
  const headerWriteKey = basicAuthUser(event);
  if (headerWriteKey !== undefined) requireCredential(headerWriteKey, acceptedHashes, 'write key');
  const payload = parseJsonBody(await readRequestBody(event, TRACKING_LIMITS.maxRequestBytes));
  if (headerWriteKey === undefined) requireCredential(payloadWriteKey(payload), acceptedHashes, 'write key');

  const outcome = validateTrackingPayload(endpoint, payload, { receivedAt, newMessageId });
  if (outcome.kind === 'invalid-request') throw new BadRequestError(outcome.reason);
  const { accepted, rejected } = outcome;
  if (accepted.length > 0) {
    try {
      // One person's messages side by side (a server-side SDK interleaves its users): they then
      // tend to reach the same reconcile batch, which applies them in one commit.
      await queue.enqueue(groupByPerson(accepted, senderKeys).flat());
    } catch (error) {
      if (!(error instanceof EventQueueUnavailableError)) throw error;
      logger.error('events not queued', { ...requestIds, messages: accepted.length, error });
      throw new ServiceUnavailableError('events could not be queued; retry later');
    }
  }
  logger.info('tracking request handled', {
    ...requestIds,
    endpoint,
    accepted: accepted.length,
    rejected: rejected.length,
    ...(rejected.length > 0 && { reasons: countReasons(rejected) }),
  });
  if (rejected.length === 0) return jsonResponse(200, { success: true });
  // Partly (or not at all) accepted: the good messages are queued, the bad ones reported by index.
  return toHttpResponse(new BadRequestError(rejected, endpoint === 'batch' ? { accepted: accepted.length } : {}));
}

/** Reasons name fields, never values, so they are safe to log; counted to keep batch logs short. */
function countReasons(details: readonly ErrorDetail[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { reason } of details) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}

export const handler: IngestHandler = createIngestHandler(new Logger({ serviceName: 'ingest' }), ingestDependencies);
