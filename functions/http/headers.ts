import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * A request header by name, case-insensitively: API Gateway lower-cases names, but test clients
 * and other front doors may not.
 */
export function requestHeader(event: Pick<APIGatewayProxyEventV2, 'headers'>, name: string): string | undefined {
  const headers = event.headers ?? {};
  const exact = headers[name];
  if (exact !== undefined) return exact;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}
