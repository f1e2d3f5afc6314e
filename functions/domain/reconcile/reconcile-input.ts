import { PoisonMessageError } from '../shared/poison-message';
import type { AcceptedMessage, JsonObject, MessageType } from '../tracking/accepted-message';
import { normalizeIsoTimestamp } from '../tracking/timestamps';
import { reservedName, storableNumber } from '../profile/limits';

const MESSAGE_TYPES: ReadonlySet<string> = new Set<MessageType>(['track', 'identify', 'page', 'screen', 'group', 'alias']);
/** DynamoDB allows 32 levels; the event item wraps the message in one (`message`), the profile nests deeper still. */
const MAX_MESSAGE_DEPTH = 30;
const MAX_ID_LENGTH = 255;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The first thing that makes a JSON value unstorable in a DynamoDB item, if any. */
function storageProblem(value: unknown, depth: number): string | undefined {
  if (typeof value === 'number') return storableNumber(value) ? undefined : 'a number outside the range DynamoDB stores';
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_MESSAGE_DEPTH) return `nested deeper than ${MAX_MESSAGE_DEPTH} levels`;
  for (const [key, item] of Object.entries(value)) {
    if (!Array.isArray(value) && key === '') return 'an empty property name';
    // The DynamoDB document client cannot marshal an object with an own `constructor` (and the like).
    if (!Array.isArray(value) && reservedName(key)) return 'a reserved property name';
    const problem = storageProblem(item, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

function optionalText(message: JsonObject, field: string, maxLength = Number.POSITIVE_INFINITY): void {
  const value = message[field];
  if (value !== undefined && (typeof value !== 'string' || value.length > maxLength))
    throw new PoisonMessageError(`${field} is not a string${Number.isFinite(maxLength) ? ` of at most ${maxLength} characters` : ''}`);
}

function isoTime(message: JsonObject, field: string, required: boolean): string | undefined {
  const value = message[field];
  if (value === undefined && !required) return undefined;
  const normalized = typeof value === 'string' ? normalizeIsoTimestamp(value) : undefined;
  if (!normalized) throw new PoisonMessageError(`${field} is not an ISO 8601 time`);
  return normalized;
}

/**
 * Reads one message of an Events queue body as an AcceptedMessage, or throws PoisonMessageError
 * naming what is wrong (never a value). The reconcile function cannot trust the queue more than the
 * ingest function trusts the internet: a message that breaks the message contract or that DynamoDB
 * could never store (nesting, number range, empty names) can never be applied, however often retried.
 */
export function acceptedMessageOf(parsed: unknown): AcceptedMessage {
  if (!isObject(parsed)) throw new PoisonMessageError('message is not a JSON object');
  if (typeof parsed.type !== 'string' || !MESSAGE_TYPES.has(parsed.type)) throw new PoisonMessageError('type is not a message type');
  if (typeof parsed.messageId !== 'string' || parsed.messageId === '' || parsed.messageId.length > MAX_ID_LENGTH) {
    throw new PoisonMessageError(`messageId is not a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  // Over-long identifiers are not linked (profile caps); only their type is checked here.
  for (const field of ['userId', 'anonymousId', 'previousId', 'groupId', 'event', 'name']) optionalText(parsed, field);
  for (const field of ['properties', 'traits', 'context']) {
    if (parsed[field] !== undefined && !isObject(parsed[field])) throw new PoisonMessageError(`${field} is not an object`);
  }
  if (parsed.integrations !== undefined && !isObject(parsed.integrations)) throw new PoisonMessageError('integrations is not an object');
  const timestamp = isoTime(parsed, 'timestamp', true) as string;
  const receivedAt = isoTime(parsed, 'receivedAt', true) as string;
  const sentAt = isoTime(parsed, 'sentAt', false);
  const originalTimestamp = isoTime(parsed, 'originalTimestamp', false);
  const problem = storageProblem(parsed, 1);
  if (problem) throw new PoisonMessageError(`the message holds ${problem}`);
  return {
    ...(parsed as unknown as AcceptedMessage),
    properties: (parsed.properties as JsonObject | undefined) ?? {},
    traits: (parsed.traits as JsonObject | undefined) ?? {},
    context: (parsed.context as JsonObject | undefined) ?? {},
    timestamp,
    receivedAt,
    ...(sentAt && { sentAt }),
    ...(originalTimestamp && { originalTimestamp }),
  };
}

/** A message's size as its quarantine entry records it: its JSON in UTF-8. */
export const messageBytes = (message: unknown): number => Buffer.byteLength(JSON.stringify(message) ?? '', 'utf8');

/** One message of an Events queue body: read, or refused with the id it names (when it has one) and its size. */
export type EventsBodyEntry =
  { readonly message: AcceptedMessage } | { readonly error: PoisonMessageError; readonly messageId?: string; readonly bytes: number };

/**
 * Reads an Events queue body: an AcceptedMessages envelope, each message read on its own (one bad
 * message does not condemn the others), or a single message as earlier versions queued. Throws
 * PoisonMessageError when the body itself is unreadable (not JSON, a malformed envelope, or a
 * single message that breaks the contract).
 */
export function parseEventsBody(body: string): EventsBodyEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new PoisonMessageError('body is not JSON', { cause: error });
  }
  if (!isObject(parsed)) throw new PoisonMessageError('body is not a JSON object');
  if (parsed.kind !== 'accepted-messages') return [{ message: acceptedMessageOf(parsed) }];
  if (!Array.isArray(parsed.messages)) throw new PoisonMessageError('messages is not an array');
  return parsed.messages.map((entry: unknown): EventsBodyEntry => {
    try {
      return { message: acceptedMessageOf(entry) };
    } catch (error) {
      if (!(error instanceof PoisonMessageError)) throw error;
      const messageId = isObject(entry) && typeof entry.messageId === 'string' && entry.messageId.length <= MAX_ID_LENGTH ? entry.messageId : undefined;
      return { error, ...(messageId && { messageId }), bytes: messageBytes(entry) };
    }
  });
}
