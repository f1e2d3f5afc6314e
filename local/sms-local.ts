import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { SqsJsonQueue } from '../functions/adapters/sqs-message-queue';
import { checkE164 } from '../functions/domain/sms/phone-number';
import type { SmsInboundEvent, SmsReceiptEvent } from '../functions/domain/sms/sms-events';
import { smsLength } from '../functions/domain/sms/sms-text';
import { LOOPBACK } from './free-port';

/**
 * The local stand-in for AWS End User Messaging SMS: an endpoint speaking its JSON protocol
 * (`AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2`), so the journeySend function's SDK client and adapter
 * run unchanged. It records each accepted text (`GET /dev/sms`, oldest first; `POST /dev/sms/clear`)
 * and, for a send through the platform's configuration set, publishes the delivery receipt AWS
 * would to the SmsEvents queue: TEXT_DELIVERED, TEXT_CARRIER_UNREACHABLE (a failure in passing) for
 * a number ending in 0000, or TEXT_INVALID (a number that cannot receive texts) for one ending in
 * 9999: the documented failing numbers. `POST /dev/sms/inbound` `{"from": "+33…", "text": "STOP"}`
 * publishes a two-way reply as AWS would. A destination that is not E.164 is refused
 * (ValidationException), as AWS refuses it.
 */

/** The configuration set the local platform's functions send texts through (SMS_CONFIGURATION_SET). */
export const LOCAL_SMS_CONFIGURATION_SET = 'dmp-local-sms';
/** The origination number of the local platform (SMS_ORIGINATION_IDENTITY), a US toll-free test number. */
export const LOCAL_ORIGINATION_NUMBER = '+18005550100';
/** Numbers ending in this fail delivery in passing (TEXT_CARRIER_UNREACHABLE). */
export const FAILING_NUMBER_SUFFIX = '0000';
/** Numbers ending in this cannot receive texts (TEXT_INVALID): the platform suppresses them. */
export const INVALID_NUMBER_SUFFIX = '9999';

/** The receipt of a text to `to`: its type, status and description as AWS words them. */
function outcomeOf(to: string): { readonly eventType: string; readonly messageStatus: string; readonly messageStatusDescription: string } {
  if (to.endsWith(FAILING_NUMBER_SUFFIX))
    return {
      eventType: 'TEXT_CARRIER_UNREACHABLE',
      messageStatus: 'CARRIER_UNREACHABLE',
      messageStatusDescription: 'The destination carrier could not be reached',
    };
  if (to.endsWith(INVALID_NUMBER_SUFFIX))
    return { eventType: 'TEXT_INVALID', messageStatus: 'INVALID', messageStatusDescription: 'The destination phone number is invalid' };
  return { eventType: 'TEXT_DELIVERED', messageStatus: 'DELIVERED', messageStatusDescription: 'Message has been accepted by phone' };
}

/** One text of `GET /dev/sms`. */
export interface RecordedSms {
  readonly messageId: string;
  readonly to: string;
  readonly body: string;
  readonly sentAt: string;
  readonly messageType?: string;
  readonly originationIdentity?: string;
  readonly configurationSet?: string;
  /** The send's Context (the platform's ids). */
  readonly context: Readonly<Record<string, string>>;
  readonly segments: number;
  readonly encoding: string;
}

export interface LocalSms {
  /** Where SDK clients send (AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2). */
  readonly endpoint: string;
  messages(): RecordedSms[];
  /** The developer endpoints under /dev/sms, for the platform's HTTP server; undefined for other paths. */
  handleDevRequest(method: string, path: string, body: Buffer): Promise<{ readonly status: number; readonly body: unknown } | undefined>;
  isHealthy(): boolean;
  /** Waits for receipts being published, then closes the endpoint. */
  stop(): Promise<void>;
}

export interface LocalSmsOptions {
  readonly logger: Logger;
  readonly sqs: SQSClient;
  /** The SmsEvents queue. */
  readonly queueUrl: string;
  /** Only sends through this configuration set publish receipts (the event destination on AWS). */
  readonly configurationSet: string;
  readonly originationNumber: string;
  /** JSON lines file keeping the recorded texts across restarts. */
  readonly file?: string;
}

const sendTextMessage = z.object({
  DestinationPhoneNumber: z.string(),
  MessageBody: z.string().min(1).max(1_600),
  OriginationIdentity: z.string().optional(),
  ConfigurationSetName: z.string().optional(),
  MessageType: z.enum(['TRANSACTIONAL', 'PROMOTIONAL']).optional(),
  Context: z.record(z.string(), z.string()).optional(),
});

const inboundRequest = z.strictObject({ from: z.string().min(1).max(32), text: z.string().max(1_600) });

const TARGET_PREFIX = 'PinpointSMSVoiceV2.';

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The receipt AWS publishes when the carrier reports the outcome of a text. */
export function deliveryReceipt(sms: RecordedSms, originationNumber: string, at: Date): SmsReceiptEvent & Record<string, unknown> {
  const { eventType, messageStatus, messageStatusDescription } = outcomeOf(sms.to);
  return {
    eventType,
    eventVersion: '1.0',
    eventTimestamp: at.getTime(),
    isFinal: true,
    originationPhoneNumber: sms.originationIdentity ?? originationNumber,
    destinationPhoneNumber: sms.to,
    isoCountryCode: 'ZZ',
    messageId: sms.messageId,
    messageRequestTimestamp: Date.parse(sms.sentAt),
    messageEncoding: sms.encoding === 'GSM-7' ? 'GSM' : 'UCS2',
    messageType: sms.messageType ?? 'TRANSACTIONAL',
    messageStatus,
    messageStatusDescription,
    context: { ...sms.context },
    totalMessageParts: sms.segments,
  };
}

export async function startLocalSms(options: LocalSmsOptions): Promise<LocalSms> {
  const { logger } = options;
  const recorded: RecordedSms[] = [];
  if (options.file) {
    await mkdir(dirname(options.file), { recursive: true });
    const lines = await readFile(options.file, 'utf8').catch(() => '');
    for (const line of lines.split('\n')) if (line.trim() !== '') recorded.push(JSON.parse(line) as RecordedSms);
  }
  const queue = new SqsJsonQueue<unknown>({ client: options.sqs, queueUrl: options.queueUrl, attributesOf: () => ({}) });
  const pending = new Set<Promise<void>>();
  const publish = (events: unknown[], what: string): Promise<void> => {
    const publishing = queue.send(events).catch((error: unknown) => logger.error('publishing SMS events failed', { what, error }));
    pending.add(publishing);
    void publishing.finally(() => pending.delete(publishing));
    return publishing;
  };

  const fail = (status: number, type: string, message: string, reason?: string) => ({
    status,
    body: { __type: type, message, ...(reason && { Reason: reason }) },
  });

  async function sendText(body: Buffer): Promise<{ status: number; body: unknown }> {
    let input: z.infer<typeof sendTextMessage>;
    try {
      const parsed = sendTextMessage.safeParse(JSON.parse(body.toString('utf8')));
      if (!parsed.success) return fail(400, 'ValidationException', 'invalid SendTextMessage request', 'INVALID_PARAMETER');
      input = parsed.data;
    } catch {
      return fail(400, 'ValidationException', 'the body is not JSON', 'INVALID_REQUEST');
    }
    const number = checkE164(input.DestinationPhoneNumber);
    if (!number.ok || number.number !== input.DestinationPhoneNumber) {
      return fail(400, 'ValidationException', 'DestinationPhoneNumber must be E.164', 'INVALID_PARAMETER');
    }
    const length = smsLength(input.MessageBody);
    const sms: RecordedSms = {
      messageId: randomUUID(),
      to: number.number,
      body: input.MessageBody,
      sentAt: new Date().toISOString(),
      ...(input.MessageType && { messageType: input.MessageType }),
      ...(input.OriginationIdentity && { originationIdentity: input.OriginationIdentity }),
      ...(input.ConfigurationSetName && { configurationSet: input.ConfigurationSetName }),
      context: input.Context ?? {},
      segments: length.segments,
      encoding: length.encoding,
    };
    recorded.push(sms);
    if (options.file) await appendFile(options.file, `${JSON.stringify(sms)}\n`);
    if (sms.configurationSet === options.configurationSet) void publish([deliveryReceipt(sms, options.originationNumber, new Date())], 'receipt');
    return { status: 200, body: { MessageId: sms.messageId } };
  }

  const server: Server = createServer((request, response) => {
    void (async () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const body = await readBody(request);
      const answer =
        request.method === 'POST' && target === `${TARGET_PREFIX}SendTextMessage`
          ? await sendText(body)
          : fail(400, 'UnknownOperationException', `the local SMS stand-in implements SendTextMessage only, not ${target || 'this request'}`);
      const type = (answer.body as { __type?: string }).__type;
      response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0', ...(type && { 'x-amzn-errortype': type }) });
      response.end(JSON.stringify(answer.body));
    })().catch((error: unknown) => {
      logger.error('local SMS request failed', { error });
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'InternalServerException' });
      response.end(JSON.stringify({ __type: 'InternalServerException', message: 'local SMS stand-in failure' }));
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve((server.address() as AddressInfo).port));
  });
  let listening = true;

  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    messages: () => [...recorded],
    async handleDevRequest(method, path, body) {
      if (method === 'GET' && path === '/dev/sms') return { status: 200, body: [...recorded] };
      if (method === 'POST' && path === '/dev/sms/clear') {
        recorded.length = 0;
        if (options.file) await writeFile(options.file, '');
        return { status: 200, body: { cleared: true } };
      }
      if (method === 'POST' && path === '/dev/sms/inbound') {
        let parsed: ReturnType<typeof inboundRequest.safeParse>;
        try {
          parsed = inboundRequest.safeParse(JSON.parse(body.toString('utf8')));
        } catch {
          return { status: 400, body: { message: 'the body is not JSON' } };
        }
        if (!parsed.success) return { status: 400, body: { message: 'expected {"from": "+<E.164 number>", "text": "<reply>"}' } };
        const inboundMessageId = randomUUID();
        const event: SmsInboundEvent = {
          originationNumber: parsed.data.from,
          destinationNumber: options.originationNumber,
          messageKeyword: parsed.data.text.trim().split(/\s+/)[0]?.toUpperCase() ?? '',
          messageBody: parsed.data.text,
          inboundMessageId,
        };
        await publish([{ ...event, previousPublishedMessageId: '' }], 'inbound');
        return { status: 202, body: { inboundMessageId } };
      }
      return undefined;
    },
    isHealthy: () => listening,
    async stop() {
      await Promise.all(pending);
      listening = false;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
