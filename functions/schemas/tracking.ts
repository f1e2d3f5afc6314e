import * as z from 'zod';
import type { JsonObject, MessageType } from '../domain/tracking/accepted-message';
import { normalizeIsoTimestamp } from '../domain/tracking/timestamps';

/**
 * Wire format of the Segment-compatible Tracking API (CONTRACT.md §3): the shape of each field.
 * Which fields a message type requires is decided in functions/domain/tracking.
 */

export const MESSAGE_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const satisfies readonly MessageType[];

/** Identifiers become DynamoDB key parts downstream (2 KB max): keep them well within. */
export const MAX_IDENTIFIER_LENGTH = 255;

// Control characters, lone surrogates and U+FFFE/U+FFFF: SQS rejects them in message attributes.
const UNSAFE_CHARACTERS = /[\p{Cc}\p{Cs}\uFFFE\uFFFF]/u;

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
    .refine((value) => value.length <= MAX_IDENTIFIER_LENGTH, `must be at most ${MAX_IDENTIFIER_LENGTH} characters`)
    .refine((value) => !UNSAFE_CHARACTERS.test(value), 'must not contain control or invalid characters')
    .transform((value) => (value.trim() === '' ? undefined : value))
    .optional(),
);

const text = z.preprocess(nullAsAbsent, z.string({ error: 'must be a string' }).optional());

const jsonObject = z.preprocess(
  nullAsAbsent,
  z.custom<JsonObject>(isJsonObject, { error: 'must be a JSON object' }).optional(),
);

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

/** Issues as short reasons naming the field, e.g. `userId: must be a string or a number`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => (issue.path.length === 0 ? issue.message : `${formatPath(issue.path)}: ${issue.message}`))
    .join('; ');
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, position) =>
      typeof segment === 'number' ? `[${segment}]` : `${position === 0 ? '' : '.'}${String(segment)}`,
    )
    .join('');
}
