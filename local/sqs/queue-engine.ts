import { randomUUID } from 'node:crypto';
import { AwsServiceError } from '../step-functions/aws-endpoint';
import { NO_JOURNAL, type Journal, type JournalRecord } from './journal';
import { md5Hex, md5OfMessageAttributes, type MessageAttribute } from './message-md5';

/**
 * The local SQS's queues and messages: standard queues with visibility timeouts, delays,
 * retention, long polling and redrive to a dead-letter queue after `maxReceiveCount` receives,
 * as SQS documents them (a visibility change is not a receive). Every change goes through the
 * journal; a send is visible only once it is on disk.
 */

export const MAX_MESSAGES_PER_CALL = 10;
const MAX_WAIT_SECONDS = 20;
const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_DELAY_SECONDS = 900;
const DEFAULT_RETENTION_SECONDS = 345_600;
/** SQS's current maximum message size (1 MiB since 2025). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const SENDER_ID = 'AIDALOCALPLATFORM';

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

interface StoredMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes?: Readonly<Record<string, MessageAttribute>>;
  readonly md5OfBody: string;
  readonly md5OfAttributes?: string;
  readonly sent: number;
  visibleAt: number;
  receiveCount: number;
  firstReceive: number;
  /** Changes at each receive: a handle from an earlier receive no longer changes visibility. */
  receipt: string;
}

/** Where a message waits: ready to receive, or hidden until `visibleAt` (in flight or delayed). */
interface Queue {
  readonly name: string;
  readonly arn: string;
  attributes: Record<string, string>;
  readonly created: number;
  modified: number;
  readonly messages: Map<string, StoredMessage>;
  readonly ready: Map<string, StoredMessage>;
  readonly hidden: Map<string, StoredMessage>;
  readonly waiters: Set<() => void>;
  wakeTimer: NodeJS.Timeout | undefined;
}

export interface ReceivedMessage {
  readonly MessageId: string;
  readonly ReceiptHandle: string;
  readonly MD5OfBody: string;
  readonly Body: string;
  readonly Attributes?: Record<string, string>;
  readonly MD5OfMessageAttributes?: string;
  readonly MessageAttributes?: Record<string, MessageAttribute>;
}

export interface SendRequest {
  readonly body: string;
  readonly attributes?: Readonly<Record<string, MessageAttribute>>;
  readonly delaySeconds?: number;
}

export interface SentMessage {
  readonly MessageId: string;
  readonly MD5OfMessageBody: string;
  readonly MD5OfMessageAttributes?: string;
}

export interface ReceiveRequest {
  readonly maxMessages?: number;
  readonly visibilityTimeoutSeconds?: number;
  readonly waitSeconds?: number;
  readonly systemAttributeNames?: readonly string[];
  readonly messageAttributeNames?: readonly string[];
}

export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export class QueueDoesNotExist extends AwsServiceError {
  constructor(name: string) {
    super('QueueDoesNotExist', `The specified queue ${name} does not exist.`);
  }
}

function invalidParameter(message: string): AwsServiceError {
  return new AwsServiceError('InvalidParameterValue', message);
}

function integerIn(value: number | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) throw invalidParameter(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

function parseRedrivePolicy(raw: string | undefined): RedrivePolicy | undefined {
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidParameter('RedrivePolicy is not JSON');
  }
  const policy = parsed as Partial<RedrivePolicy>;
  const maxReceiveCount = Number(policy.maxReceiveCount);
  if (typeof policy.deadLetterTargetArn !== 'string' || !Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    throw invalidParameter('RedrivePolicy needs deadLetterTargetArn and a maxReceiveCount from 1 to 1000');
  }
  return { deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount };
}

function receiptHandle(queue: string, id: string): string {
  return Buffer.from(`${queue}\n${id}\n${randomUUID()}`).toString('base64url');
}

function parseReceiptHandle(handle: string): { queue: string; id: string } {
  const [queue, id, nonce] = Buffer.from(handle, 'base64url').toString('utf8').split('\n');
  if (!queue || !id || !nonce) throw new AwsServiceError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`);
  return { queue, id };
}

export interface QueueEngineOptions {
  readonly region: string;
  readonly accountId: string;
  readonly now?: () => number;
}

export class QueueEngine {
  private readonly queues = new Map<string, Queue>();
  private journal: Journal = NO_JOURNAL;
  private readonly now: () => number;
  private closed = false;
  /** Base of queue URLs (`<endpoint>/<accountId>/<name>`), known once the HTTP server listens. */
  private endpoint = 'http://127.0.0.1';

  constructor(private readonly options: QueueEngineOptions) {
    this.now = options.now ?? Date.now;
  }

  /** From here on every change is written to `journal` (after a replay, which writes nothing). */
  useJournal(journal: Journal): void {
    this.journal = journal;
  }

  setEndpoint(endpoint: string): void {
    this.endpoint = endpoint;
  }

  arnOf(name: string): string {
    return `arn:aws:sqs:${this.options.region}:${this.options.accountId}:${name}`;
  }

  urlOf(name: string): string {
    return `${this.endpoint}/${this.options.accountId}/${name}`;
  }

  /** The queue a QueueUrl names (its last path segment), or QueueDoesNotExist. */
  queueByUrl(queueUrl: string): string {
    const name = queueUrl.split('/').filter(Boolean).pop() ?? '';
    this.queue(name);
    return name;
  }

  queueNames(): string[] {
    return [...this.queues.keys()];
  }

  /** AWS's CreateQueue: the same name with other attributes is QueueAlreadyExists. */
  async createQueue(name: string, attributes: Readonly<Record<string, string>>): Promise<string> {
    if (!QUEUE_NAME.test(name)) throw invalidParameter('Queue names are 1 to 80 letters, digits, hyphens and underscores (FIFO queues are not emulated).');
    const existing = this.queues.get(name);
    if (existing) {
      const differs = Object.entries(attributes).some(([key, value]) => existing.attributes[key] !== value);
      if (differs) throw new AwsServiceError('QueueAlreadyExists', `A queue named ${name} already exists with different attributes.`);
      return this.urlOf(name);
    }
    return this.putQueue(name, attributes);
  }

  /** Creates the queue, or gives an existing one these attributes (the platform's own queues at each start). */
  async putQueue(name: string, attributes: Readonly<Record<string, string>>): Promise<string> {
    const checked = this.checkedAttributes(attributes);
    const existing = this.queues.get(name);
    const created = existing?.created ?? this.now();
    const unchanged = existing && Object.keys({ ...checked, ...existing.attributes }).every((key) => existing.attributes[key] === checked[key]);
    if (unchanged) return this.urlOf(name);
    await this.journal.append({ t: 'queue', q: name, attributes: checked, created });
    this.applyQueue(name, checked, created);
    return this.urlOf(name);
  }

  async setQueueAttributes(name: string, attributes: Readonly<Record<string, string>>): Promise<void> {
    const queue = this.queue(name);
    await this.putQueue(name, { ...queue.attributes, ...attributes });
  }

  async deleteQueue(name: string): Promise<void> {
    this.queue(name);
    await this.journal.append({ t: 'deleteQueue', q: name });
    this.applyDeleteQueue(name);
  }

  async purge(name: string): Promise<void> {
    this.queue(name);
    await this.journal.append({ t: 'purge', q: name });
    this.applyPurge(name);
  }

  /** Durable before it resolves; visible to receives only then. */
  async send(name: string, requests: readonly SendRequest[]): Promise<SentMessage[]> {
    const queue = this.queue(name);
    const now = this.now();
    const records = requests.map((request) => {
      if (Buffer.byteLength(request.body) > MAX_MESSAGE_BYTES)
        throw invalidParameter(`One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`);
      const delay = integerIn(request.delaySeconds, 'DelaySeconds', 0, MAX_DELAY_SECONDS) ?? Number(queue.attributes.DelaySeconds ?? 0);
      const hasAttributes = request.attributes !== undefined && Object.keys(request.attributes).length > 0;
      return {
        t: 'send',
        q: name,
        id: randomUUID(),
        body: request.body,
        ...(hasAttributes && { attributes: request.attributes }),
        sent: now,
        visibleAt: now + delay * 1000,
      } as const;
    });
    await Promise.all(records.map((record) => this.journal.append(record)));
    return records.map((record) => {
      const message = this.applySend(record);
      return {
        MessageId: record.id,
        MD5OfMessageBody: message?.md5OfBody ?? md5Hex(record.body),
        ...(message?.md5OfAttributes !== undefined && { MD5OfMessageAttributes: message.md5OfAttributes }),
      };
    });
  }

  /** Long-polls up to `waitSeconds` for the first message; redrives messages past maxReceiveCount. */
  async receive(name: string, request: ReceiveRequest): Promise<ReceivedMessage[]> {
    const maxMessages = integerIn(request.maxMessages, 'MaxNumberOfMessages', 1, MAX_MESSAGES_PER_CALL) ?? 1;
    const visibility = integerIn(request.visibilityTimeoutSeconds, 'VisibilityTimeout', 0, MAX_VISIBILITY_SECONDS);
    const waitSeconds =
      integerIn(request.waitSeconds, 'WaitTimeSeconds', 0, MAX_WAIT_SECONDS) ?? Number(this.queue(name).attributes.ReceiveMessageWaitTimeSeconds ?? 0);
    const deadline = this.now() + waitSeconds * 1000;
    for (;;) {
      const received = this.take(name, maxMessages, visibility, request);
      if (received.length > 0 || this.closed || this.now() >= deadline) return received;
      await this.waitForMessages(name, deadline);
    }
  }

  /** DeleteMessage: the message is gone once the deletion is on disk; an unknown one is no error, as on SQS. */
  async delete(name: string, handle: string): Promise<void> {
    const { id } = parseReceiptHandle(handle);
    const queue = this.queue(name);
    if (!queue.messages.has(id)) return;
    await this.journal.append({ t: 'delete', q: name, id });
    this.applyDelete(name, id);
  }

  changeVisibility(name: string, handle: string, visibilityTimeoutSeconds: number): void {
    const { id } = parseReceiptHandle(handle);
    const seconds = integerIn(visibilityTimeoutSeconds, 'VisibilityTimeout', 0, MAX_VISIBILITY_SECONDS) ?? 0;
    const queue = this.queue(name);
    const message = queue.messages.get(id);
    if (!message || message.receipt !== handle || !queue.hidden.has(id)) {
      throw new AwsServiceError(
        'MessageNotInflight',
        `Value ${handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
      );
    }
    this.hide(queue, message, this.now() + seconds * 1000);
  }

  depth(name: string): QueueDepth {
    const queue = this.queue(name);
    this.promoteDue(queue);
    let delayed = 0;
    for (const message of queue.hidden.values()) if (message.receiveCount === 0) delayed += 1;
    return { visible: queue.ready.size, inFlight: queue.hidden.size - delayed, delayed };
  }

  getAttributes(name: string, requested: readonly string[]): Record<string, string> {
    const queue = this.queue(name);
    const depth = this.depth(name);
    const all: Record<string, string> = {
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(depth.visible),
      ApproximateNumberOfMessagesNotVisible: String(depth.inFlight),
      ApproximateNumberOfMessagesDelayed: String(depth.delayed),
      CreatedTimestamp: String(Math.floor(queue.created / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.modified / 1000)),
      VisibilityTimeout: '30',
      MaximumMessageSize: String(MAX_MESSAGE_BYTES),
      MessageRetentionPeriod: String(DEFAULT_RETENTION_SECONDS),
      DelaySeconds: '0',
      ReceiveMessageWaitTimeSeconds: '0',
      SqsManagedSseEnabled: 'false',
      ...queue.attributes,
    };
    if (requested.includes('All')) return all;
    return Object.fromEntries(requested.flatMap((attribute) => (all[attribute] === undefined ? [] : [[attribute, all[attribute] as string]])));
  }

  /** Queues whose redrive policy points at `name`. */
  deadLetterSources(name: string): string[] {
    const arn = this.queue(name).arn;
    return [...this.queues.values()]
      .filter((queue) => parseRedrivePolicy(queue.attributes.RedrivePolicy)?.deadLetterTargetArn === arn)
      .map((queue) => this.urlOf(queue.name));
  }

  /** Every long poll answers now, and later receives at once (the server is closing). */
  close(): void {
    this.closed = true;
    for (const queue of this.queues.values()) this.wake(queue);
  }

  /** The live state as journal records: what a rewritten journal holds. */
  *snapshot(): Generator<JournalRecord> {
    for (const queue of this.queues.values()) yield { t: 'queue', q: queue.name, attributes: queue.attributes, created: queue.created };
    for (const queue of this.queues.values()) {
      for (const message of queue.messages.values()) {
        yield {
          t: 'send',
          q: queue.name,
          id: message.id,
          body: message.body,
          ...(message.attributes && { attributes: message.attributes }),
          sent: message.sent,
          visibleAt: message.visibleAt,
          ...(message.receiveCount > 0 && { n: message.receiveCount, first: message.firstReceive }),
        };
      }
    }
  }

  /**
   * Replays a journal record. After a restart every message is visible again (nothing is in
   * flight any more) except delayed ones, and keeps its receive count, so redrive still happens.
   */
  replay(record: JournalRecord): void {
    switch (record.t) {
      case 'queue':
        this.applyQueue(record.q, record.attributes, record.created);
        return;
      case 'deleteQueue':
        this.applyDeleteQueue(record.q);
        return;
      case 'purge':
        this.applyPurge(record.q);
        return;
      case 'send': {
        const message = this.applySend(record);
        if (message && message.receiveCount > 0) this.show(this.queues.get(record.q) as Queue, message);
        return;
      }
      case 'receive': {
        const queue = this.queues.get(record.q);
        const message = queue?.messages.get(record.id);
        if (!queue || !message) return;
        message.receiveCount = record.n;
        message.firstReceive = record.first;
        this.show(queue, message);
        return;
      }
      case 'delete':
        this.applyDelete(record.q, record.id);
        return;
      case 'move':
        this.applyMove(record.q, record.to, record.id);
        return;
    }
  }

  /** Messages by queue, and how many of them had been received (in flight or waiting for a retry). */
  contents(): { queue: string; messages: number; received: number }[] {
    return [...this.queues.values()].map((queue) => {
      let received = 0;
      for (const message of queue.messages.values()) if (message.receiveCount > 0) received += 1;
      return { queue: queue.name, messages: queue.messages.size, received };
    });
  }

  private queue(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new QueueDoesNotExist(name);
    return queue;
  }

  private checkedAttributes(attributes: Readonly<Record<string, string>>): Record<string, string> {
    const checked: Record<string, string> = {};
    const limits: Record<string, [number, number]> = {
      VisibilityTimeout: [0, MAX_VISIBILITY_SECONDS],
      MessageRetentionPeriod: [60, 1_209_600],
      DelaySeconds: [0, MAX_DELAY_SECONDS],
      ReceiveMessageWaitTimeSeconds: [0, MAX_WAIT_SECONDS],
      MaximumMessageSize: [1024, MAX_MESSAGE_BYTES],
    };
    for (const [key, value] of Object.entries(attributes)) {
      const range = limits[key];
      if (range) integerIn(Number(value), key, range[0], range[1]);
      else if (key === 'RedrivePolicy') parseRedrivePolicy(value);
      else if (!['Policy', 'RedriveAllowPolicy', 'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'SqsManagedSseEnabled'].includes(key)) {
        throw new AwsServiceError('InvalidAttributeName', `Unknown or unsupported queue attribute ${key}.`);
      }
      checked[key] = String(value);
    }
    return checked;
  }

  private applyQueue(name: string, attributes: Readonly<Record<string, string>>, created: number): void {
    const existing = this.queues.get(name);
    if (existing) {
      existing.attributes = { ...attributes };
      existing.modified = this.now();
      return;
    }
    this.queues.set(name, {
      name,
      arn: this.arnOf(name),
      attributes: { ...attributes },
      created,
      modified: created,
      messages: new Map(),
      ready: new Map(),
      hidden: new Map(),
      waiters: new Set(),
      wakeTimer: undefined,
    });
  }

  private applyDeleteQueue(name: string): void {
    const queue = this.queues.get(name);
    if (!queue) return;
    this.wake(queue);
    this.queues.delete(name);
  }

  private applyPurge(name: string): void {
    const queue = this.queues.get(name);
    if (!queue) return;
    queue.messages.clear();
    queue.ready.clear();
    queue.hidden.clear();
  }

  private applySend(record: Extract<JournalRecord, { t: 'send' }>): StoredMessage | undefined {
    const queue = this.queues.get(record.q);
    if (!queue) return undefined;
    const message: StoredMessage = {
      id: record.id,
      body: record.body,
      ...(record.attributes && { attributes: record.attributes, md5OfAttributes: md5OfMessageAttributes(record.attributes) }),
      md5OfBody: md5Hex(record.body),
      sent: record.sent,
      visibleAt: record.visibleAt,
      receiveCount: record.n ?? 0,
      firstReceive: record.first ?? 0,
      receipt: '',
    };
    queue.messages.set(message.id, message);
    if (message.visibleAt > this.now()) this.hide(queue, message, message.visibleAt);
    else this.show(queue, message);
    return message;
  }

  private applyDelete(name: string, id: string): void {
    const queue = this.queues.get(name);
    if (!queue) return;
    queue.messages.delete(id);
    queue.ready.delete(id);
    queue.hidden.delete(id);
  }

  private applyMove(from: string, to: string, id: string): void {
    const source = this.queues.get(from);
    const message = source?.messages.get(id);
    const target = this.queues.get(to);
    if (!source || !message) return;
    this.applyDelete(from, id);
    if (!target) return;
    const moved: StoredMessage = { ...message, visibleAt: 0, receiveCount: 0, firstReceive: 0, receipt: '' };
    target.messages.set(id, moved);
    this.show(target, moved);
  }

  private show(queue: Queue, message: StoredMessage): void {
    queue.hidden.delete(message.id);
    message.visibleAt = 0;
    queue.ready.set(message.id, message);
    this.wake(queue);
  }

  private hide(queue: Queue, message: StoredMessage, until: number): void {
    if (until <= this.now()) {
      this.show(queue, message);
      return;
    }
    queue.ready.delete(message.id);
    message.visibleAt = until;
    queue.hidden.set(message.id, message);
  }

  /** Hidden messages whose time has come become ready; expired ones are dropped. */
  private promoteDue(queue: Queue): void {
    const now = this.now();
    for (const message of queue.hidden.values()) if (message.visibleAt <= now) this.show(queue, message);
    const retentionMs = Number(queue.attributes.MessageRetentionPeriod ?? DEFAULT_RETENTION_SECONDS) * 1000;
    const oldest = queue.ready.values().next().value as StoredMessage | undefined;
    if (oldest && oldest.sent + retentionMs <= now) {
      for (const message of [...queue.messages.values()]) {
        if (message.sent + retentionMs > now) continue;
        this.journal.note({ t: 'delete', q: queue.name, id: message.id });
        this.applyDelete(queue.name, message.id);
      }
    }
  }

  private take(name: string, maxMessages: number, visibility: number | undefined, request: ReceiveRequest): ReceivedMessage[] {
    const queue = this.queue(name);
    this.promoteDue(queue);
    const redrive = parseRedrivePolicy(queue.attributes.RedrivePolicy);
    const deadLetter = redrive ? [...this.queues.values()].find((candidate) => candidate.arn === redrive.deadLetterTargetArn) : undefined;
    const hideUntil = this.now() + (visibility ?? Number(queue.attributes.VisibilityTimeout ?? 30)) * 1000;
    const received: ReceivedMessage[] = [];
    // Deleting from a Map while iterating it is safe; nothing taken here becomes ready again.
    for (const message of queue.ready.values()) {
      if (received.length >= maxMessages) break;
      // SQS moves a message once a receive would take it past maxReceiveCount.
      if (redrive && deadLetter && message.receiveCount >= redrive.maxReceiveCount) {
        this.journal.note({ t: 'move', q: queue.name, to: deadLetter.name, id: message.id });
        this.applyMove(queue.name, deadLetter.name, message.id);
        continue;
      }
      message.receiveCount += 1;
      if (message.receiveCount === 1) message.firstReceive = this.now();
      message.receipt = receiptHandle(queue.name, message.id);
      this.hide(queue, message, Math.max(hideUntil, this.now() + 1));
      this.journal.note({ t: 'receive', q: queue.name, id: message.id, n: message.receiveCount, first: message.firstReceive });
      received.push(this.view(message, request));
    }
    return received;
  }

  private view(message: StoredMessage, request: ReceiveRequest): ReceivedMessage {
    const systemNames = request.systemAttributeNames ?? [];
    const system: Record<string, string> = {
      SenderId: SENDER_ID,
      SentTimestamp: String(message.sent),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: String(message.firstReceive),
    };
    const attributes = systemNames.includes('All') ? system : Object.fromEntries(Object.entries(system).filter(([key]) => systemNames.includes(key)));
    const selected = Object.entries(message.attributes ?? {}).filter(([key]) =>
      (request.messageAttributeNames ?? []).some(
        (pattern) => pattern === 'All' || pattern === '.*' || pattern === key || (pattern.endsWith('.*') && key.startsWith(pattern.slice(0, -1))),
      ),
    );
    const messageAttributes = Object.fromEntries(selected);
    // Every attribute selected (the usual receive): the digest computed at send time applies.
    const md5OfAttributes = selected.length === Object.keys(message.attributes ?? {}).length ? message.md5OfAttributes : undefined;
    return {
      MessageId: message.id,
      ReceiptHandle: message.receipt,
      MD5OfBody: message.md5OfBody,
      Body: message.body,
      ...(Object.keys(attributes).length > 0 && { Attributes: attributes }),
      ...(selected.length > 0 && {
        MessageAttributes: messageAttributes,
        MD5OfMessageAttributes: md5OfAttributes ?? md5OfMessageAttributes(messageAttributes),
      }),
    };
  }

  private wake(queue: Queue): void {
    clearTimeout(queue.wakeTimer);
    queue.wakeTimer = undefined;
    const waiters = [...queue.waiters];
    queue.waiters.clear();
    for (const waiter of waiters) waiter();
  }

  /** Resolves when a message may be ready: one arrived, a hidden one's time came, or the deadline. */
  private waitForMessages(name: string, deadline: number): Promise<void> {
    const queue = this.queue(name);
    return new Promise((resolve) => {
      let nextDue = deadline;
      for (const message of queue.hidden.values()) nextDue = Math.min(nextDue, message.visibleAt);
      const timer = setTimeout(
        () => {
          queue.waiters.delete(done);
          resolve();
        },
        Math.max(1, nextDue - this.now()),
      );
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      queue.waiters.add(done);
    });
  }
}
