import type { SQSRecord } from 'aws-lambda';
import { ROUTES } from '../../lib/definitions/api';
import { matchRoute, MalformedLambdaResponseError, requestTime, toApiGatewayEvent, toHttpResponse, type ReceivedRequest } from '../../local/api-gateway';
import { failedMessageIds, toSqsRecord } from '../../local/event-source-poller';
import { mimeHeaders, sendRecords } from '../../local/ses-local';
import { platformOptionsFromEnv } from '../../local/settings';

function request(overrides: Partial<ReceivedRequest>): ReceivedRequest {
  return {
    method: 'GET',
    url: '/',
    rawHeaders: ['Host', '127.0.0.1:3000'],
    body: Buffer.alloc(0),
    sourceIp: '127.0.0.1',
    httpVersion: '1.1',
    localPort: 3000,
    requestId: 'request-1',
    receivedAt: new Date('2026-03-12T19:03:58.123Z'),
    ...overrides,
  };
}

describe('route matching', () => {
  it('matches a parameter as one decoded segment and prefers the longer literal route', () => {
    const match = matchRoute(ROUTES, 'GET', '/v1/profiles/email%3Aann%40example.com/events');
    expect(match?.route.path).toBe('/v1/profiles/{profileRef}/events');
    expect(match?.pathParameters).toEqual({ profileRef: 'email:ann@example.com' });
  });

  it('does not match another method, an empty parameter or a trailing segment', () => {
    expect(matchRoute(ROUTES, 'GET', '/v1/track')).toBeUndefined();
    expect(matchRoute(ROUTES, 'GET', '/v1/profiles/')).toBeUndefined();
    expect(matchRoute(ROUTES, 'GET', '/v1/profiles/a/b/c')).toBeUndefined();
    expect(matchRoute(ROUTES, 'POST', '/v1/t')?.route.functionId).toBe('ingest');
  });
});

describe('API Gateway v2 event', () => {
  const track = matchRoute(ROUTES, 'POST', '/v1/track');
  if (!track) throw new Error('POST /v1/track must be a route');

  it('joins repeated headers and query parameters, moves cookies and adds forwarding headers', () => {
    const event = toApiGatewayEvent(
      request({
        method: 'POST',
        url: '/v1/track?a=1&a=2&b=x%20y',
        rawHeaders: ['Host', 'localhost:3000', 'X-Custom', 'one', 'x-custom', 'two', 'Cookie', 'a=1; b=2', 'User-Agent', 'probe/1'],
        body: Buffer.from('{"event":"Signed Up"}'),
      }),
      track,
    );
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /v1/track',
      rawPath: '/v1/track',
      rawQueryString: 'a=1&a=2&b=x%20y',
      queryStringParameters: { a: '1,2', b: 'x y' },
      cookies: ['a=1', 'b=2'],
      body: '{"event":"Signed Up"}',
      isBase64Encoded: false,
      requestContext: {
        domainName: 'localhost',
        domainPrefix: 'localhost',
        http: { method: 'POST', path: '/v1/track', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'probe/1' },
        requestId: 'request-1',
        routeKey: 'POST /v1/track',
        stage: '$default',
        time: '12/Mar/2026:19:03:58 +0000',
        timeEpoch: Date.parse('2026-03-12T19:03:58.123Z'),
      },
    });
    expect(event.headers).toMatchObject({ 'x-custom': 'one,two', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http' });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(event.pathParameters).toBeUndefined();
  });

  it('base64-encodes a body with a Content-Encoding or that is not UTF-8, and omits an empty one', () => {
    const compressed = toApiGatewayEvent(
      request({ method: 'POST', url: '/v1/track', rawHeaders: ['Content-Encoding', 'gzip'], body: Buffer.from('abc') }),
      track,
    );
    expect(compressed).toMatchObject({ body: Buffer.from('abc').toString('base64'), isBase64Encoded: true });
    const binary = toApiGatewayEvent(request({ method: 'POST', url: '/v1/track', body: Buffer.from([0xff, 0xfe, 0x00]) }), track);
    expect(binary).toMatchObject({ body: '//4A', isBase64Encoded: true });
    const empty = toApiGatewayEvent(request({ method: 'POST', url: '/v1/track' }), track);
    expect(empty.body).toBeUndefined();
    expect(empty.isBase64Encoded).toBe(false);
    expect(empty.queryStringParameters).toBeUndefined();
    expect(empty.cookies).toBeUndefined();
  });

  it('formats requestContext.time like API Gateway', () => {
    expect(requestTime(new Date('2026-01-05T03:04:05Z'))).toBe('05/Jan/2026:03:04:05 +0000');
  });
});

describe('Lambda result to HTTP response', () => {
  it('treats an object without statusCode, or a string, as a 200 JSON body', () => {
    const object = toHttpResponse({ success: true });
    expect(object.statusCode).toBe(200);
    expect(object.headers['content-type']).toBe('application/json');
    expect(object.body.toString()).toBe('{"success":true}');
    expect(toHttpResponse('hello').body.toString()).toBe('hello');
    expect(toHttpResponse(undefined).body.toString()).toBe('null');
  });

  it('maps a structured result: headers lower-cased, cookies, base64 body, default content type', () => {
    const response = toHttpResponse({
      statusCode: 201,
      headers: { 'X-Count': 3 },
      cookies: ['a=1; Path=/', 'b=2'],
      body: Buffer.from([1, 2, 3]).toString('base64'),
      isBase64Encoded: true,
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers).toEqual({ 'x-count': '3', 'content-type': 'text/plain; charset=utf-8' });
    expect(response.cookies).toEqual(['a=1; Path=/', 'b=2']);
    expect([...response.body]).toEqual([1, 2, 3]);
    expect(toHttpResponse({ statusCode: 204 }).body.length).toBe(0);
  });

  it('rejects a malformed structured result', () => {
    expect(() => toHttpResponse({ statusCode: '200' })).toThrow(MalformedLambdaResponseError);
    expect(() => toHttpResponse({ statusCode: 200, body: { not: 'a string' } })).toThrow(MalformedLambdaResponseError);
    expect(() => toHttpResponse({ statusCode: 200, headers: { a: { nested: true } } })).toThrow(MalformedLambdaResponseError);
  });
});

describe('SQS event source mapping rules', () => {
  const records = ['m1', 'm2', 'm3'].map((messageId) => ({ messageId }) as SQSRecord);

  it('reads batchItemFailures like Lambda', () => {
    expect(failedMessageIds(undefined, records)).toEqual(new Set());
    expect(failedMessageIds({}, records)).toEqual(new Set());
    expect(failedMessageIds({ batchItemFailures: [] }, records)).toEqual(new Set());
    expect(failedMessageIds({ batchItemFailures: null }, records)).toEqual(new Set());
    expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: 'm2' }] }, records)).toEqual(new Set(['m2']));
  });

  it('fails the whole batch on an unknown, empty or missing identifier', () => {
    const everyMessage = new Set(['m1', 'm2', 'm3']);
    expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: 'other' }] }, records)).toEqual(everyMessage);
    expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: '' }] }, records)).toEqual(everyMessage);
    expect(failedMessageIds({ batchItemFailures: [{ id: 'm1' }] }, records)).toEqual(everyMessage);
    expect(failedMessageIds({ batchItemFailures: 'm1' }, records)).toEqual(everyMessage);
  });

  it('builds the record Lambda passes, with attributes in its lower-camel shape', () => {
    const record = toSqsRecord(
      {
        MessageId: 'id-1',
        ReceiptHandle: 'handle',
        Body: 'body',
        MD5OfBody: 'md5',
        Attributes: { ApproximateReceiveCount: '2', SentTimestamp: '1', SenderId: 'sender', ApproximateFirstReceiveTimestamp: '2' },
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'order' }, blob: { DataType: 'Binary', BinaryValue: 'AQI=' } },
      },
      'arn:aws:sqs:us-east-1:123456789012:Events',
    );
    expect(record).toEqual({
      messageId: 'id-1',
      receiptHandle: 'handle',
      body: 'body',
      attributes: { ApproximateReceiveCount: '2', SentTimestamp: '1', SenderId: 'sender', ApproximateFirstReceiveTimestamp: '2' },
      messageAttributes: {
        kind: { stringValue: 'order', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: { binaryValue: 'AQI=', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: 'md5',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:Events',
      awsRegion: 'us-east-1',
    });
  });
});

describe('SES outbox records', () => {
  it('unfolds MIME headers and lower-cases their names', () => {
    const raw = 'From: a@example.com\r\nList-Unsubscribe: <https://x/u>,\r\n <mailto:u@x>\r\nSubject: Hi\r\n\r\nBody: not a header';
    expect(mimeHeaders(raw)).toEqual({ from: 'a@example.com', 'list-unsubscribe': '<https://x/u>, <mailto:u@x>', subject: 'Hi' });
  });

  it('keeps the tags of v2 SendEmail and v1 SendEmail calls by message id', () => {
    const v2 = sendRecords(
      '/v2/email/outbound-emails',
      Buffer.from(JSON.stringify({ EmailTags: [{ Name: 'journey', Value: 'cart' }] })),
      Buffer.from('{"MessageId":"m-1"}'),
      '2026-01-01T00:00:00.000Z',
    );
    expect(v2.get('m-1')).toEqual({ sentAt: '2026-01-01T00:00:00.000Z', tags: { journey: 'cart' }, headers: {} });
    const v1 = sendRecords(
      '/',
      Buffer.from('Action=SendEmail&Tags.member.1.Name=campaign&Tags.member.1.Value=spring'),
      Buffer.from('<SendEmailResponse><SendEmailResult><MessageId>m-2</MessageId></SendEmailResult></SendEmailResponse>'),
      '2026-01-01T00:00:00.000Z',
    );
    expect(v1.get('m-2')?.tags).toEqual({ campaign: 'spring' });
  });
});

describe('npm start settings', () => {
  it('defaults every variable of the contract', () => {
    expect(platformOptionsFromEnv({})).toEqual({
      port: 3000,
      writeKey: 'dev-write-key',
      adminToken: 'dev-admin-token',
      dataDir: '.dmp',
      timeScale: 1,
    });
    expect(platformOptionsFromEnv({ PORT: '8080', DMP_TIME_SCALE: '3600', DMP_DATA_DIR: ':memory:' })).toMatchObject({
      port: 8080,
      timeScale: 3600,
      dataDir: ':memory:',
    });
  });

  it('rejects an invalid port or time scale', () => {
    expect(() => platformOptionsFromEnv({ PORT: 'http' })).toThrow(/PORT/);
    expect(() => platformOptionsFromEnv({ DMP_TIME_SCALE: '0' })).toThrow(/DMP_TIME_SCALE/);
  });
});
