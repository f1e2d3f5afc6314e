import { createReadStream } from 'node:fs';
import { mkdir, open, truncate, type FileHandle } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import startSesEmulator from 'aws-ses-v2-local';
// The emulator's own store module (the same instance its server saves to): a send's content is
// read from it by reference, rather than copied out over HTTP.
import { getStoreReadonly } from 'aws-ses-v2-local/dist/store';
import { LOOPBACK } from './free-port';
import type { SentEmail } from './ses-events';

/**
 * The SES emulator (aws-ses-v2-local) behind a small recording proxy. The emulator's store
 * keeps neither the EmailTags of a send nor the headers of a raw message, and its timestamps
 * are whole seconds; the proxy records each accepted email with those, in memory and, given a
 * file, appended to it before the sender gets its answer, so the outbox survives restarts.
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
  /** A send recorded since the outbox was last cleared (in an earlier run too, with a file), by SES message id. */
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
      readBody(response).then((responseBody) => resolve({ statusCode: response.statusCode ?? 502, headers: response.headers, body: responseBody }), reject);
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

function optionalSending(
  from: string | undefined,
  destination: readonly string[],
  configurationSet: string | undefined,
): Pick<SendRecord, 'from' | 'destination' | 'configurationSet'> {
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

function sentEmailOf(messageId: string, record: Pick<SendRecord, 'sentAt' | 'tags' | 'from' | 'destination' | 'configurationSet'>): SentEmail {
  const { sentAt, tags, from = '', destination = [], configurationSet } = record;
  return { messageId, sentAt, tags, from, destination, ...(configurationSet && { configurationSet }) };
}

function toOutboxEmail(stored: StoredEmail, record: SendRecord): OutboxEmail {
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
    sentAt: record.sentAt,
    tags: record.tags,
    headers: { ...simpleHeaders, ...record.headers },
  };
}

/** What SES event publishing needs of a send beyond what the outbox shows (see `sentEmail`). */
type Sending = Pick<SendRecord, 'from' | 'destination' | 'configurationSet'>;

/** One recorded send: the outbox's view of it and its sending details. */
interface OutboxEntry {
  readonly email: OutboxEmail;
  readonly sending: Sending;
}

/**
 * The outbox file (JSON Lines, append-only): one line per accepted email, in the order the sends
 * were recorded, `{"v":1, ...OutboxEmail, "sending": {"from"?, "destination"?, "configurationSet"?}}`.
 * A line counts once its newline is written; only then does the sender get its 200.
 */
const LINE_VERSION = 1;

function lineOf({ email, sending }: OutboxEntry): string {
  return `${JSON.stringify({ v: LINE_VERSION, ...email, sending })}\n`;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
const isStringRecord = (value: unknown): value is Record<string, string> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every(isString);

/** A line of the outbox file read back (`undefined`: not one this version wrote). */
function entryOf(line: unknown): OutboxEntry | undefined {
  if (typeof line !== 'object' || line === null) return undefined;
  const { v, messageId, from, to, cc, bcc, replyTo, subject, html, text, sentAt, tags, headers, sending } = line as Record<string, unknown>;
  const nullableString = (value: unknown): value is string | null => value === null || isString(value);
  if (v !== LINE_VERSION || !isString(messageId) || !isString(from) || !isString(subject) || !isString(sentAt)) return undefined;
  if (!isStringList(to) || !isStringList(cc) || !isStringList(bcc) || !isStringList(replyTo)) return undefined;
  if (!nullableString(html) || !nullableString(text) || !isStringRecord(tags) || !isStringRecord(headers)) return undefined;
  if (typeof sending !== 'object' || sending === null) return undefined;
  const { from: sender, destination, configurationSet } = sending as Record<string, unknown>;
  if (
    (sender !== undefined && !isString(sender)) ||
    (destination !== undefined && !isStringList(destination)) ||
    (configurationSet !== undefined && !isString(configurationSet))
  ) {
    return undefined;
  }
  return {
    email: { messageId, from, to, cc, bcc, replyTo, subject, html, text, sentAt, tags, headers },
    sending: optionalSending(sender, destination ?? [], configurationSet),
  };
}

function isMissingFile(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Reads the outbox file line by line (it may hold far more than one string can). A last line
 * without its newline is a write cut off by a crash (its send was never acknowledged): it is
 * skipped and cut from the file, so the next append starts on a line of its own.
 */
async function readOutboxFile(file: string, logger: Logger): Promise<OutboxEntry[]> {
  const entries: OutboxEntry[] = [];
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let completeBytes = 0;
  let lineNumber = 0;
  const readLine = (line: Buffer): void => {
    lineNumber += 1;
    const text = line.toString('utf8').trim();
    if (text === '') return;
    let entry: OutboxEntry | undefined;
    try {
      entry = entryOf(JSON.parse(text));
    } catch {
      entry = undefined;
    }
    if (entry) entries.push(entry);
    else logger.warn('skipping an unreadable line of the SES outbox file', { file, line: lineNumber });
  };
  try {
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
      let start = 0;
      for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
        readLine(partial.length === 0 ? chunk.subarray(start, end) : Buffer.concat([...partial, chunk.subarray(start, end)]));
        completeBytes += partialBytes + end + 1 - start;
        partial = [];
        partialBytes = 0;
        start = end + 1;
      }
      if (start < chunk.length) {
        partial.push(chunk.subarray(start));
        partialBytes += chunk.length - start;
      }
    }
  } catch (error) {
    if (isMissingFile(error)) return [];
    throw error;
  }
  if (partialBytes > 0) {
    if (Buffer.concat(partial).toString('utf8').trim() !== '') {
      logger.warn('skipping the incomplete last line of the SES outbox file (a write cut off)', { file, line: lineNumber + 1, bytes: partialBytes });
    }
    await truncate(file, completeBytes);
  }
  return entries;
}

/**
 * The sends recorded, in order, in memory and (with a file) on disk. Appends and clears run one
 * at a time, so lines never interleave and a clear never cuts into an append. Each entry is held
 * once (the list and the index share it), and the bodies of this run's emails are the very
 * strings the emulator's store holds, not copies.
 */
class Outbox {
  private entries: OutboxEntry[] = [];
  /** The latest send per message id (the emulator's ids are random, so two sends may share one). */
  private readonly byId = new Map<string, OutboxEntry>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(private readonly handle: FileHandle | undefined) {}

  static async open(file: string | undefined, logger: Logger): Promise<Outbox> {
    if (file === undefined) return new Outbox(undefined);
    await mkdir(dirname(file), { recursive: true });
    const recovered = await readOutboxFile(file, logger);
    const outbox = new Outbox(await open(file, 'a'));
    for (const entry of recovered) outbox.add(entry);
    if (recovered.length > 0) logger.info('SES outbox recovered', { file, emails: recovered.length });
    return outbox;
  }

  private add(entry: OutboxEntry): void {
    this.entries.push(entry);
    this.byId.set(entry.email.messageId, entry);
  }

  /** Runs `task` after every earlier one has settled. */
  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new Error('the SES outbox is closed');
      return task();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves once the sends are in the file (one write for all, so a bulk send is one append). */
  record(entries: readonly OutboxEntry[]): Promise<void> {
    return this.serially(async () => {
      if (this.handle) await this.handle.appendFile(entries.map(lineOf).join(''));
      for (const entry of entries) this.add(entry);
    });
  }

  list(): OutboxEmail[] {
    return this.entries.map((entry) => entry.email);
  }

  find(messageId: string): OutboxEntry | undefined {
    return this.byId.get(messageId);
  }

  clear(): Promise<void> {
    return this.serially(async () => {
      await this.handle?.truncate(0);
      this.entries = [];
      this.byId.clear();
    });
  }

  /** After the pending appends; later ones fail. */
  close(): Promise<void> {
    const closing = this.queue.then(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.handle?.close();
    });
    this.queue = closing.catch(() => undefined);
    return closing;
  }
}

function sentEmailOfEntry({ email, sending }: OutboxEntry): SentEmail {
  return sentEmailOf(email.messageId, { sentAt: email.sentAt, tags: email.tags, ...sending });
}

/** The email the emulator stored under this id: the newest such, as the send just answered. */
function storedEmail(messageId: string): StoredEmail | undefined {
  const { emails } = getStoreReadonly();
  for (let index = emails.length - 1; index >= 0; index -= 1) {
    if (emails[index]?.messageId === messageId) return emails[index];
  }
  return undefined;
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
  /**
   * The outbox file (JSON Lines, e.g. `<DMP_DATA_DIR>/ses-outbox.jsonl`): the outbox survives
   * restarts and crashes, each send answered only once appended. Absent: in memory only.
   */
  readonly file?: string;
}

/** The SES error a sender gets when its accepted email could not be recorded (it may retry). */
const NOT_RECORDED = JSON.stringify({ message: 'the SES emulator accepted the email but the local outbox could not record it' });

export async function startLocalSes(logger: Logger, options: LocalSesOptions = {}): Promise<LocalSes> {
  const outbox = await Outbox.open(options.file, logger);
  let emulator: Server;
  try {
    emulator = await startSesEmulator({ host: LOOPBACK, port: 0 });
  } catch (error) {
    await outbox.close();
    throw error;
  }
  const emulatorPort = (emulator.address() as AddressInfo).port;
  /**
   * Bumped as each clear starts and ends, with the clears under way: an email a clear removed from
   * the emulator's store before the proxy read it back is not recorded (it was sent, then cleared).
   */
  let clearEpoch = 0;
  let clearing = 0;

  /** The outbox entries of a successful send, read from the emulator's store. */
  const entriesOf = (sent: Map<string, SendRecord>, epochBefore: number): OutboxEntry[] => {
    const entries: OutboxEntry[] = [];
    for (const [messageId, record] of sent) {
      const stored = storedEmail(messageId);
      if (stored) {
        const { from, destination, configurationSet } = record;
        entries.push({ email: toOutboxEmail(stored, record), sending: optionalSending(from, destination ?? [], configurationSet) });
      } else if (clearEpoch === epochBefore && clearing === 0) {
        throw new Error(`the SES emulator's store has no email ${messageId}`);
      }
    }
    return entries;
  };

  const proxy = createServer((request, response) => {
    const sentAt = new Date().toISOString();
    const epochBefore = clearEpoch;
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    readBody(request)
      .then(async (body) => {
        if (method === 'POST' && path === '/clear-store') {
          // The web inbox's Clear button: the whole outbox, as it always did.
          await clearOutbox();
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ message: 'Store cleared' }));
          return;
        }
        const upstream = await forward(emulatorPort, method, path, request.headers, body);
        const sent = method === 'POST' && upstream.statusCode === 200 ? sendRecords(path, body, upstream.body, sentAt) : new Map<string, SendRecord>();
        const entries = entriesOf(sent, epochBefore);
        if (entries.length > 0) {
          try {
            await outbox.record(entries);
          } catch (error) {
            logger.error('recording an SES send in the outbox failed', { error, messageIds: [...sent.keys()] });
            response.writeHead(500, { 'content-type': 'application/json' });
            response.end(NOT_RECORDED);
            return;
          }
        }
        const headers = Object.fromEntries(Object.entries(upstream.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
        response.writeHead(upstream.statusCode, { ...headers, 'content-length': upstream.body.length });
        response.end(upstream.body);
        // After the answer, as SES publishes events after accepting the send.
        for (const entry of entries) options.onSent?.(sentEmailOfEntry(entry));
      })
      .catch((error: unknown) => {
        logger.error('SES emulator request failed', { error });
        if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: 'SES emulator unavailable' }));
      });
  });
  let proxyPort: number;
  try {
    proxyPort = await listen(proxy);
  } catch (error) {
    await Promise.all([close(emulator), outbox.close()]);
    throw error;
  }
  const endpoint = `http://${LOOPBACK}:${proxyPort}`;
  const emulatorUrl = `http://${LOOPBACK}:${emulatorPort}`;

  /** The emulator's store (its web inbox, and its templates) lives in its module, across starts in one process. */
  const clearEmulatorStore = async (): Promise<void> => {
    const response = await fetch(`${emulatorUrl}/clear-store`, { method: 'POST' });
    if (!response.ok) throw new Error(`clearing the SES store answered ${response.status}`);
  };
  const clearOutbox = async (): Promise<void> => {
    clearEpoch += 1;
    clearing += 1;
    try {
      await outbox.clear();
      await clearEmulatorStore();
    } finally {
      clearing -= 1;
      clearEpoch += 1;
    }
  };
  const stop = async (): Promise<void> => {
    await Promise.all([close(proxy), close(emulator)]);
    await outbox.close();
  };
  try {
    // The emulator's web inbox (`endpoint` + `/`) shows only this run's emails: the outbox file
    // is not loaded into its store. `outbox()` lists them all.
    await clearEmulatorStore();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    endpoint,
    async outbox() {
      return outbox.list();
    },
    clearOutbox,
    sentEmail(messageId) {
      const entry = outbox.find(messageId);
      return entry && sentEmailOfEntry(entry);
    },
    async isHealthy() {
      try {
        return (await fetch(`${emulatorUrl}/health-check`, { signal: AbortSignal.timeout(2_000) })).ok;
      } catch {
        return false;
      }
    },
    stop,
  };
}
