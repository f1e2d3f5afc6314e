import { mapConcurrently } from '../../../functions/domain/shared/concurrency';

describe('mapConcurrently', () => {
  test('keeps the input order and never runs more than the limit at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapConcurrently([5, 1, 4, 2, 3, 0, 6], 3, async (delay, index) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, delay));
      inFlight -= 1;
      return `${index}:${delay}`;
    });
    expect(results).toEqual(['0:5', '1:1', '2:4', '3:2', '4:3', '5:0', '6:6']);
    expect(peak).toBe(3);
  });

  test('an empty input does no work; a failure rejects the whole map', async () => {
    const work = jest.fn(async () => 1);
    expect(await mapConcurrently([], 4, work)).toEqual([]);
    expect(work).not.toHaveBeenCalled();
    await expect(
      mapConcurrently([1, 2, 3], 2, async (item) => {
        if (item === 2) throw new Error('boom');
        return item;
      }),
    ).rejects.toThrow('boom');
  });
});
