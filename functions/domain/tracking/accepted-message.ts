/**
 * A tracking message as the ingest function accepted it: validated, normalized and stamped.
 * This is the body of every SQS message on the events queue, the contract between ingestion
 * and reconciliation. Field names follow the Segment spec. Each SQS message also carries the
 * message attributes `type` and `messageId` (String) for routing and operations.
 * Identifiers (`messageId`, `userId`, `anonymousId`, `previousId`, `groupId`) are non-blank
 * strings of at most 255 characters (numbers sent by clients arrive as strings); at least one of
 * `userId` and `anonymousId` is present. Absent optional fields are omitted from the JSON.
 * Whatever the ingest function or an import queues is within MESSAGE_LIMITS (./limits.ts): nesting,
 * keys, names, numbers, external ids and size a consumer can always store.
 */
export type MessageType = 'track' | 'identify' | 'page' | 'screen' | 'group' | 'alias';

export type JsonObject = { [key: string]: unknown };

export interface AcceptedMessage {
  readonly type: MessageType;
  /** Idempotency key: from the client, or generated at ingest when absent. */
  readonly messageId: string;
  readonly userId?: string;
  readonly anonymousId?: string;
  /** `track` only. */
  readonly event?: string;
  /** `page` / `screen` name. */
  readonly name?: string;
  /** `alias` only: the identity being aliased to `userId`. */
  readonly previousId?: string;
  /** `group` only. */
  readonly groupId?: string;
  readonly properties: JsonObject;
  readonly traits: JsonObject;
  readonly context: JsonObject;
  /** Event time, ISO 8601: `timestamp`, else `originalTimestamp`, else receipt time. */
  readonly timestamp: string;
  /** When the ingest function accepted it, ISO 8601. */
  readonly receivedAt: string;
  /** When the client sent it, ISO 8601 (the message's own, else its batch's). */
  readonly sentAt?: string;
  /** The client's event time as sent, ISO 8601. */
  readonly originalTimestamp?: string;
  readonly integrations?: JsonObject;
}
