import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@aws-lambda-powertools/logger';
import { LOOPBACK } from '../free-port';

/** Service APIs take small JSON bodies; past this the request is refused rather than buffered. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface AwsHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface AwsHttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Serialized as JSON. */
  readonly body: unknown;
}

export interface AwsHttpEndpoint {
  /** Base URL, for `AWS_ENDPOINT_URL_<SERVICE>`. */
  readonly endpoint: string;
  isListening(): boolean;
  close(): Promise<void>;
}

/** An AWS service error as the SDK reads it: a code (the exception's shape name) and a message. */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

/**
 * A loopback HTTP server for an emulated AWS service API: parses the body, answers JSON, turns
 * `AwsServiceError`s into error responses through `errorResponse` (protocols differ in how they
 * name the error) and anything else into a 500.
 */
export async function startAwsHttpEndpoint(options: {
  readonly service: string;
  readonly handle: (request: AwsHttpRequest) => Promise<AwsHttpResponse>;
  readonly errorResponse: (error: AwsServiceError) => AwsHttpResponse;
  readonly contentType: string;
  readonly logger: Logger;
}): Promise<AwsHttpEndpoint> {
  const { logger } = options;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const reply = (answer: AwsHttpResponse): void => {
        const body = JSON.stringify(answer.body ?? {});
        response.writeHead(answer.status, {
          'content-type': options.contentType,
          'content-length': String(Buffer.byteLength(body)),
          'x-amzn-requestid': randomUUID(),
          ...answer.headers,
        });
        response.end(body);
      };
      if (size > MAX_BODY_BYTES) {
        reply(options.errorResponse(new AwsServiceError('ValidationException', 'request body too large', 413)));
        return;
      }
      options
        .handle({
          method: request.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        })
        .then(reply, (error: unknown) => {
          if (error instanceof AwsServiceError) {
            reply(options.errorResponse(error));
            return;
          }
          logger.error('local service request failed', { service: options.service, path: url.pathname, error });
          reply(options.errorResponse(new AwsServiceError('InternalServerException', 'internal error', 500)));
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    isListening: () => server.listening,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Parses a JSON request body; an empty body is an empty object. */
export function jsonBody(request: AwsHttpRequest): Record<string, unknown> {
  if (request.body.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body);
  } catch {
    throw new AwsServiceError('SerializationException', 'the request body is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AwsServiceError('SerializationException', 'the request body is not a JSON object');
  }
  return parsed as Record<string, unknown>;
}

export function requiredString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') throw new AwsServiceError('ValidationException', `${field} is required`);
  return value;
}

export function optionalString(input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsServiceError('ValidationException', `${field} must be a string`);
  return value;
}

/** AWS JSON and REST-JSON protocols carry timestamps as epoch seconds. */
export function epochSeconds(date: Date | number): number {
  return (typeof date === 'number' ? date : date.getTime()) / 1000;
}
