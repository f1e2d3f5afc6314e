import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { RouteDefinition } from '../lib/definitions/api';
import { LOCAL_ACCOUNT_ID } from './lambda-runtime';

/**
 * What API Gateway HTTP API (payload format 2.0) does around a Lambda integration, as pure
 * functions: route matching, the event a handler receives and the HTTP response built from its
 * result. The API has no CORS configuration, as on AWS: an OPTIONS request goes to its route like
 * any other, and CORS headers are the functions' (functions/http/cors.ts).
 */

/** API Gateway's own payload limit; larger requests never reach the function. */
export const MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024;

export interface RouteMatch {
  readonly route: RouteDefinition;
  readonly pathParameters: Readonly<Record<string, string>>;
}

const PARAMETER_SEGMENT = /^\{([A-Za-z0-9_]+)\}$/;

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matchPath(route: RouteDefinition, segments: readonly string[]): Record<string, string> | undefined {
  const routeSegments = route.path.split('/');
  if (routeSegments.length !== segments.length) return undefined;
  const parameters: Record<string, string> = {};
  for (const [index, routeSegment] of routeSegments.entries()) {
    const segment = segments[index] ?? '';
    const parameter = PARAMETER_SEGMENT.exec(routeSegment)?.[1];
    if (parameter === undefined) {
      if (routeSegment !== segment) return undefined;
    } else {
      if (segment === '') return undefined;
      parameters[parameter] = decodeSegment(segment);
    }
  }
  return parameters;
}

function literalSegmentCount(route: RouteDefinition): number {
  return route.path.split('/').filter((segment) => !PARAMETER_SEGMENT.test(segment)).length;
}

/** `{name}` matches one non-empty path segment; the most specific route wins, as on AWS. */
export function matchRoute(routes: readonly RouteDefinition[], method: string, rawPath: string): RouteMatch | undefined {
  const segments = rawPath.split('/');
  let best: RouteMatch | undefined;
  for (const route of routes) {
    if (route.method !== method) continue;
    const pathParameters = matchPath(route, segments);
    if (!pathParameters) continue;
    if (!best || literalSegmentCount(route) > literalSegmentCount(best.route)) best = { route, pathParameters };
  }
  return best;
}

/** A request as read off the socket, before API Gateway turns it into an event. */
export interface ReceivedRequest {
  readonly method: string;
  /** The request target: path and optional query string. */
  readonly url: string;
  /** Node's `rawHeaders`: names and values alternating, original case, repeats kept. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly httpVersion: string;
  readonly localPort: number;
  readonly requestId: string;
  readonly receivedAt: Date;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestContext.time`, e.g. `12/Mar/2020:19:03:58 +0000`. */
export function requestTime(at: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  const month = MONTHS[at.getUTCMonth()] ?? 'Jan';
  return `${pad(at.getUTCDate())}/${month}/${at.getUTCFullYear()}:${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())} +0000`;
}

export function splitTarget(url: string): { rawPath: string; rawQueryString: string } {
  const withoutFragment = url.split('#', 1)[0] ?? '';
  const queryStart = withoutFragment.indexOf('?');
  if (queryStart === -1) return { rawPath: withoutFragment, rawQueryString: '' };
  return { rawPath: withoutFragment.slice(0, queryStart), rawQueryString: withoutFragment.slice(queryStart + 1) };
}

/** Repeated parameters are joined with commas (format 2.0 has no multi-value fields). */
function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    const previous = parameters[name];
    parameters[name] = previous === undefined ? value : `${previous},${value}`;
  }
  return Object.keys(parameters).length > 0 ? parameters : undefined;
}

function traceId(at: Date): string {
  const epochSeconds = Math.floor(at.getTime() / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${epochSeconds}-${randomBytes(12).toString('hex')}`;
}

/**
 * Headers lower-cased and repeated values joined with commas; cookies move to `cookies` (the
 * `cookie` header is not passed on); API Gateway's forwarding headers are added.
 */
function headersAndCookies(request: ReceivedRequest): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = (request.rawHeaders[index] ?? '').toLowerCase();
    const value = request.rawHeaders[index + 1] ?? '';
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((cookie) => cookie.trim())
          .filter((cookie) => cookie !== ''),
      );
      continue;
    }
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous},${value}`;
  }
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${request.sourceIp}` : request.sourceIp;
  headers['x-forwarded-port'] = String(request.localPort);
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] ??= traceId(request.receivedAt);
  return { headers, cookies };
}

/** Text bodies arrive as strings; compressed or binary ones base64-encoded, like API Gateway. */
function encodeBody(body: Buffer, headers: Readonly<Record<string, string>>): { body?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  if (headers['content-encoding'] !== undefined || !isUtf8(body)) {
    return { body: body.toString('base64'), isBase64Encoded: true };
  }
  return { body: body.toString('utf8'), isBase64Encoded: false };
}

export function toApiGatewayEvent(request: ReceivedRequest, match: RouteMatch): APIGatewayProxyEventV2 {
  const { rawPath, rawQueryString } = splitTarget(request.url);
  const { headers, cookies } = headersAndCookies(request);
  const host = (headers.host ?? '').replace(/:\d+$/, '');
  const routeKey = `${match.route.method} ${match.route.path}`;
  const queryStringParameters = queryParameters(rawQueryString);
  const pathParameters = Object.keys(match.pathParameters).length > 0 ? { ...match.pathParameters } : undefined;
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(queryStringParameters && { queryStringParameters }),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: request.method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: request.requestId,
      routeKey,
      stage: '$default',
      time: requestTime(request.receivedAt),
      timeEpoch: request.receivedAt.getTime(),
    },
    ...(pathParameters && { pathParameters }),
    ...encodeBody(request.body, headers),
  };
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Each becomes its own `Set-Cookie` header. */
  readonly cookies: readonly string[];
  readonly body: Buffer;
}

/** A result API Gateway cannot turn into a response: the client gets a 500. */
export class MalformedLambdaResponseError extends Error {
  constructor(reason: string) {
    super(`malformed Lambda proxy response: ${reason}`);
    this.name = 'MalformedLambdaResponseError';
  }
}

export function jsonResponse(statusCode: number, payload: unknown): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(JSON.stringify(payload)),
  };
}

function structuredHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new MalformedLambdaResponseError('headers must be an object');
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    if (!['string', 'number', 'boolean'].includes(typeof headerValue)) {
      throw new MalformedLambdaResponseError(`header ${name} must be a string, number or boolean`);
    }
    headers[name.toLowerCase()] = String(headerValue);
  }
  return headers;
}

function structuredCookies(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((cookie): cookie is string => typeof cookie === 'string')) {
    throw new MalformedLambdaResponseError('cookies must be an array of strings');
  }
  return value;
}

/**
 * Maps a handler's result like payload format 2.0: an object with `statusCode` is a structured
 * response; anything else is a 200 `application/json` whose body is the result (a string as is).
 */
export function toHttpResponse(result: unknown): HttpResponse {
  const isStructured = typeof result === 'object' && result !== null && !Array.isArray(result) && 'statusCode' in result;
  if (!isStructured) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(body) };
  }
  const structured = result as Record<string, unknown>;
  const { statusCode, body, isBase64Encoded } = structured;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new MalformedLambdaResponseError('statusCode must be an integer from 100 to 599');
  }
  if (body !== undefined && body !== null && typeof body !== 'string') throw new MalformedLambdaResponseError('body must be a string');
  const bytes = typeof body === 'string' ? Buffer.from(body, isBase64Encoded === true ? 'base64' : 'utf8') : Buffer.alloc(0);
  const headers = structuredHeaders(structured.headers);
  // Without a content type from the function, API Gateway labels the body as UTF-8 text.
  if (bytes.length > 0 && headers['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=utf-8';
  return { statusCode, headers, cookies: structuredCookies(structured.cookies), body: bytes };
}
