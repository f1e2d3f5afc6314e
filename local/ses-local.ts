import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@aws-lambda-powertools/logger';
import startSesEmulator from 'aws-ses-v2-local';
import { LOOPBACK } from './free-port';
import type { SentEmail } from './ses-events';

/**
 * The SES emulator (aws-ses-v2-local) behind a small recording proxy. The emulator's store
 * keeps neither the EmailTags of a send nor the headers of a raw message, and its timestamps
 * are whole seconds; the proxy notes those per MessageId so the outbox can show them.
 */

/** One email of `GET /dev/outbox`. */
export interface OutboxEmail {
  readonly messageId: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly cc: readonly string[];
  readonly bcc: readonly string[];
  readonly replyTo: readonly string[];
  readonly subject: string;
  readonly html: string | null;
  readonly text: string | null;
  readonly sentAt: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Header names lower-cased (e.g. `list-unsubscribe`), as sent with Simple or Raw content. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface LocalSes {
  /** Where SDK clients send (AWS_ENDPOINT_URL_SES / _SESV2); also serves the emulator's web inbox. */
  readonly endpoint: string;
  outbox(): Promise<OutboxEmail[]>;
  clearOutbox(): Promise<void>;
  /** A send recorded since the outbox was last cleared, by SES message id. */
  sentEmail(messageId: string): SentEmail | undefined;
  isHealthy(): Promise<boolean>;
  stop(): Promise<void>;
}

/** What the emulator's `GET /store` returns per email. */
interface StoredEmail {
  readonly messageId: string;
  readonly from: string;
  readonly replyTo?: string[];
  readonly destination: { to?: string[]; cc?: string[]; bcc?: string[] };
  readonly subject: string;
  readonly body: { html?: string; text?: string };
  readonly headers?: { name: string; value: string }[];
  readonly at: number;
}

interface SendRecord {
  readonly sentAt: string;
  readonly tags: Record<string, string>;
  readonly headers: Record<string, string>;
  /** Noted when the request names them (SES event publishing needs them). */
  readonly from?: string;
  readonly destination?: readonly string[];
  readonly configurationSet?: string;
}

interface UpstreamResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function forward(port: number, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest({ host: LOOPBACK, port, method, path, headers }, (response) => {
      readBody(response).then(
        (responseBody) => resolve({ statusCode: response.statusCode ?? 502, headers: response.headers, body: responseBody }),
        reject,
      );
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

/** The header block of a MIME message, unfolded, names lower-cased. */
export function mimeHeaders(rawMessage: string): Record<string, string> {
  const headerBlock = rawMessage.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const headers: Record<string, string> = {};
  let current: string | undefined;
  for (const line of headerBlock.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && current !== undefined) {
      headers[current] = `${headers[current] ?? ''} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    current = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[current] = headers[current] === undefined ? value : `${headers[current]}, ${value}`;
  }
  return headers;
}

interface NameValue {
  readonly Name?: unknown;
  readonly Value?: unknown;
}

function tagsOf(list: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  if (!Array.isArray(list)) return tags;
  for (const tag of list as NameValue[]) {
    if (typeof tag.Name === 'string' && typeof tag.Value === 'string') tags[tag.Name] = tag.Value;
  }
  return tags;
}

function rawHeadersOf(base64Message: unknown): Record<string, string> {
  return typeof base64Message === 'string' ? mimeHeaders(Buffer.from(base64Message, 'base64').toString('utf8')) : {};
}

function parseJson(body: Buffer): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const addresses = (list: unknown): string[] => (Array.isArray(list) ? list.filter((value): value is string => typeof value === 'string') : []);

function optionalSending(from: string | undefined, destination: readonly string[], configurationSet: string | undefined): Pick<SendRecord, 'from' | 'destination' | 'configurationSet'> {
  return { ...(from && { from }), ...(destination.length > 0 && { destination }), ...(configurationSet && { configurationSet }) };
}

/** Sender, recipients and configuration set of a SESv2 request (JSON). */
function sendingOf(request: Record<string, unknown>): Pick<SendRecord, 'from' | 'destination' | 'configurationSet'> {
  const destination = (request.Destination ?? {}) as { ToAddresses?: unknown; CcAddresses?: unknown; BccAddresses?: unknown };
  return optionalSending(
    typeof request.FromEmailAddress === 'string' ? request.FromEmailAddress : undefined,
    [...addresses(destination.ToAddresses), ...addresses(destination.CcAddresses), ...addresses(destination.BccAddresses)],
    typeof request.ConfigurationSetName === 'string' ? request.ConfigurationSetName : undefined,
  );
}

/** The message ids a successful send produced, each with its tags, raw headers, recipients and configuration set. */
export function sendRecords(path: string, requestBody: Buffer, responseBody: Buffer, sentAt: string): Map<string, SendRecord> {
  const records = new Map<string, SendRecord>();
  if (path.startsWith('/v2/email/outbound-emails')) {
    const request = parseJson(requestBody);
    const messageId = parseJson(responseBody).MessageId;
    const content = request.Content as { Raw?: { Data?: unknown } } | undefined;
    if (typeof messageId === 'string') {
      records.set(messageId, { sentAt, tags: tagsOf(request.EmailTags), headers: rawHeadersOf(content?.Raw?.Data), ...sendingOf(request) });
    }
  } else if (path.startsWith('/v2/email/outbound-bulk-emails')) {
    const request = parseJson(requestBody);
    const entries = Array.isArray(request.BulkEmailEntries) ? (request.BulkEmailEntries as { ReplacementTags?: unknown; Destination?: unknown }[]) : [];
    const results = parseJson(responseBody).BulkEmailEntryResults;
    if (Array.isArray(results)) {
      (results as { MessageId?: unknown; Status?: unknown }[]).forEach((result, index) => {
        if (typeof result.MessageId !== 'string' || result.Status !== 'SUCCESS') return;
        const tags = { ...tagsOf(request.DefaultEmailTags), ...tagsOf(entries[index]?.ReplacementTags) };
        records.set(result.MessageId, { sentAt, tags, headers: {}, ...sendingOf({ ...request, Destination: entries[index]?.Destination }) });
      });
    }
  } else if (path === '/' || path.startsWith('/?')) {
    // SES v1 (query protocol): form fields such as Tags.member.1.Name and RawMessage.Data.
    const form = new URLSearchParams(requestBody.toString('utf8'));
    const messageId = /<MessageId>([^<]+)<\/MessageId>/.exec(responseBody.toString('utf8'))?.[1];
    if (messageId !== undefined && ['SendEmail', 'SendRawEmail'].includes(form.get('Action') ?? '')) {
      const tags: Record<string, string> = {};
      for (let index = 1; form.has(`Tags.member.${index}.Name`); index += 1) {
        tags[form.get(`Tags.member.${index}.Name`) ?? ''] = form.get(`Tags.member.${index}.Value`) ?? '';
      }
      const destination = [...form].filter(([name]) => /^Destination\.(To|Cc|Bcc)Addresses\.member\.\d+$/.test(name)).map(([, value]) => value);
      const sending = optionalSending(form.get('Source') ?? undefined, destination, form.get('ConfigurationSetName') ?? undefined);
      records.set(messageId, { sentAt, tags, headers: rawHeadersOf(form.get('RawMessage.Data') ?? undefined), ...sending });
    }
  }
  return records;
}

function sentEmailOf(messageId: string, record: SendRecord): SentEmail {
  const { sentAt, tags, from = '', destination = [], configurationSet } = record;
  return { messageId, sentAt, tags, from, destination, ...(configurationSet && { configurationSet }) };
}

function toOutboxEmail(stored: StoredEmail, record: SendRecord | undefined): OutboxEmail {
  const simpleHeaders = Object.fromEntries((stored.headers ?? []).map((header) => [header.name.toLowerCase(), header.value]));
  return {
    messageId: stored.messageId,
    from: stored.from,
    to: stored.destination.to ?? [],
    cc: stored.destination.cc ?? [],
    bcc: stored.destination.bcc ?? [],
    replyTo: stored.replyTo ?? [],
    subject: stored.subject,
    html: stored.body.html ?? null,
    text: stored.body.text ?? null,
    sentAt: record?.sentAt ?? new Date(stored.at * 1000).toISOString(),
    tags: record?.tags ?? {},
    headers: { ...simpleHeaders, ...record?.headers },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Hop-by-hop headers describe the upstream connection, not the response being relayed. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export interface LocalSesOptions {
  /** Called after each successful send (SES event publishing). */
  readonly onSent?: (sent: SentEmail) => void;
}

export async function startLocalSes(logger: Logger, options: LocalSesOptions = {}): Promise<LocalSes> {
  const emulator = await startSesEmulator({ host: LOOPBACK, port: 0 });
  const emulatorPort = (emulator.address() as AddressInfo).port;
  const sends = new Map<string, SendRecord>();

  const proxy = createServer((request, response) => {
    const sentAt = new Date().toISOString();
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    readBody(request)
      .then(async (body) => {
        const upstream = await forward(emulatorPort, method, path, request.headers, body);
        const sent = method === 'POST' && upstream.statusCode === 200 ? sendRecords(path, body, upstream.body, sentAt) : new Map<string, SendRecord>();
        for (const [messageId, record] of sent) sends.set(messageId, record);
        const headers = Object.fromEntries(Object.entries(upstream.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
        response.writeHead(upstream.statusCode, { ...headers, 'content-length': upstream.body.length });
        response.end(upstream.body);
        // After the answer, as SES publishes events after accepting the send.
        for (const [messageId, record] of sent) options.onSent?.(sentEmailOf(messageId, record));
      })
      .catch((error: unknown) => {
        logger.error('SES emulator request failed', { error });
        if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: 'SES emulator unavailable' }));
      });
  });
  const proxyPort = await listen(proxy);
  const endpoint = `http://${LOOPBACK}:${proxyPort}`;
  const emulatorUrl = `http://${LOOPBACK}:${emulatorPort}`;

  const clearOutbox = async (): Promise<void> => {
    const response = await fetch(`${emulatorUrl}/clear-store`, { method: 'POST' });
    if (!response.ok) throw new Error(`clearing the SES store answered ${response.status}`);
    sends.clear();
  };
  // The emulator's store lives in its module: start every platform with an empty outbox.
  await clearOutbox();

  return {
    endpoint,
    async outbox() {
      const response = await fetch(`${emulatorUrl}/store`);
      if (!response.ok) throw new Error(`the SES store answered ${response.status}`);
      const store = (await response.json()) as { emails?: StoredEmail[] };
      return (store.emails ?? []).map((email) => toOutboxEmail(email, sends.get(email.messageId)));
    },
    clearOutbox,
    sentEmail(messageId) {
      const record = sends.get(messageId);
      return record && sentEmailOf(messageId, record);
    },
    async isHealthy() {
      try {
        return (await fetch(`${emulatorUrl}/health-check`, { signal: AbortSignal.timeout(2_000) })).ok;
      } catch {
        return false;
      }
    },
    async stop() {
      await Promise.all([close(proxy), close(emulator)]);
    },
  };
}
