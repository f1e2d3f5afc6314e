import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { sha256Hex } from '../../../functions/domain/auth/credentials';
import { validateTrackingPayload, type TrackingEndpoint } from '../../../functions/domain/tracking/accept-tracking-payload';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { MESSAGE_LIMITS, messageLimitIssues, RESERVED_NAMES } from '../../../functions/domain/tracking/limits';
import { createIngestHandler } from '../../../functions/handlers/ingest';
import type { EventQueue } from '../../../functions/ports/event-queue';
import { apiGatewayEvent, basicAuthorization } from '../http/api-gateway-event';

/**
 * The limits of functions/domain/tracking/limits.ts, each just under (accepted) and just over
 * (rejected with a reason naming the field and the limit), as the Tracking API applies them.
 */
const context = { receivedAt: new Date('2026-03-01T12:00:00.000Z'), newMessageId: () => 'generated-1' };

/** What the Tracking API decides for one message on `endpoint`: accepted, or the reason. */
function judge(message: Record<string, unknown>, endpoint: TrackingEndpoint = 'track'): { accepted: boolean; reason?: string } {
  const outcome = validateTrackingPayload(endpoint, message, context);
  if (outcome.kind !== 'validated') return { accepted: false, reason: outcome.reason };
  return outcome.accepted.length === 1 ? { accepted: true } : { accepted: false, reason: outcome.rejected[0]?.reason ?? '' };
}

const accepted = { accepted: true };
const rejectedFor = (reason: string) => ({ accepted: false, reason });

/** `{a: {a: ... {leaf: 1}}}`: `levels` objects in all. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let level = 1; level < levels; level += 1) value = { a: value };
  return value;
}

const pathOf = (field: string, levels: number): string => [field, ...Array.from({ length: levels - 1 }, () => 'a')].join('.');

const track = (extra: Record<string, unknown>) => ({ userId: 'u-1', event: 'Product Viewed', ...extra });
const identify = (traits: Record<string, unknown>) => ({ userId: 'u-1', traits });
const keysObject = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${index}`, index]));

describe('nesting depth (at most 16 levels, DynamoDB allows 32)', () => {
  it.each(['properties', 'traits', 'context', 'integrations'])('%s: 16 levels pass, 17 are refused naming the path', (field) => {
    const endpoint = field === 'traits' ? 'identify' : 'track';
    const message = (levels: number) => ({ userId: 'u-1', event: 'E', [field]: nested(levels) });
    expect(judge(message(MESSAGE_LIMITS.maxDepth), endpoint)).toEqual(accepted);
    expect(judge(message(MESSAGE_LIMITS.maxDepth + 1), endpoint)).toEqual(rejectedFor(`${pathOf(field, 17)}: nested deeper than 16 levels`));
  });

  it('counts arrays as levels', () => {
    const arrays = (levels: number): unknown => (levels === 1 ? [1] : [arrays(levels - 1)]);
    expect(judge(track({ properties: { list: arrays(15) } }))).toEqual(accepted);
    expect(judge(track({ properties: { list: arrays(16) } })).reason).toMatch(/^properties\.list(\[0\]){15}: nested deeper than 16 levels$/);
  });

  it('refuses 40 levels, and 100,000 levels without overflowing the stack', () => {
    expect(judge(track({ properties: nested(40) })).reason).toMatch(/nested deeper than 16 levels$/);
    const body = `{"userId":"u-1","event":"E","properties":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    expect(judge(JSON.parse(body) as Record<string, unknown>).reason).toMatch(/^properties\.a(\[0\]){15}: nested deeper than 16 levels$/);
  });

  it('applies to fields the API ignores too (they are serialized before being dropped)', () => {
    expect(judge(track({ _metadata: nested(30) })).reason).toMatch(/^_metadata(\.a){16}: nested deeper than 16 levels$/);
  });

  it('applies to the batch-level context merged into each message', () => {
    const outcome = validateTrackingPayload('batch', { context: nested(20), batch: [{ type: 'track', userId: 'u', event: 'E' }] }, context);
    expect(outcome).toMatchObject({
      kind: 'validated',
      accepted: [],
      rejected: [{ index: 0, reason: expect.stringMatching(/^context(\.a){16}: nested deeper than 16 levels$/) }],
    });
  });
});

describe('entries per object or array (at most 200)', () => {
  it('traits: 200 keys pass, 201 are refused', () => {
    expect(judge(identify(keysObject(200)), 'identify')).toEqual(accepted);
    expect(judge(identify(keysObject(201)), 'identify')).toEqual(rejectedFor('traits: more than 200 keys'));
  });

  it('nested objects and arrays alike', () => {
    expect(judge(track({ context: { consent: { categoryPreferences: keysObject(201) } } }))).toEqual(
      rejectedFor('context.consent.categoryPreferences: more than 200 keys'),
    );
    const products = (count: number) => Array.from({ length: count }, (_, index) => ({ product_id: `p-${index}` }));
    expect(judge(track({ event: 'Product Added', properties: { products: products(200) } }))).toEqual(accepted);
    expect(judge(track({ event: 'Product Added', properties: { products: products(201) } }))).toEqual(rejectedFor('properties.products: more than 200 items'));
  });
});

describe('object keys', () => {
  it('at most 200 UTF-8 bytes: the path shows a cut, quoted key', () => {
    expect(judge(identify({ ['k'.repeat(200)]: 1 }), 'identify')).toEqual(accepted);
    expect(judge(identify({ ['k'.repeat(201)]: 1 }), 'identify')).toEqual(rejectedFor(`traits["${'k'.repeat(40)}…"]: key longer than 200 bytes`));
    expect(judge(track({ properties: { ['é'.repeat(100)]: 1 } }))).toEqual(accepted);
    expect(judge(track({ properties: { ['é'.repeat(101)]: 1 } })).reason).toMatch(/^properties\["é+…"\]: key longer than 200 bytes$/);
    expect(judge(identify({ ['k'.repeat(2048)]: 1 }), 'identify').reason).toMatch(/key longer than 200 bytes$/);
  });

  it('not empty (DynamoDB has no empty attribute name)', () => {
    expect(judge(identify({ '': 1 }), 'identify')).toEqual(rejectedFor('traits[""]: empty key'));
    expect(judge(track({ properties: { list: [{ '': 1 }] } }))).toEqual(rejectedFor('properties.list[0][""]: empty key'));
  });

  it.each([...RESERVED_NAMES])('not %j, a member of Object.prototype, at any depth', (name) => {
    const properties = JSON.parse(`{"outer":{${JSON.stringify(name)}:{"x":1}}}`) as Record<string, unknown>;
    expect(judge(track({ properties }))).toEqual(rejectedFor(`properties.outer.${name}: "${name}" is a reserved name`));
  });

  it('reserved names in traits and context too', () => {
    const traits = JSON.parse('{"__proto__":{"admin":true}}') as Record<string, unknown>;
    expect(judge(identify(traits), 'identify')).toEqual(rejectedFor('traits.__proto__: "__proto__" is a reserved name'));
    expect(judge(track({ context: { traits: { constructor: 'x' } } }))).toEqual(rejectedFor('context.traits.constructor: "constructor" is a reserved name'));
  });
});

describe('names', () => {
  it('event: at most 200 bytes, not a reserved name', () => {
    expect(judge(track({ event: 'e'.repeat(200) }))).toEqual(accepted);
    expect(judge(track({ event: 'e'.repeat(201) }))).toEqual(rejectedFor('event: must be at most 200 bytes'));
    expect(judge(track({ event: 'toString' }))).toEqual(rejectedFor('event: "toString" is a reserved name'));
    expect(judge(track({ event: 'constructor' }))).toEqual(rejectedFor('event: "constructor" is a reserved name'));
  });

  it('page and screen name: at most 200 bytes', () => {
    expect(judge({ anonymousId: 'a', name: 'n'.repeat(200) }, 'page')).toEqual(accepted);
    expect(judge({ anonymousId: 'a', name: 'n'.repeat(201) }, 'screen')).toEqual(rejectedFor('name: must be at most 200 bytes'));
  });

  it('product_id and sku (a journey sort key): at most 200 bytes, not reserved; category not reserved', () => {
    expect(judge(track({ properties: { product_id: 'p'.repeat(200) } }))).toEqual(accepted);
    expect(judge(track({ properties: { product_id: 'p'.repeat(201) } }))).toEqual(rejectedFor('properties.product_id: must be at most 200 bytes'));
    expect(judge(track({ event: 'Product Added', properties: { products: [{ sku: 's' }, { sku: 's'.repeat(3000) }] } }))).toEqual(
      rejectedFor('properties.products[1].sku: must be at most 200 bytes'),
    );
    expect(judge(track({ event: 'Product Added', properties: { product_id: ' constructor ' } }))).toEqual(
      rejectedFor('properties.product_id: "constructor" is a reserved name'),
    );
    expect(judge(track({ properties: { product_id: 'p', category: 'constructor' } }))).toEqual(
      rejectedFor('properties.category: "constructor" is a reserved name'),
    );
  });
});

describe('identifiers inside context', () => {
  it('context.device.id: at most 255 characters, no control characters', () => {
    expect(judge(track({ context: { device: { id: 'd'.repeat(255) } } }))).toEqual(accepted);
    expect(judge(track({ context: { device: { id: 'd'.repeat(256) } } }))).toEqual(rejectedFor('context.device.id: must be at most 255 characters'));
    expect(judge(track({ context: { device: { id: 'd\u0007' } } }))).toEqual(rejectedFor('context.device.id: must not contain control or invalid characters'));
  });

  const externalIds = (count: number, entry: (index: number) => Record<string, unknown> = (index) => ({ id: `x-${index}`, type: `t${index}` })) =>
    track({ context: { externalIds: Array.from({ length: count }, (_, index) => entry(index)) } });

  it('context.externalIds: at most 10 entries (the reconcile transaction holds 100 items)', () => {
    expect(judge(externalIds(10))).toEqual(accepted);
    expect(judge(externalIds(11))).toEqual(rejectedFor('context.externalIds: at most 10 entries'));
    expect(judge(externalIds(60))).toEqual(rejectedFor('context.externalIds: at most 10 entries'));
  });

  it('their type: 1 to 64 characters (the identity key), their id: an identifier', () => {
    expect(judge(externalIds(1, () => ({ id: 42, type: 't'.repeat(64), collection: 'users', encoding: 'none' })))).toEqual(accepted);
    expect(judge(externalIds(1, () => ({ id: 'x', type: 't'.repeat(65) })))).toEqual(rejectedFor('context.externalIds[0].type: must be at most 64 characters'));
    expect(judge(externalIds(1, () => ({ id: 'x', type: 'y'.repeat(3000) })))).toEqual(
      rejectedFor('context.externalIds[0].type: must be at most 64 characters'),
    );
    expect(judge(externalIds(1, () => ({ id: 'x', type: '  ' })))).toEqual(rejectedFor('context.externalIds[0].type: must not be blank'));
    expect(judge(externalIds(1, () => ({ id: 'i'.repeat(255), type: 'crm' })))).toEqual(accepted);
    expect(judge(externalIds(1, () => ({ id: 'i'.repeat(256), type: 'crm' })))).toEqual(
      rejectedFor('context.externalIds[0].id: must be at most 255 characters'),
    );
    expect(judge(externalIds(2, (index) => (index === 1 ? { id: { x: 1 }, type: 'crm' } : { id: 'a', type: 'crm' })))).toEqual(
      rejectedFor('context.externalIds[1].id: must be a string or a number'),
    );
    expect(judge(externalIds(1, () => ({ id: 'x' })))).toEqual(rejectedFor('context.externalIds[0].type: must be a string'));
  });

  it('context.externalIds must be an array of objects; null counts as absent', () => {
    expect(judge(track({ context: { externalIds: { id: 'x', type: 't' } } }))).toEqual(rejectedFor('context.externalIds: must be an array'));
    expect(judge(track({ context: { externalIds: ['x'] } }))).toEqual(rejectedFor('context.externalIds[0]: must be an object with id and type'));
    expect(judge(track({ context: { externalIds: null } }))).toEqual(accepted);
  });
});

describe('numbers', () => {
  it('at most 2^53 - 1 in magnitude (the AWS SDK marshals no more)', () => {
    expect(judge(track({ properties: { n: Number.MAX_SAFE_INTEGER, m: -Number.MAX_SAFE_INTEGER } }))).toEqual(accepted);
    expect(judge(track({ properties: { n: Number.MAX_SAFE_INTEGER + 2 } }))).toEqual(rejectedFor('properties.n: number beyond ±9007199254740991'));
    expect(judge(track({ context: { screen: { density: -1e200 } } }))).toEqual(rejectedFor('context.screen.density: number beyond ±9007199254740991'));
  });

  it('0, or at least 1e-130 in magnitude (DynamoDB underflows below)', () => {
    expect(judge(track({ properties: { n: 1e-130, z: 0, negativeZero: -0 } }))).toEqual(accepted);
    expect(judge(track({ properties: { n: 1e-131 } }))).toEqual(rejectedFor('properties.n: number closer to 0 than 1e-130'));
  });

  it('finite: JSON 1e400 parses to Infinity', () => {
    const traits = JSON.parse('{"score":1e400}') as Record<string, unknown>;
    expect(judge(identify(traits), 'identify')).toEqual(rejectedFor('traits.score: must be a finite number'));
  });
});

describe('e-commerce amounts (at most 1e12, numeric strings included)', () => {
  it('revenue, total, price, quantity at the top level and in products[]', () => {
    expect(judge(track({ event: 'Order Completed', properties: { revenue: 1e12 } }))).toEqual(accepted);
    expect(judge(track({ event: 'Order Completed', properties: { revenue: '1e300' } }))).toEqual(
      rejectedFor('properties.revenue: amount beyond ±1000000000000'),
    );
    expect(
      judge(
        track({
          event: 'Product Added',
          properties: {
            products: [
              { product_id: 'a', quantity: 2 },
              { product_id: 'b', quantity: ' 1e13 ' },
            ],
          },
        }),
      ),
    ).toEqual(rejectedFor('properties.products[1].quantity: amount beyond ±1000000000000'));
    expect(judge(track({ properties: { price: 'NaN', total: 'Infinity', quantity: 'lots' } }))).toEqual(accepted);
  });

  it("an order's revenue summed from its products", () => {
    const order = (price: number) => track({ event: 'Order Completed', properties: { products: [{ product_id: 'a', price, quantity: 1000 }] } });
    expect(judge(order(1e9))).toEqual(accepted);
    expect(judge(order(1e10))).toEqual(rejectedFor('properties: order revenue (revenue, total or Σ price × quantity) beyond ±1000000000000'));
  });
});

describe('size of the message as queued (40 KB with the batch defaults)', () => {
  const batch = (contextBytes: number, propertyBytes: number) =>
    validateTrackingPayload(
      'batch',
      { context: { blob: 'c'.repeat(contextBytes) }, batch: [{ type: 'track', userId: 'u', event: 'E', properties: { blob: 'p'.repeat(propertyBytes) } }] },
      context,
    );

  it('accepts a 30 KB message with 8 KB of batch context, refuses it with 12 KB', () => {
    expect(batch(8 * 1024, 30 * 1024)).toMatchObject({ kind: 'validated', rejected: [] });
    expect(batch(12 * 1024, 30 * 1024)).toMatchObject({
      kind: 'validated',
      accepted: [],
      rejected: [{ index: 0, reason: 'message as queued exceeds 40 KB (batch-level context and integrations included)' }],
    });
  });

  it('still refuses a message over 32 KB as sent', () => {
    expect(judge(track({ properties: { blob: 'p'.repeat(33 * 1024) } }))).toEqual(rejectedFor('message exceeds 32 KB'));
  });
});

describe('a batch keeps its contract: the good messages are accepted, the bad ones reported', () => {
  it('reports each message over a limit by index and messageId', () => {
    const outcome = validateTrackingPayload(
      'batch',
      {
        batch: [
          { type: 'track', userId: 'u', event: 'E', messageId: 'good-1' },
          { type: 'track', userId: 'u', event: 'E', messageId: 'deep', properties: nested(40) },
          { type: 'identify', userId: 'u', messageId: 'good-2', traits: { plan: 'gold' } },
          {
            type: 'track',
            userId: 'u',
            event: 'E',
            messageId: 'ids',
            context: { externalIds: Array.from({ length: 60 }, (_, i) => ({ id: `${i}`, type: 't' })) },
          },
        ],
      },
      context,
    );
    expect(outcome).toMatchObject({
      kind: 'validated',
      accepted: [{ messageId: 'good-1' }, { messageId: 'good-2' }],
      rejected: [
        { index: 1, messageId: 'deep', reason: expect.stringMatching(/nested deeper than 16 levels$/) },
        { index: 3, messageId: 'ids', reason: 'context.externalIds: at most 10 entries' },
      ],
    });
  });

  it('lists at most 5 problems of one message', () => {
    const reason = judge(identify(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${'k'.repeat(300)}${i}`, 1]))), 'identify').reason ?? '';
    expect(reason.split('; ')).toHaveLength(5);
  });
});

describe('messageLimitIssues on a queued message (what imports check per row)', () => {
  const message = (overrides: Partial<AcceptedMessage>): AcceptedMessage => ({
    type: 'identify',
    messageId: 'm-1',
    userId: 'u-1',
    properties: {},
    traits: {},
    context: {},
    timestamp: '2026-03-01T12:00:00.000Z',
    receivedAt: '2026-03-01T12:00:00.000Z',
    ...overrides,
  });

  it('is empty for a message within every limit', () => {
    expect(messageLimitIssues(message({ traits: { plan: 'gold', nested: nested(15) } }))).toEqual([]);
  });

  it('checks the identifiers too (imports do not go through the wire schema)', () => {
    expect(messageLimitIssues(message({ userId: 'u'.repeat(256) }))).toEqual([{ path: ['userId'], message: 'must be at most 255 characters' }]);
  });
});

describe('ingest handler', () => {
  const WRITE_KEY = 'wk-limits';
  const queued: AcceptedMessage[] = [];
  const queue: EventQueue = {
    enqueue: async (messages) => {
      queued.push(...messages);
    },
  };
  const handler = createIngestHandler(new Logger({ serviceName: 'ingest-test', logLevel: 'SILENT' }), () => ({
    queue,
    writeKeyHashes: async () => [sha256Hex(WRITE_KEY)],
    now: () => new Date('2026-03-01T12:00:00.000Z'),
    newMessageId: () => 'generated',
  }));
  const post = async (path: string, body: string) => {
    const result: APIGatewayProxyStructuredResultV2 = await handler(
      apiGatewayEvent({ path, body, headers: { authorization: basicAuthorization(WRITE_KEY), 'content-type': 'application/json' } }),
      { awsRequestId: 'lambda-1' },
    );
    return { status: result.statusCode, body: JSON.parse(result.body ?? '{}') as unknown };
  };

  beforeEach(() => {
    queued.length = 0;
  });

  it('answers 400 naming the field and the limit, and queues nothing', async () => {
    const reply = await post('/v1/track', JSON.stringify({ userId: 'u', event: 'E', messageId: 'm-deep', properties: nested(40) }));
    expect(reply).toEqual({
      status: 400,
      body: {
        success: false,
        errors: [{ index: 0, messageId: 'm-deep', reason: expect.stringMatching(/^properties(\.a){16}: nested deeper than 16 levels$/) }],
      },
    });
    expect(queued).toEqual([]);
  });

  it('answers 400, not 500, to a message nested 100,000 levels deep', async () => {
    const body = `{"userId":"u","event":"E","properties":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    expect((await post('/v1/track', body)).status).toBe(400);
  });

  it('queues the good messages of a batch and reports the one over a limit', async () => {
    const reply = await post(
      '/v1/batch',
      JSON.stringify({
        batch: [
          { type: 'track', userId: 'u', event: 'E' },
          { type: 'identify', userId: 'u', messageId: 'm-k', traits: { ['k'.repeat(2048)]: 1 } },
        ],
      }),
    );
    expect(reply).toEqual({
      status: 400,
      body: { success: false, accepted: 1, errors: [{ index: 1, messageId: 'm-k', reason: `traits["${'k'.repeat(40)}…"]: key longer than 200 bytes` }] },
    });
    expect(queued).toHaveLength(1);
  });
});
