import { EVENT_TIME_BOUNDS, boundedEventTime, precedenceTime } from '../../../functions/domain/tracking/timestamps';

const receivedAt = '2026-11-20T10:00:00.000Z';
const minutes = (n: number): string => new Date(Date.parse(receivedAt) + n * 60_000).toISOString();

describe('boundedEventTime: clock skew is bounded', () => {
  it('keeps a time in the past or a little ahead of receipt', () => {
    expect(boundedEventTime({ timestamp: minutes(-30), receivedAt })).toBe(minutes(-30));
    expect(boundedEventTime({ timestamp: minutes(4), receivedAt })).toBe(minutes(4));
    expect(boundedEventTime({ timestamp: minutes(5), receivedAt })).toBe(minutes(5));
  });

  it('clamps a time more than 5 minutes after receipt to the receipt time', () => {
    expect(EVENT_TIME_BOUNDS.maxFutureSkewMs).toBe(5 * 60_000);
    expect(boundedEventTime({ timestamp: minutes(5.01), receivedAt })).toBe(receivedAt);
    expect(boundedEventTime({ timestamp: '2999-01-01T00:00:00.000Z', receivedAt })).toBe(receivedAt);
  });

  it('raises a time older than the hot retention (13 months) to that bound', () => {
    const oldest = new Date(Date.parse(receivedAt) - 395 * 86_400_000).toISOString();
    expect(boundedEventTime({ timestamp: '1970-01-01T00:00:00.000Z', receivedAt })).toBe(oldest);
    expect(boundedEventTime({ timestamp: '2025-11-01T00:00:00.000Z', receivedAt })).toBe('2025-11-01T00:00:00.000Z');
  });

  it('corrects the client clock with sentAt as Segment does: timestamp + (receivedAt - sentAt)', () => {
    // The device clock is 2 hours ahead: it stamped the event and the send with its own clock.
    expect(boundedEventTime({ timestamp: minutes(120 - 3), sentAt: minutes(120), receivedAt })).toBe(minutes(-3));
    // ... and 1 day behind.
    expect(boundedEventTime({ timestamp: minutes(-1440 - 10), sentAt: minutes(-1440), receivedAt })).toBe(minutes(-10));
  });

  it('does not correct a time the ingest function took from the receipt, and bounds a forged sentAt', () => {
    expect(boundedEventTime({ timestamp: receivedAt, sentAt: minutes(-60), receivedAt })).toBe(receivedAt);
    expect(boundedEventTime({ timestamp: minutes(-1), sentAt: '1990-01-01T00:00:00.000Z', receivedAt })).toBe(receivedAt);
  });

  it('is the same on every delivery (a function of the message only)', () => {
    const times = { timestamp: '2999-01-01T00:00:00.000Z', sentAt: minutes(1), receivedAt };
    expect(boundedEventTime(times)).toBe(boundedEventTime({ ...times }));
  });
});

describe('precedenceTime: what orders traits, consent and contact identifiers', () => {
  it('is the event time, never later than the receipt', () => {
    expect(precedenceTime(minutes(-2), receivedAt)).toBe(minutes(-2));
    expect(precedenceTime(minutes(4), receivedAt)).toBe(receivedAt);
    expect(precedenceTime(minutes(4), undefined)).toBe(minutes(4));
  });
});
