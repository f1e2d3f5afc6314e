import { fromDefinition, idSource, type BuilderNode, type Json, newNode, toDefinition, updateNode } from '../../../console/src/segment-builder/model';

/** JSON → builder → JSON: what the console saves is what it read. */
function roundTrip(definition: Json): Json {
  const result = toDefinition(fromDefinition(definition));
  if (!result.ok) throw new Error(`did not build: ${JSON.stringify(result.problems)}`);
  return result.definition;
}

describe('the segment builder and the definition language', () => {
  const definitions: Record<string, Json> = {
    'a trait': { trait: 'plan', op: 'eq', value: 'gold' },
    'a numeric string is kept a string': { trait: 'plan', op: 'eq', value: '5' },
    'a number is kept a number': { trait: 'age', op: 'gte', value: 30 },
    'a boolean': { trait: 'vip', op: 'eq', value: true },
    'in with strings': { trait: 'city', op: 'in', value: ['Geneva', 'Lausanne'] },
    'in with numbers': { trait: 'tier', op: 'in', value: [1, 2, 3] },
    'exists without a value': { trait: 'email', op: 'exists' },
    'exists false': { trait: 'email', op: 'exists', value: false },
    dates: {
      and: [
        { trait: 'birthday', op: 'before', value: '2000-01-01' },
        { trait: 'signup', op: 'within', value: 'P30D' },
      ],
    },
    'a computed trait': { computed: 'orders_total', op: 'gte', value: 2 },
    'behaviour, every field': {
      event: 'Product Added',
      where: { category: 'mugs', 'products.category': ['mugs', 'tees'], price: { gte: 10 }, brand: { eq: 'acme' }, size: { in: ['S', 'M'] } },
      within: 'P7D',
      after: 'Order Completed',
      count: { gte: 1, lte: 5 },
    },
    'behaviour, bare': { event: 'Order Completed' },
    'did not': { event: 'Order Completed', within: 'P30D', count: { eq: 0 } },
    'cart abandonment': { and: [{ event: 'Product Added', within: 'P7D' }, { not: { event: 'Order Completed', after: 'Product Added' } }] },
    'a band': { score: 'churn', band: 'high' },
    bands: { score: 'churn', band: ['medium', 'high'] },
    'one band in a list': { score: 'churn', band: ['high'] },
    'a score value': { score: 'propensity', op: 'gte', value: 0.7 },
    'a state score': { score: 'lifecycle', op: 'eq', value: 'customer' },
    'marketing consent': { consent: 'marketing' },
    'a consent category': { consent: 'analytics', granted: false },
    'granted written': { consent: 'analytics', granted: true },
    'an identifier': { has: 'email' },
    nesting: { or: [{ and: [{ has: 'email' }, { not: { trait: 'plan', op: 'eq', value: 'gold' } }] }, { not: { or: [{ consent: 'marketing' }] } }] },
  };

  it.each(Object.entries(definitions))('round-trips %s exactly', (_name, definition) => {
    expect(roundTrip(definition)).toEqual(definition);
  });

  it('gives forms to what it knows, and keeps the rest as JSON that round-trips', () => {
    const oddities: Json[] = [
      { not: { not: { has: 'email' } } },
      { trait: 'plan', op: 'eq', value: 'gold', extra: 1 },
      { trait: 'tags', op: 'in', value: ['a,b', 'c'] },
      { trait: 'mixed', op: 'in', value: [1, 'a'] },
      { trait: 'obj', op: 'eq', value: { nested: true } },
      { and: [] },
      { event: 'X', count: {} },
      { future: 'operator' },
      'not even an object',
    ];
    for (const definition of oddities) {
      const tree = fromDefinition(definition);
      expect(tree.kind).toBe('json');
      expect(roundTrip(definition)).toEqual(definition);
    }
    // Inside a group, only the odd part is JSON.
    const tree = fromDefinition({ and: [{ has: 'email' }, { future: 'operator' }] });
    expect(tree.kind === 'group' && tree.children.map((child) => child.kind)).toEqual(['has', 'json']);
  });

  it('reads the same definition into the same ids (stable keys)', () => {
    const definition: Json = { and: [{ has: 'email' }, { consent: 'marketing' }] };
    expect(fromDefinition(definition, idSource())).toEqual(fromDefinition(definition, idSource()));
  });

  it('names the JSON path of each field that does not read, as the Segments API does', () => {
    const ids = idSource();
    let tree: BuilderNode = fromDefinition(
      {
        and: [
          { trait: 'age', op: 'gte', value: 30 },
          { event: 'Order Completed', count: { gte: 1 } },
        ],
      },
      ids,
    );
    const [age, orders] = tree.kind === 'group' ? tree.children : [];
    tree = updateNode(tree, age!.id, (node) => (node.kind === 'trait' ? { ...node, value: { kind: 'number', text: 'thirty', list: false } } : node))!;
    tree = updateNode(tree, orders!.id, (node) => (node.kind === 'event' ? { ...node, event: '', count: { gte: '-1', lte: '', eq: '' } } : node))!;
    const result = toDefinition(tree);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([
      { path: 'definition.and[0].value', reason: 'enter a number' },
      { path: 'definition.and[1].event', reason: 'enter an event name' },
      { path: 'definition.and[1].count.gte', reason: 'enter a whole number, 0 or more' },
    ]);
  });

  it('builds what the visual editor adds: a negated group of new conditions', () => {
    const ids = idSource('t');
    let tree: BuilderNode = newNode('group', ids);
    const groupId = tree.id;
    for (const kind of ['trait', 'computed', 'event', 'score', 'consent', 'has'] as const) {
      tree = updateNode(tree, groupId, (node) => (node.kind === 'group' ? { ...node, children: [...node.children, newNode(kind, ids)] } : node))!;
    }
    const [trait, , event] = tree.kind === 'group' ? tree.children : [];
    // New trait and event conditions have no name yet: they do not build until they have one.
    expect(toDefinition(tree)).toEqual({
      ok: false,
      problems: [
        { path: 'definition.and[0].trait', reason: 'enter a name' },
        { path: 'definition.and[2].event', reason: 'enter an event name' },
      ],
    });
    tree = updateNode(tree, trait!.id, (node) =>
      node.kind === 'trait' ? { ...node, name: 'plan', value: { kind: 'text', text: 'gold', list: false } } : node,
    )!;
    tree = updateNode(tree, event!.id, (node) => (node.kind === 'event' ? { ...node, event: 'Product Added' } : node))!;
    tree = updateNode(tree, groupId, (node) => ({ ...node, negated: true }))!;
    const result = toDefinition(tree);
    expect(result).toEqual({
      ok: true,
      definition: {
        not: {
          and: [
            { trait: 'plan', op: 'eq', value: 'gold' },
            { computed: 'orders_total', op: 'gte', value: 1 },
            { event: 'Product Added', within: 'P30D' },
            { score: 'churn', band: 'high' },
            { consent: 'marketing' },
            { has: 'email' },
          ],
        },
      },
    });
  });
});
