import { createLookalikeBody, updateLookalikeBody } from '../../../functions/schemas/lookalikes';

const valid = { name: 'Like our buyers', seed: 'buyers', size: { share: 0.1 } };
const paths = (body: unknown, schema: typeof createLookalikeBody | typeof updateLookalikeBody = createLookalikeBody) => {
  const parsed = schema.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join('.'));
};

describe('lookalike bodies', () => {
  test('a seed, a size and a name make a lookalike', () => {
    expect(paths(valid)).toEqual([]);
    expect(
      paths({
        ...valid,
        id: 'buyers-fr',
        candidates: 'visitors',
        size: { count: 5_000 },
        schedule: 'rate(12 hours)',
        features: { exclude: ['trait:email_domain'] },
      }),
    ).toEqual([]);
    expect(paths({ ...valid, size: { minBand: 'high' }, schedule: null, destinations: [{ type: 'ad_export', holdout: 0.1 }] })).toEqual([]);
  });

  test.each([
    [{ ...valid, size: { share: 0 } }, 'size'],
    [{ ...valid, size: { share: 1.5 } }, 'size'],
    [{ ...valid, size: { count: 2.5 } }, 'size'],
    [{ ...valid, size: { minBand: 'low' } }, 'size'],
    [{ ...valid, size: { share: 0.1, count: 10 } }, 'size'],
    [{ ...valid, seed: 'Buyers!' }, 'seed'],
    [{ ...valid, id: 'x'.repeat(39) }, 'id'],
    [{ ...valid, features: { include: ['AvgPageValue'] } }, 'features.include.0'],
    [{ ...valid, features: { include: ['score:lookalike:other'] } }, 'features.include.0'],
    [{ ...valid, features: { exclude: ['trait:a', 'trait:a'] } }, 'features.exclude'],
    [{ ...valid, schedule: 'every day' }, 'schedule'],
    [{ ...valid, segment: 'buyers' }, ''],
  ])('%j is refused at %s', (body, path) => {
    expect(paths(body).some((found) => found === path || found.startsWith(`${path}.`))).toBe(true);
  });

  test('an update may carry the version read', () => {
    expect(paths({ ...valid, version: 3 }, updateLookalikeBody)).toEqual([]);
    expect(paths({ ...valid, id: 'x' }, updateLookalikeBody)).toEqual(['']);
  });
});
