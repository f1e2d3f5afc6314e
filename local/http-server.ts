import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { ROUTES } from '../lib/definitions/api';
import type { FunctionId } from '../lib/definitions/functions';
import {
  jsonResponse,
  matchRoute,
  MAX_REQUEST_BODY_BYTES,
  splitTarget,
  toApiGatewayEvent,
  toHttpResponse,
  type HttpResponse,
  type ReceivedRequest,
} from './api-gateway';
import type { ConsoleHandler } from './console';
import type { ExamplesHandler } from './examples';
import type { Engagement, EngagementResult } from './ses-events';
import type { OutboxEmail } from './ses-local';
import type { LocalSms } from './sms-local';
import { WebhookTestReceiver } from './webhook-receiver';

export interface HealthReport {
  readonly status: 'ok' | 'degraded';
  readonly components: Readonly<Record<string, unknown>>;
  /** Components that are not up, when degraded. */
  readonly failed?: readonly string[];
}

export interface LocalHttpServerOptions {
  readonly port: number;
  readonly host: string;
  invoke(functionId: FunctionId, event: APIGatewayProxyEventV2): Promise<unknown>;
  health(): Promise<HealthReport>;
  outbox(): Promise<OutboxEmail[]>;
  clearOutbox(): Promise<void>;
  /** Publishes the SES Open or Click event of a sent email (`POST /dev/outbox/{messageId}/open|click`). */
  engageOutbox(messageId: string, engagement: Engagement): Promise<EngagementResult>;
  /** The demo pages under /examples (local/examples.ts); none when absent. */
  readonly examples?: ExamplesHandler;
  /** The SMS stand-in's /dev/sms endpoints (local/sms-local.ts); none when absent. */
  readonly sms?: Pick<LocalSms, 'handleDevRequest'>;
  /** The marketer console under /console (local/console.ts); none when absent. */
  readonly console?: ConsoleHandler;
  readonly logger: Logger;
}

export interface LocalHttpServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections; requests under way get until `deadline` (epoch ms) to finish. */
  close(deadline: number): Promise<void>;
}

class PayloadTooLargeError extends Error {}

/** Reads the body up to API Gateway's limit; past it the rest is discarded, not buffered. */
function readLimitedBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY_BYTES) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    request.on('end', () => (tooLarge ? reject(new PayloadTooLargeError()) : resolve(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}

function sourceIp(request: IncomingMessage): string {
  return (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
}

function send(response: ServerResponse, reply: HttpResponse, extraHeaders: Record<string, string> = {}): void {
  const headers: Record<string, string | string[]> = {
    ...reply.headers,
    ...extraHeaders,
    'content-length': String(reply.body.length),
  };
  if (reply.cookies.length > 0) headers['set-cookie'] = [...reply.cookies];
  response.writeHead(reply.statusCode, headers);
  response.end(reply.body);
}

/** API Gateway's own error answers. */
const notFound = (): HttpResponse => jsonResponse(404, { message: 'Not Found' });
const internalServerError = (): HttpResponse => jsonResponse(500, { message: 'Internal Server Error' });
const payloadTooLarge = (): HttpResponse => jsonResponse(413, { message: 'Request Entity Too Large' });
const foreignOrigin = (): HttpResponse =>
  jsonResponse(403, { message: 'developer endpoints answer only pages and tools of this machine (Host localhost or 127.0.0.1, no other Origin)' });

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;

/**
 * Whether a request to /dev/* comes from this machine's own pages and tools, not from a page of
 * another site in the browser: the developer endpoints grant no CORS, and on top of that refuse
 * what a foreign page can still send without reading the answer (a form POST to
 * /dev/outbox/clear, a simulated click), and a DNS-rebound host name (Host other than loopback).
 */
function fromThisMachine(request: IncomingMessage): boolean {
  const host = request.headers.host ?? '';
  if (!LOOPBACK_HOST.test(host)) return false;
  const origin = request.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host.toLowerCase()}`) return false;
  const site = request.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

const WEBHOOK_PATH = /^\/dev\/webhooks\/([^/]+)$/;
const OUTBOX_ENGAGEMENT_PATH = /^\/dev\/outbox\/([^/]+)\/(open|click)$/;
const clickBody = z.object({ link: z.url() });

/**
 * The public HTTP API on node:http, behaving like the API Gateway HTTP API in front of the same
 * handlers, plus the local-only developer endpoints (/health, /dev/outbox with simulated opens and
 * clicks, /dev/webhooks).
 */
export async function startHttpServer(options: LocalHttpServerOptions): Promise<LocalHttpServer> {
  const { logger } = options;
  const webhooks = new WebhookTestReceiver();

  async function developerEndpoint(method: string, rawPath: string, request: IncomingMessage, body: Buffer): Promise<HttpResponse | undefined> {
    if (method === 'GET' && rawPath === '/health') {
      const report = await options.health();
      return jsonResponse(report.status === 'ok' ? 200 : 503, report);
    }
    if (method === 'GET' && rawPath === '/dev/outbox') return jsonResponse(200, await options.outbox());
    if (method === 'POST' && rawPath === '/dev/outbox/clear') {
      await options.clearOutbox();
      return jsonResponse(200, { cleared: true });
    }
    const engagement = method === 'POST' ? OUTBOX_ENGAGEMENT_PATH.exec(rawPath) : null;
    if (engagement) return engageOutbox(decodeURIComponent(engagement[1] ?? ''), engagement[2] === 'click' ? 'click' : 'open', body);
    if (method === 'GET' && rawPath === '/dev/webhooks') return jsonResponse(200, webhooks.deliveries());
    const webhook = method === 'POST' ? WEBHOOK_PATH.exec(rawPath) : null;
    if (webhook) {
      const answer = webhooks.receive({
        name: decodeURIComponent(webhook[1] ?? ''),
        query: splitTarget(request.url ?? '/').rawQueryString,
        headers: request.headers,
        body: body.toString('utf8'),
        receivedAt: new Date(),
      });
      return jsonResponse(answer.status, answer.body);
    }
    const sms = rawPath === '/dev/sms' || rawPath.startsWith('/dev/sms/') ? await options.sms?.handleDevRequest(method, rawPath, body) : undefined;
    if (sms) return jsonResponse(sms.status, sms.body);
    return undefined;
  }

  /** A recipient simulated: the open, or the click on `{"link": "<url>"}`, as SES would publish it. */
  async function engageOutbox(messageId: string, kind: Engagement['kind'], body: Buffer): Promise<HttpResponse> {
    let engagement: Engagement = { kind: 'open' };
    if (kind === 'click') {
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        json = undefined;
      }
      const parsed = clickBody.safeParse(json);
      if (!parsed.success) return jsonResponse(400, { message: 'the body must be JSON {"link": "<absolute URL>"}' });
      engagement = { kind: 'click', link: parsed.data.link };
    }
    const result = await options.engageOutbox(messageId, engagement);
    if (result === 'unknown-message') return jsonResponse(404, { message: 'no email with this message id in the outbox' });
    if (result === 'no-configuration-set')
      return jsonResponse(409, { message: 'this email was sent without the platform configuration set: SES publishes no events for it' });
    return jsonResponse(200, { published: kind === 'click' ? 'Click' : 'Open', messageId });
  }

  async function apiRoute(received: ReceivedRequest, rawPath: string): Promise<HttpResponse> {
    const match = matchRoute(ROUTES, received.method, rawPath);
    if (!match) return notFound();
    try {
      // No API-wide CORS configuration: CORS headers, preflights included, are the function's.
      return toHttpResponse(await options.invoke(match.route.functionId, toApiGatewayEvent(received, match)));
    } catch (error) {
      logger.error('integration failed', { routeKey: `${match.route.method} ${match.route.path}`, requestId: received.requestId, error });
      return internalServerError();
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const receivedAt = new Date();
    const method = request.method ?? 'GET';
    const url = request.url ?? '/';
    const ids = { 'apigw-requestid': requestId };
    const { rawPath } = splitTarget(url);
    // Developer endpoints grant no CORS (a preflight finds no route) and refuse other origins.
    if ((rawPath === '/dev' || rawPath.startsWith('/dev/')) && !fromThisMachine(request)) {
      request.resume();
      send(response, foreignOrigin());
      return;
    }
    if (Number(request.headers['content-length'] ?? 0) > MAX_REQUEST_BODY_BYTES) {
      request.resume();
      send(response, payloadTooLarge(), { ...ids, connection: 'close' });
      return;
    }
    let body: Buffer;
    try {
      body = await readLimitedBody(request);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) send(response, payloadTooLarge(), ids);
      else response.destroy();
      return;
    }
    const developerReply =
      (await developerEndpoint(method, rawPath, request, body)) ?? (await options.examples?.(method, rawPath)) ?? (await options.console?.(method, rawPath));
    if (developerReply) {
      send(response, developerReply);
      return;
    }
    const received: ReceivedRequest = {
      method,
      url,
      rawHeaders: request.rawHeaders,
      body,
      sourceIp: sourceIp(request),
      httpVersion: request.httpVersion,
      localPort: request.socket.localPort ?? options.port,
      requestId,
      receivedAt,
    };
    send(response, await apiRoute(received, rawPath), ids);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error('request failed', { path: request.url, error });
      if (!response.headersSent) send(response, internalServerError());
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    port,
    async close(deadline) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), Math.max(0, deadline - Date.now()));
      await closed;
      clearTimeout(timer);
    },
  };
}
