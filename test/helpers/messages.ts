import { randomUUID } from 'node:crypto';
import type { AcceptedMessage } from '../../functions/domain/tracking/accepted-message';

/** An accepted tracking message with sensible defaults, for tests. */
export function acceptedMessage(overrides: Partial<AcceptedMessage> & Pick<AcceptedMessage, 'type'>): AcceptedMessage {
  const timestamp = overrides.timestamp ?? '2026-11-20T10:00:00.000Z';
  return {
    messageId: randomUUID(),
    properties: {},
    traits: {},
    context: {},
    timestamp,
    receivedAt: timestamp,
    ...overrides,
  };
}
