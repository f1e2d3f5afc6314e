import { liftScale } from '../../../console/src/lift-scale';

describe('the lift plot scale', () => {
  it('covers every interval and "no lift", with round ticks', () => {
    const scale = liftScale([
      { value: 0.5, low: 0.1, high: 0.9 },
      { value: -0.1, low: -0.3, high: 0.2 },
    ]);
    expect(scale.min).toBeLessThanOrEqual(-0.3);
    expect(scale.max).toBeGreaterThanOrEqual(0.9);
    expect(scale.ticks).toContain(0);
    expect(scale.ticks).toEqual([-0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(scale.x(scale.min, 400)).toBe(0);
    expect(scale.x(scale.max, 400)).toBe(400);
    expect(scale.x(0, 400)).toBeCloseTo(400 * (0.4 / 1.4));
  });

  it('keeps a readable span when every lift is about 0, and clamps what lies outside', () => {
    const scale = liftScale([{ value: 0, low: 0, high: 0 }]);
    expect(scale.max - scale.min).toBeGreaterThanOrEqual(0.1);
    expect(scale.ticks).toContain(0);
    expect(scale.x(100, 200)).toBe(200);
    expect(scale.x(-100, 200)).toBe(0);
  });

  it('ignores infinite bounds (an interval without an upper end)', () => {
    const scale = liftScale([{ value: 1.2, low: 0.4, high: Number.POSITIVE_INFINITY }]);
    expect(Number.isFinite(scale.max)).toBe(true);
    expect(scale.max).toBeGreaterThanOrEqual(1.2);
  });
});
