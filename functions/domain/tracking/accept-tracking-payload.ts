import {
  batchEnvelopeSchema,
  batchMessageTypeSchema,
  describeIssues,
  isJsonObject,
  trackingMessageSchema,
  type BatchEnvelope,
  type TrackingMessageFields,
} from '../../schemas/tracking';
import type { AcceptedMessage, JsonObject, MessageType } from './accepted-message';
import { messageLimitIssues, tooDeepIssue, TRACKING_LIMITS } from './limits';

export { TRACKING_LIMITS } from './limits';

/** What a Tracking API route receives: one message of a type, or a batch of typed messages. */
export type TrackingEndpoint = MessageType | 'batch';

const ENDPOINTS_BY_PATH_SEGMENT: Readonly<Record<string, TrackingEndpoint>> = {
  track: 'track',
  identify: 'identify',
  page: 'page',
  screen: 'screen',
  group: 'group',
  alias: 'alias',
  batch: 'batch',
  // analytics.js short paths
  t: 'track',
  i: 'identify',
  p: 'page',
  s: 'screen',
  g: 'group',
  a: 'alias',
  b: 'batch',
};

/** A message that was not accepted, reported to the client by position. */
export interface RejectedMessage {
  readonly index: number;
  /** The client's messageId as sent (a string or number), so it can find the message. */
  readonly messageId?: string;
  readonly reason: string;
}

export type TrackingPayloadOutcome =
  /** The request as a whole is unusable (not an object, batch not an array, too many messages). */
  | { readonly kind: 'invalid-request'; readonly reason: string }
  | { readonly kind: 'validated'; readonly accepted: AcceptedMessage[]; readonly rejected: RejectedMessage[] };

export interface AcceptanceContext {
  readonly receivedAt: Date;
  /** Idempotency key for a message that came without one. */
  readonly newMessageId: () => string;
}

/** The endpoint a request path names by its last segment (`/v1/track`, `/v1/t`, behind any stage prefix). */
export function trackingEndpointForPath(path: string): TrackingEndpoint | undefined {
  const lastSegment = path.replace(/\/+$/, '').split('/').pop() ?? '';
  return Object.hasOwn(ENDPOINTS_BY_PATH_SEGMENT, lastSegment) ? ENDPOINTS_BY_PATH_SEGMENT[lastSegment] : undefined;
}

/** The `writeKey` field of a body, the alternative to HTTP Basic auth. */
export function payloadWriteKey(payload: unknown): string | undefined {
  return isJsonObject(payload) && typeof payload.writeKey === 'string' ? payload.writeKey : undefined;
}

/**
 * Validates a parsed request body against the Tracking API contract and turns every valid message
 * into an `AcceptedMessage`. Bad messages do not spoil good ones: each is accepted or rejected on
 * its own, so a batch can be partly accepted.
 */
export function validateTrackingPayload(endpoint: TrackingEndpoint, payload: unknown, context: AcceptanceContext): TrackingPayloadOutcome {
  if (endpoint !== 'batch') {
    if (!isJsonObject(payload)) return { kind: 'invalid-request', reason: 'body must be a JSON object' };
    return collectOutcomes([payload], (raw, index) => acceptMessage(raw, index, () => ({ type: endpoint }), undefined, context));
  }
  const envelope = batchEnvelopeSchema.safeParse(payload);
  if (!envelope.success) return { kind: 'invalid-request', reason: describeIssues(envelope.error.issues) };
  if (envelope.data.batch.length > TRACKING_LIMITS.maxBatchMessages) {
    return { kind: 'invalid-request', reason: `batch exceeds ${TRACKING_LIMITS.maxBatchMessages} messages` };
  }
  return collectOutcomes(envelope.data.batch, (raw, index) => acceptMessage(raw, index, batchMessageType, envelope.data, context));
}

/** On a batch each message names its own type; on the other routes the path does. */
type MessageTypeResolution = { readonly type: MessageType } | { readonly reason: string };

function batchMessageType(raw: JsonObject): MessageTypeResolution {
  const parsed = batchMessageTypeSchema.safeParse(raw);
  return parsed.success ? { type: parsed.data.type } : { reason: describeIssues(parsed.error.issues) };
}

type MessageOutcome = { readonly accepted: AcceptedMessage } | { readonly rejected: RejectedMessage };

function collectOutcomes(messages: readonly unknown[], judge: (raw: unknown, index: number) => MessageOutcome): TrackingPayloadOutcome {
  const accepted: AcceptedMessage[] = [];
  const rejected: RejectedMessage[] = [];
  messages.forEach((raw, index) => {
    const outcome = judge(raw, index);
    if ('accepted' in outcome) accepted.push(outcome.accepted);
    else rejected.push(outcome.rejected);
  });
  return { kind: 'validated', accepted, rejected };
}

function acceptMessage(
  raw: unknown,
  index: number,
  resolveType: (raw: JsonObject) => MessageTypeResolution,
  envelope: BatchEnvelope | undefined,
  context: AcceptanceContext,
): MessageOutcome {
  if (!isJsonObject(raw)) return rejection(raw, index, 'message must be a JSON object');
  // Before anything recurses into it (JSON.stringify would overflow the stack on 100,000 levels).
  const tooDeep = tooDeepIssue(raw);
  if (tooDeep) return rejection(raw, index, describeIssues([tooDeep]));
  if (Buffer.byteLength(JSON.stringify(raw), 'utf8') > TRACKING_LIMITS.maxMessageBytes) {
    return rejection(raw, index, `message exceeds ${TRACKING_LIMITS.maxMessageBytes / 1024} KB`);
  }
  const resolved = resolveType(raw);
  if ('reason' in resolved) return rejection(raw, index, resolved.reason);
  const { type } = resolved;
  const parsed = trackingMessageSchema.safeParse(raw);
  if (!parsed.success) return rejection(raw, index, describeIssues(parsed.error.issues));
  const missing = missingRequiredFields(type, parsed.data);
  if (missing.length > 0) return rejection(raw, index, missing.join('; '));
  // The limits apply to the message as it will be queued: the batch's defaults merged in.
  const accepted = toAcceptedMessage(type, parsed.data, envelope, context);
  const overLimits = messageLimitIssues(accepted);
  if (overLimits.length > 0) return rejection(raw, index, describeIssues(overLimits));
  return { accepted };
}

/** Per-type requirements of the Segment spec; identity is what every message needs. */
function missingRequiredFields(type: MessageType, fields: TrackingMessageFields): string[] {
  const missing: string[] = [];
  if (fields.userId === undefined && fields.anonymousId === undefined) missing.push('userId or anonymousId is required');
  if (type === 'track' && (fields.event === undefined || fields.event.trim() === '')) {
    missing.push('event: required for track');
  }
  if (type === 'alias') {
    if (fields.previousId === undefined) missing.push('previousId: required for alias');
    if (fields.userId === undefined && fields.anonymousId !== undefined) missing.push('userId: required for alias');
  }
  if (type === 'group' && fields.groupId === undefined) missing.push('groupId: required for group');
  return missing;
}

function toAcceptedMessage(type: MessageType, fields: TrackingMessageFields, envelope: BatchEnvelope | undefined, context: AcceptanceContext): AcceptedMessage {
  const receivedAt = context.receivedAt.toISOString();
  const hasName = type === 'page' || type === 'screen';
  return {
    type,
    messageId: fields.messageId ?? context.newMessageId(),
    userId: fields.userId,
    anonymousId: fields.anonymousId,
    event: type === 'track' ? fields.event : undefined,
    name: hasName ? fields.name : undefined,
    previousId: type === 'alias' ? fields.previousId : undefined,
    groupId: type === 'group' ? fields.groupId : undefined,
    // Segment's page/screen `category` lives on as a property rather than being dropped.
    properties: hasName && fields.category !== undefined ? { category: fields.category, ...fields.properties } : (fields.properties ?? {}),
    traits: fields.traits ?? {},
    context: withoutPlatformContext(mergeBatchDefaults(envelope?.context, fields.context) ?? {}),
    timestamp: fields.timestamp ?? fields.originalTimestamp ?? receivedAt,
    receivedAt,
    sentAt: fields.sentAt ?? envelope?.sentAt,
    originalTimestamp: fields.originalTimestamp,
    integrations: mergeBatchDefaults(envelope?.integrations, fields.integrations),
  };
}

/**
 * `context.dmp` is the platform's own (an import's origin, source and party): a client of the
 * public write key cannot claim it, so its messages never pass for a CRM import.
 */
function withoutPlatformContext(context: JsonObject): JsonObject {
  const { dmp: _platformOnly, ...clientContext } = context;
  return clientContext;
}

/** A batch-level object applies to each message, the message's own keys winning. */
function mergeBatchDefaults(batchLevel: JsonObject | undefined, own: JsonObject | undefined): JsonObject | undefined {
  if (batchLevel === undefined) return own;
  return { ...batchLevel, ...own };
}

function rejection(raw: unknown, index: number, reason: string): MessageOutcome {
  return { rejected: { index, messageId: clientMessageId(raw), reason } };
}

function clientMessageId(raw: unknown): string | undefined {
  if (!isJsonObject(raw)) return undefined;
  const { messageId } = raw;
  return typeof messageId === 'string' || typeof messageId === 'number' ? String(messageId) : undefined;
}
