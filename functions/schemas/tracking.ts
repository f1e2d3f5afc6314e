import * as z from 'zod';
import type { JsonObject, MessageType } from '../domain/tracking/accepted-message';
import { identifierProblem, MESSAGE_LIMITS, type LimitIssue } from '../domain/tracking/limits';
import { normalizeIsoTimestamp } from '../domain/tracking/timestamps';

/**
 * Wire format of the Segment-compatible Tracking API (docs/contract.md §3): the shape of each field.
 * Which fields a message type requires is decided in functions/domain/tracking.
 */

export const MESSAGE_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const satisfies readonly MessageType[];

/** Identifiers become DynamoDB key parts downstream: see MESSAGE_LIMITS (domain/tracking/limits). */
export const MAX_IDENTIFIER_LENGTH = MESSAGE_LIMITS.maxIdentifierLength;

/** analytics.js and others send `null` for "not set" (e.g. `userId: null` for anonymous visitors). */
const nullAsAbsent = (value: unknown): unknown => (value === null ? undefined : value);

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** userId, anonymousId, messageId...: a string or a number (made a string); blank means absent. */
const identifier = z.preprocess(
  nullAsAbsent,
  z
    .union([z.string(), z.number()], { error: 'must be a string or a number' })
    .transform((value) => String(value))
    .superRefine((value, context) => {
      const problem = identifierProblem(value);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    })
    .transform((value) => (value.trim() === '' ? undefined : value))
    .optional(),
);

const text = z.preprocess(nullAsAbsent, z.string({ error: 'must be a string' }).optional());

const jsonObject = z.preprocess(nullAsAbsent, z.custom<JsonObject>(isJsonObject, { error: 'must be a JSON object' }).optional());

/** ISO 8601 date-time, normalized to `toISOString()` form. */
const timestamp = z.preprocess(
  nullAsAbsent,
  z
    .string({ error: 'must be an ISO 8601 date string' })
    .transform((value, context) => {
      const normalized = normalizeIsoTimestamp(value);
      if (normalized === undefined) context.addIssue({ code: 'custom', message: 'must be a valid ISO 8601 date' });
      return normalized ?? z.NEVER;
    })
    .optional(),
);

/** In a batch each message names its type (on other routes the path does). */
export const batchMessageTypeSchema = z.object({
  type: z.enum(MESSAGE_TYPES, { error: `must be one of ${MESSAGE_TYPES.join(', ')}` }),
});

/** The fields of one message; unknown fields are dropped. */
export const trackingMessageSchema = z.object(
  {
    messageId: identifier,
    userId: identifier,
    anonymousId: identifier,
    previousId: identifier,
    groupId: identifier,
    event: text,
    name: text,
    category: text,
    properties: jsonObject,
    traits: jsonObject,
    context: jsonObject,
    integrations: jsonObject,
    timestamp,
    originalTimestamp: timestamp,
    sentAt: timestamp,
  },
  { error: 'message must be a JSON object' },
);

export type TrackingMessageFields = z.output<typeof trackingMessageSchema>;

/** `POST /v1/batch`: `context` and `integrations` here apply to every message (Segment's batch rule). */
export const batchEnvelopeSchema = z.object(
  {
    batch: z.array(z.unknown(), { error: 'must be an array' }),
    context: jsonObject,
    integrations: jsonObject,
    sentAt: timestamp,
  },
  { error: 'body must be a JSON object' },
);

export type BatchEnvelope = z.output<typeof batchEnvelopeSchema>;

/**
 * Issues (zod's, or limits') as short reasons naming the field, e.g. `userId: must be a string or
 * a number`, `properties.items[3].price: amount beyond ±1000000000000`.
 */
export function describeIssues(issues: readonly LimitIssue[]): string {
  return issues.map((issue) => (issue.path.length === 0 ? issue.message : `${formatPath(issue.path)}: ${issue.message}`)).join('; ');
}

/** Keys shown in a path: plain names as they are; others quoted, and cut (they are the client's data). */
const PLAIN_KEY = /^[A-Za-z_$][\w$-]{0,39}$/;
const MAX_SHOWN_KEY_LENGTH = 40;

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, position) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const key = String(segment);
      if (PLAIN_KEY.test(key)) return `${position === 0 ? '' : '.'}${key}`;
      const shown = key.length > MAX_SHOWN_KEY_LENGTH ? `${key.slice(0, MAX_SHOWN_KEY_LENGTH)}…` : key;
      return `[${JSON.stringify(shown)}]`;
    })
    .join('');
}
