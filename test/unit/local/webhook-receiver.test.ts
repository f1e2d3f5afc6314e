import { WebhookTestReceiver, type WebhookRequest } from '../../../local/webhook-receiver';

const AT = new Date('2026-03-01T12:00:00.000Z');

const request = (name: string, query: string, webhookId?: string): WebhookRequest => ({
  name,
  query,
  headers: { 'content-type': 'application/json', ...(webhookId !== undefined && { 'webhook-id': webhookId }) },
  body: `{"id":"${webhookId ?? ''}"}`,
  receivedAt: AT,
});

describe('WebhookTestReceiver', () => {
  it('answers 200 and records every request with its status', () => {
    const receiver = new WebhookTestReceiver();
    expect(receiver.receive(request('orders', '', 'msg-1'))).toEqual({ status: 200, body: { received: true } });
    expect(receiver.deliveries()).toEqual([
      {
        name: 'orders',
        headers: { 'content-type': 'application/json', 'webhook-id': 'msg-1' },
        body: '{"id":"msg-1"}',
        receivedAt: AT.toISOString(),
        status: 200,
      },
    ]);
  });

  it('with failFirst=N answers 503 to the first N requests of each (name, webhook-id), then 200', () => {
    const receiver = new WebhookTestReceiver();
    const statuses = (name: string, id: string, times: number): number[] =>
      Array.from({ length: times }, () => receiver.receive(request(name, 'failFirst=2', id)).status);
    expect(statuses('flaky', 'msg-1', 4)).toEqual([503, 503, 200, 200]);
    // Another message, or another receiver name, starts its own count.
    expect(statuses('flaky', 'msg-2', 3)).toEqual([503, 503, 200]);
    expect(statuses('other', 'msg-1', 1)).toEqual([503]);
    expect(receiver.deliveries().map((delivery) => delivery.status)).toEqual([503, 503, 200, 200, 503, 503, 200, 503]);
  });

  it('failFirst=0 always succeeds; a malformed failFirst answers 400 and is recorded', () => {
    const receiver = new WebhookTestReceiver();
    expect(receiver.receive(request('flaky', 'failFirst=0', 'msg-1')).status).toBe(200);
    expect(receiver.receive(request('flaky', 'failFirst=two', 'msg-1')).status).toBe(400);
    expect(receiver.receive(request('flaky', 'failFirst=-1', 'msg-1')).status).toBe(400);
    expect(receiver.deliveries().map((delivery) => delivery.status)).toEqual([200, 400, 400]);
  });

  it('counts requests without a webhook-id together per name', () => {
    const receiver = new WebhookTestReceiver();
    expect([1, 2].map(() => receiver.receive(request('flaky', 'failFirst=1')).status)).toEqual([503, 200]);
  });

  it('keeps the newest 1,000 deliveries', () => {
    const receiver = new WebhookTestReceiver();
    for (let index = 0; index < 1_005; index += 1) receiver.receive(request('bulk', '', `msg-${index}`));
    const deliveries = receiver.deliveries();
    expect(deliveries).toHaveLength(1_000);
    expect(deliveries[0]?.headers['webhook-id']).toBe('msg-5');
  });
});
