import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { HttpError } from './errors';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;

export function jsonResponse(statusCode: number, body: unknown, headers: Readonly<Record<string, string>> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/**
 * The one mapping from a thrown value to a response. `HttpError`s carry their status and details;
 * anything else is a bug or an outage: 500 with no detail, so nothing internal leaks (the caller
 * logs the error itself).
 */
export function toHttpResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  if (error instanceof HttpError) {
    // No `www-authenticate` on 401: a Basic challenge makes browsers pop a login dialog in the console.
    const headers: Record<string, string> = error.statusCode === 503 ? { 'retry-after': '1' } : {};
    return jsonResponse(error.statusCode, { success: false, ...error.extra, errors: error.details }, headers);
  }
  return jsonResponse(500, { success: false, errors: [{ reason: 'internal error' }] });
}
