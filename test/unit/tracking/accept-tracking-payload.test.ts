import {
  payloadWriteKey,
  trackingEndpointForPath,
  validateTrackingPayload,
  type TrackingPayloadOutcome,
} from '../../../functions/domain/tracking/accept-tracking-payload';
import { normalizeIsoTimestamp } from '../../../functions/domain/tracking/timestamps';

const receivedAt = new Date('2026-03-01T12:00:00.000Z');
let generated = 0;
const context = { receivedAt, newMessageId: () => `generated-${(generated += 1)}` };

beforeEach(() => {
  generated = 0;
});

function validated(outcome: TrackingPayloadOutcome) {
  if (outcome.kind !== 'validated') throw new Error(`expected a validated payload, got: ${outcome.reason}`);
  return outcome;
}

describe('trackingEndpointForPath', () => {
  it.each([
    ['/v1/track', 'track'],
    ['/v1/t', 'track'],
    ['/v1/identify', 'identify'],
    ['/v1/i', 'identify'],
    ['/v1/page', 'page'],
    ['/v1/p', 'page'],
    ['/v1/screen', 'screen'],
    ['/v1/s', 'screen'],
    ['/v1/group', 'group'],
    ['/v1/g', 'group'],
    ['/v1/alias', 'alias'],
    ['/v1/a', 'alias'],
    ['/v1/batch', 'batch'],
    ['/v1/b', 'batch'],
    ['/prod/v1/batch/', 'batch'],
  ])('%s is %s', (path, endpoint) => {
    expect(trackingEndpointForPath(path)).toBe(endpoint);
  });

  it.each(['/v1/import', '/v1/constructor', '/v1/', ''])('%j is no tracking endpoint', (path) => {
    expect(trackingEndpointForPath(path)).toBeUndefined();
  });
});

describe('payloadWriteKey', () => {
  it('reads a string writeKey only', () => {
    expect(payloadWriteKey({ writeKey: 'k' })).toBe('k');
    expect(payloadWriteKey({ writeKey: 1 })).toBeUndefined();
    expect(payloadWriteKey(['k'])).toBeUndefined();
    expect(payloadWriteKey('k')).toBeUndefined();
  });
});

describe('validateTrackingPayload', () => {
  it("drops context.dmp, the platform's own: a browser cannot pass its message for a CRM import", () => {
    const outcome = validated(
      validateTrackingPayload(
        'batch',
        {
          context: { dmp: { origin: { source: 'crm', party: 'first' } } },
          batch: [{ type: 'identify', userId: 'u', context: { dmp: { origin: { source: 'crm' } }, consent: { categoryPreferences: { Marketing: true } } } }],
        },
        context,
      ),
    );
    expect(outcome.accepted[0]?.context).toEqual({ consent: { categoryPreferences: { Marketing: true } } });
  });

  it('turns a track call into an AcceptedMessage, dropping unknown fields and the writeKey', () => {
    const { accepted, rejected } = validated(
      validateTrackingPayload(
        'track',
        {
          writeKey: 'secret',
          type: 'identify', // the route decides the type
          messageId: 'm-1',
          userId: 'u-1',
          anonymousId: 'a-1',
          event: 'Product Added',
          properties: { product_id: 'p-1', price: 12.5 },
          context: { library: { name: 'analytics-node' } },
          integrations: { All: true },
          timestamp: '2026-02-28T10:00:00+01:00',
          originalTimestamp: '2026-02-28T09:59:59Z',
          sentAt: '2026-02-28T09:00:05.000Z',
          channel: 'server',
        },
        context,
      ),
    );
    expect(rejected).toEqual([]);
    expect(accepted).toHaveLength(1);
    expect(JSON.parse(JSON.stringify(accepted[0]))).toEqual({
      type: 'track',
      messageId: 'm-1',
      userId: 'u-1',
      anonymousId: 'a-1',
      event: 'Product Added',
      properties: { product_id: 'p-1', price: 12.5 },
      traits: {},
      context: { library: { name: 'analytics-node' } },
      integrations: { All: true },
      timestamp: '2026-02-28T09:00:00.000Z',
      originalTimestamp: '2026-02-28T09:59:59.000Z',
      sentAt: '2026-02-28T09:00:05.000Z',
      receivedAt: '2026-03-01T12:00:00.000Z',
    });
  });

  it('takes the event time from timestamp, else originalTimestamp, else the receipt time', () => {
    const { accepted } = validated(
      validateTrackingPayload(
        'batch',
        {
          batch: [
            { type: 'page', anonymousId: 'a', timestamp: '2026-01-01T00:00:00Z', originalTimestamp: '2025-01-01' },
            { type: 'page', anonymousId: 'a', originalTimestamp: '2025-06-01T08:00:00.123456+02:00' },
            { type: 'page', anonymousId: 'a', timestamp: null },
          ],
        },
        context,
      ),
    );
    expect(accepted.map((message) => message.timestamp)).toEqual(['2026-01-01T00:00:00.000Z', '2025-06-01T06:00:00.123Z', '2026-03-01T12:00:00.000Z']);
  });

  it('generates a messageId when absent and turns numbers into strings', () => {
    const { accepted } = validated(validateTrackingPayload('identify', { userId: 42, messageId: null, traits: { plan: 'gold' } }, context));
    expect(accepted[0]).toMatchObject({ userId: '42', messageId: 'generated-1', traits: { plan: 'gold' } });
  });

  it('treats null and blank identities as absent', () => {
    const { accepted } = validated(validateTrackingPayload('page', { userId: null, anonymousId: 'anon-1', name: 'Home' }, context));
    expect(accepted[0]).toMatchObject({ anonymousId: 'anon-1', name: 'Home' });
    expect(accepted[0]?.userId).toBeUndefined();
  });

  it('keeps a page category as a property', () => {
    const { accepted } = validated(validateTrackingPayload('page', { anonymousId: 'a', name: 'Mugs', category: 'Shop', properties: { path: '/' } }, context));
    expect(accepted[0]?.properties).toEqual({ category: 'Shop', path: '/' });
  });

  it('applies batch-level context, integrations and sentAt to each message, the message winning', () => {
    const { accepted } = validated(
      validateTrackingPayload(
        'batch',
        {
          batch: [
            { type: 'track', userId: 'u', event: 'A', context: { locale: 'fr-FR' } },
            { type: 'track', userId: 'u', event: 'B', sentAt: '2026-01-02T00:00:00Z', integrations: { X: false } },
          ],
          context: { locale: 'en-US', library: { name: 'sdk' } },
          integrations: { All: true },
          sentAt: '2026-01-01T00:00:00Z',
        },
        context,
      ),
    );
    expect(accepted[0]).toMatchObject({
      context: { locale: 'fr-FR', library: { name: 'sdk' } },
      integrations: { All: true },
      sentAt: '2026-01-01T00:00:00.000Z',
    });
    expect(accepted[1]).toMatchObject({
      context: { locale: 'en-US', library: { name: 'sdk' } },
      integrations: { All: true, X: false },
      sentAt: '2026-01-02T00:00:00.000Z',
    });
  });

  it('keeps only the fields that belong to each type', () => {
    const { accepted } = validated(
      validateTrackingPayload(
        'batch',
        {
          batch: [
            { type: 'identify', userId: 'u', event: 'x', groupId: 'g', previousId: 'p' },
            { type: 'group', userId: 'u', groupId: 'g-1', traits: { name: 'Acme' } },
            { type: 'alias', userId: 'u', previousId: 'anon-9' },
            { type: 'screen', anonymousId: 'a', name: 'Cart' },
          ],
        },
        context,
      ),
    );
    expect(accepted[0]).toMatchObject({ type: 'identify', event: undefined, groupId: undefined, previousId: undefined });
    expect(accepted[1]).toMatchObject({ type: 'group', groupId: 'g-1', traits: { name: 'Acme' } });
    expect(accepted[2]).toMatchObject({ type: 'alias', userId: 'u', previousId: 'anon-9' });
    expect(accepted[3]).toMatchObject({ type: 'screen', name: 'Cart' });
  });

  it.each([
    ['no identity', 'track', { event: 'A' }, 'userId or anonymousId is required'],
    ['blank identities', 'track', { userId: ' ', anonymousId: '', event: 'A' }, 'userId or anonymousId is required'],
    ['a track without event', 'track', { userId: 'u' }, 'event: required for track'],
    ['a track with a blank event', 'track', { userId: 'u', event: '  ' }, 'event: required for track'],
    ['an alias without previousId', 'alias', { userId: 'u' }, 'previousId: required for alias'],
    ['an alias without userId', 'alias', { anonymousId: 'a', previousId: 'p' }, 'userId: required for alias'],
    ['a group without groupId', 'group', { userId: 'u' }, 'groupId: required for group'],
    ['an unparseable timestamp', 'identify', { userId: 'u', timestamp: 'yesterday' }, 'timestamp: must be a valid ISO 8601 date'],
    ['an impossible date', 'identify', { userId: 'u', originalTimestamp: '2026-02-30' }, 'originalTimestamp: must be a valid ISO 8601 date'],
    ['a numeric timestamp', 'identify', { userId: 'u', timestamp: 1767225600 }, 'timestamp: must be an ISO 8601 date string'],
    ['an object userId', 'identify', { userId: { id: 1 } }, 'userId: must be a string or a number'],
    ['an overlong anonymousId', 'page', { anonymousId: 'a'.repeat(256) }, 'anonymousId: must be at most 255 characters'],
    ['a control character in messageId', 'page', { anonymousId: 'a', messageId: 'm\u0000' }, 'messageId: must not contain control or invalid characters'],
    ['a noncharacter in userId', 'identify', { userId: 'u\uFFFF' }, 'userId: must not contain control or invalid characters'],
    ['properties that are no object', 'track', { userId: 'u', event: 'A', properties: [1] }, 'properties: must be a JSON object'],
    ['a non-string event', 'track', { userId: 'u', event: 5 }, 'event: must be a string'],
  ] as const)('rejects %s', (_, endpoint, message, reason) => {
    const { accepted, rejected } = validated(validateTrackingPayload(endpoint, message, context));
    expect(accepted).toEqual([]);
    expect(rejected).toEqual([{ index: 0, messageId: 'messageId' in message ? message.messageId : undefined, reason }]);
  });

  it('reports every problem of a message in one reason', () => {
    const { rejected } = validated(validateTrackingPayload('track', { messageId: 7, properties: 'x' }, context));
    expect(rejected).toEqual([{ index: 0, messageId: '7', reason: 'properties: must be a JSON object' }]);
    const missing = validated(validateTrackingPayload('track', { messageId: 'm' }, context)).rejected;
    expect(missing[0]?.reason).toBe('userId or anonymousId is required; event: required for track');
  });

  it('rejects a message over 32 KB but accepts one just under', () => {
    const base = { userId: 'u', event: 'A', properties: { blob: '' } };
    const overhead = Buffer.byteLength(JSON.stringify(base));
    const fits = { ...base, properties: { blob: 'x'.repeat(32 * 1024 - overhead) } };
    const tooBig = { ...base, properties: { blob: 'x'.repeat(32 * 1024 - overhead + 1) } };
    expect(validated(validateTrackingPayload('track', fits, context)).accepted).toHaveLength(1);
    expect(validated(validateTrackingPayload('track', tooBig, context)).rejected[0]?.reason).toBe('message exceeds 32 KB');
  });

  it('judges each batch message on its own and reports the bad ones by index and messageId', () => {
    const { accepted, rejected } = validated(
      validateTrackingPayload(
        'batch',
        {
          batch: [
            { type: 'track', userId: 'u', event: 'A', messageId: 'ok-0' },
            { type: 'launch', userId: 'u', messageId: 'bad-1' },
            'not a message',
            { userId: 'u', event: 'no type', messageId: 'bad-3' },
            { type: 'identify', anonymousId: 'a', messageId: 'ok-4' },
            { type: 'batch', userId: 'u', messageId: 'bad-5' },
          ],
        },
        context,
      ),
    );
    expect(accepted.map((message) => message.messageId)).toEqual(['ok-0', 'ok-4']);
    const typeReason = 'type: must be one of track, identify, page, screen, group, alias';
    expect(rejected).toEqual([
      { index: 1, messageId: 'bad-1', reason: typeReason },
      { index: 2, messageId: undefined, reason: 'message must be a JSON object' },
      { index: 3, messageId: 'bad-3', reason: typeReason },
      { index: 5, messageId: 'bad-5', reason: typeReason },
    ]);
  });

  it.each([
    ['a non-object body on a single route', 'track', [{ userId: 'u' }], 'body must be a JSON object'],
    ['a string body', 'identify', 'hello', 'body must be a JSON object'],
    ['null', 'page', null, 'body must be a JSON object'],
    ['a batch that is not an array', 'batch', { batch: { type: 'track' } }, 'batch: must be an array'],
    ['a missing batch', 'batch', { type: 'track', userId: 'u' }, 'batch: must be an array'],
    ['a non-object batch body', 'batch', [{ type: 'track' }], 'body must be a JSON object'],
    ['a batch-level context that is no object', 'batch', { batch: [], context: 'x' }, 'context: must be a JSON object'],
  ] as const)('refuses the whole request for %s', (_, endpoint, payload, reason) => {
    expect(validateTrackingPayload(endpoint, payload, context)).toEqual({ kind: 'invalid-request', reason });
  });

  it('accepts 2,500 messages in a batch and refuses 2,501', () => {
    const batchOf = (count: number) => ({
      batch: Array.from({ length: count }, (_, index) => ({ type: 'track', userId: 'u', event: 'E', messageId: `${index}` })),
    });
    expect(validated(validateTrackingPayload('batch', batchOf(2_500), context)).accepted).toHaveLength(2_500);
    expect(validateTrackingPayload('batch', batchOf(2_501), context)).toEqual({
      kind: 'invalid-request',
      reason: 'batch exceeds 2500 messages',
    });
  });

  it('accepts an empty batch with nothing to queue', () => {
    expect(validateTrackingPayload('batch', { batch: [] }, context)).toEqual({
      kind: 'validated',
      accepted: [],
      rejected: [],
    });
  });
});

describe('normalizeIsoTimestamp', () => {
  it.each([
    ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01T00:00:00.123456+00:00', '2026-01-01T00:00:00.123Z'],
    ['2026-01-01T05:30:00+0530', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01T00:00:00-05:00', '2026-01-01T05:00:00.000Z'],
    ['2026-01-01T00:00:00', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01 00:00', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01', '2026-01-01T00:00:00.000Z'],
    ['2024-02-29T23:59:59.9Z', '2024-02-29T23:59:59.900Z'],
    ['0099-01-01', '0099-01-01T00:00:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(normalizeIsoTimestamp(text)).toBe(iso);
  });

  it.each([
    'yesterday',
    '2026-02-29',
    '2026-13-01',
    '2026-01-32',
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:60:00Z',
    '2026-01-01T00:00:00+25:00',
    'Tue, 01 Jan 2026 00:00:00 GMT',
    '1767225600',
    '',
  ])('refuses %j', (text) => {
    expect(normalizeIsoTimestamp(text)).toBeUndefined();
  });
});
