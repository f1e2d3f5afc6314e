import type { JsonObject } from './accepted-message';

/** The value as a JSON object, or an empty one when it is anything else (tolerant reading of SDK payloads). */
export function asObject(value: unknown): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {};
}
