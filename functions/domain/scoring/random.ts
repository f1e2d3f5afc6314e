/** Seeded pseudo-random numbers: a model trained twice with one seed must come out identical. */
// Bound once: inside a vm context (how Jest runs modules) every global lookup in a hot loop is slow.
const { floor, imul } = Math;

export type Random = () => number;

/** mulberry32: small, fast, good enough to sample rows and columns; uniform in [0, 1). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle of the whole array. */
export function shuffleInPlace(items: Uint32Array, random: Random): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = floor(random() * (i + 1));
    const held = items[i]!;
    items[i] = items[j]!;
    items[j] = held;
  }
}

/** `count` distinct items drawn without replacement, returned in ascending order. */
export function sampleSorted(items: Uint32Array, count: number, random: Random): Uint32Array {
  const pool = items.slice();
  for (let i = 0; i < count; i++) {
    const j = i + floor(random() * (pool.length - i));
    const held = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = held;
  }
  return pool.subarray(0, count).sort();
}
