import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export interface RequestShape {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

/**
 * An API Gateway HTTP API (payload v2) event as the Lambda receives it: lower-cased header names,
 * binary or encoded bodies base64-encoded.
 */
export function apiGatewayEvent({ method = 'POST', path, headers = {}, body }: RequestShape): APIGatewayProxyEventV2 {
  const lowerCased = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  const binary = Buffer.isBuffer(body);
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: lowerCased,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'api-request-1',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 1_767_225_600_000,
    },
    isBase64Encoded: binary,
    ...(body !== undefined && { body: binary ? body.toString('base64') : body }),
  };
}

export function basicAuthorization(user: string, password = ''): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
