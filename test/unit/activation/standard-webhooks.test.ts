import { ACTIVATION_QUEUE } from '../../../lib/definitions/queues';
import { retryDelaySeconds, retryWindowSeconds, isDelivered, webhookPayload, WEBHOOK_RETRY_POLICY } from '../../../functions/domain/activation/delivery';
import { InvalidWebhookSecretError, isWebhookSecret, signWebhook, verifyWebhook, webhookHeaders } from '../../../functions/domain/activation/standard-webhooks';
import type { AudienceTransition } from '../../../functions/domain/pipeline/messages';

// The published test vector of the Standard Webhooks reference libraries.
const VECTOR = {
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestampSeconds: 1614265330,
  body: '{"test": 2432232314}',
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
};

describe('Standard Webhooks signing', () => {
  it('matches the specification test vector', () => {
    expect(signWebhook(VECTOR)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('gives the three headers a receiver verifies', () => {
    const headers = webhookHeaders(VECTOR);
    expect(headers).toEqual({ 'webhook-id': VECTOR.id, 'webhook-timestamp': '1614265330', 'webhook-signature': signWebhook(VECTOR) });
    expect(verifyWebhook(headers, VECTOR.body, VECTOR.secret, VECTOR.timestampSeconds + 10)).toBe(true);
  });

  it('fails verification for a changed body, another secret or an old timestamp', () => {
    const headers = webhookHeaders(VECTOR);
    expect(verifyWebhook(headers, '{"test": 1}', VECTOR.secret, VECTOR.timestampSeconds)).toBe(false);
    expect(verifyWebhook(headers, VECTOR.body, `whsec_${Buffer.from('another key').toString('base64')}`, VECTOR.timestampSeconds)).toBe(false);
    expect(verifyWebhook(headers, VECTOR.body, VECTOR.secret, VECTOR.timestampSeconds + 301)).toBe(false);
  });

  it('rejects secrets that are not whsec_ base64', () => {
    expect(isWebhookSecret(VECTOR.secret)).toBe(true);
    expect(isWebhookSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(false);
    expect(isWebhookSecret('whsec_not base64!')).toBe(false);
    expect(() => signWebhook({ ...VECTOR, secret: 'whsec_' })).toThrow(InvalidWebhookSecretError);
  });
});

describe('delivery decisions', () => {
  it('counts only 2xx answers as delivered', () => {
    expect(isDelivered({ status: 200 })).toBe(true);
    expect(isDelivered({ status: 204 })).toBe(true);
    expect(isDelivered({ status: 302 })).toBe(false);
    expect(isDelivered({ status: 500 })).toBe(false);
    expect(isDelivered({ error: 'timeout' })).toBe(false);
  });

  it('backs off exponentially, capped at the SQS maximum visibility', () => {
    expect([1, 2, 3, 4].map((receive) => retryDelaySeconds(receive, WEBHOOK_RETRY_POLICY))).toEqual([30, 60, 120, 240]);
    expect(retryDelaySeconds(30, WEBHOOK_RETRY_POLICY)).toBe(43_200);
  });

  it('keeps retrying for at least 4 hours before the Activation queue gives a message to its DLQ', () => {
    expect(retryWindowSeconds(ACTIVATION_QUEUE.maxReceiveCount, WEBHOOK_RETRY_POLICY)).toBeGreaterThanOrEqual(4 * 3_600);
  });

  it('divides the backoff by the local time scale', () => {
    expect(retryDelaySeconds(4, WEBHOOK_RETRY_POLICY, 3_600)).toBe(0);
    expect(retryDelaySeconds(4, WEBHOOK_RETRY_POLICY, 60)).toBe(4);
  });

  it('wraps a transition in the Standard Webhooks envelope', () => {
    const transition: AudienceTransition = {
      kind: 'audience-transition',
      event: 'Audience Exited',
      segmentId: 'vip',
      segmentName: 'VIP',
      profileId: 'p1',
      at: '2026-01-01T00:00:00.000Z',
      transitionId: 't1',
      runId: 'r1',
    };
    expect(webhookPayload(transition)).toEqual({
      type: 'audience.exited',
      timestamp: transition.at,
      data: { event: 'Audience Exited', transitionId: 't1', segmentId: 'vip', segmentName: 'VIP', profileId: 'p1', runId: 'r1' },
    });
  });
});
