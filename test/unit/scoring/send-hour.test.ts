import { bestSendHour, DEFAULT_POPULATION_SEND_HOURS, type EngagementEvent } from '../../../functions/domain/scoring/send-hour';

/** `count` events of a kind at hh:mm UTC on successive days of January 2026. */
function daily(kind: EngagementEvent['kind'], utcHour: number, count: number): EngagementEvent[] {
  return Array.from({ length: count }, (_, day) => ({ kind, at: Date.UTC(2026, 0, day + 1, utcHour, 17) }));
}

const POPULATION_PEAK = DEFAULT_POPULATION_SEND_HOURS.indexOf(Math.max(...DEFAULT_POPULATION_SEND_HOURS));

describe('best send hour', () => {
  it('is the population peak with no confidence when there is no history', () => {
    expect(bestSendHour([], { timeZone: 'Europe/Paris' })).toMatchObject({ hour: POPULATION_PEAK, confidence: 0, evidence: 0 });
  });

  it('stays near the population with little history', () => {
    // One visit and one open at 03:17 in Paris (02:17 UTC in winter): not enough to send at 3 am.
    const result = bestSendHour([...daily('visit', 2, 1), ...daily('open', 2, 1)], { timeZone: 'Europe/Paris' });
    expect(result.hour).toBe(POPULATION_PEAK);
    expect(result.confidence).toBeLessThan(0.15);
  });

  it('moves to the profile own peak, in its time zone, with much history', () => {
    // Opens every evening at 21:17 Paris time, a few daytime visits.
    const events = [...daily('open', 20, 20), ...daily('click', 20, 5), ...daily('visit', 9, 6)];
    const paris = bestSendHour(events, { timeZone: 'Europe/Paris' });
    expect(paris.hour).toBe(21);
    expect(paris.timeZone).toBe('Europe/Paris');
    expect(paris.confidence).toBeGreaterThan(0.5);
    expect(paris.distribution.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 12);
    expect(bestSendHour(events, { timeZone: 'America/New_York' }).hour).toBe(15);
    expect(bestSendHour(events).hour).toBe(20);
  });

  it('weighs opens above clicks above visits', () => {
    const opensAt8 = daily('open', 8, 4);
    const visitsAt18 = daily('visit', 18, 8);
    expect(bestSendHour([...opensAt8, ...visitsAt18], { priorStrength: 1 }).hour).toBe(8);
    expect(bestSendHour([...daily('click', 8, 4), ...daily('visit', 18, 9)], { priorStrength: 1 }).hour).toBe(18);
  });

  it('grows more confident with more events', () => {
    const confidences = [1, 5, 25, 125].map((n) => bestSendHour(daily('open', 7, n)).confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => a - b));
    expect(confidences[3]).toBeGreaterThan(0.85);
  });

  it('falls back to UTC for an unknown time zone and skips unreadable timestamps', () => {
    const result = bestSendHour([...daily('open', 6, 30), { kind: 'open', at: 'not a date' }], { timeZone: 'Mars/Olympus_Mons' });
    expect(result).toMatchObject({ hour: 6, timeZone: 'UTC', evidence: 90 });
  });

  it('uses a measured population distribution when given one', () => {
    const population = Array.from({ length: 24 }, (_, h) => (h === 13 ? 10 : 1));
    expect(bestSendHour([], { population }).hour).toBe(13);
    expect(() => bestSendHour([], { population: [1, 2, 3] })).toThrow(/24 non-negative numbers/);
  });
});
