/**
 * The messages of a batch, grouped by person: two messages are in one group when they share an
 * identifier, directly or through other messages of the batch (a cookie's page views and the
 * login that names the user). Each group is reconciled in one read and one commit; groups are
 * independent of each other. Messages keep their batch order within a group; a message without
 * identifiers is a group of its own. `keysOf` gives each entry's identifiers as keys (e.g.
 * identifierKey), so that callers as small as the ingest function need no identity code.
 */
export function groupByPerson<T>(entries: readonly T[], keysOf: (entry: T) => readonly string[]): T[][] {
  const parent = entries.map((_entry, index) => index);
  const root = (index: number): number => {
    let current = index;
    while (parent[current] !== current) {
      const next = parent[current] as number;
      parent[current] = parent[next] as number;
      current = next;
    }
    return current;
  };
  const holder = new Map<string, number>();
  entries.forEach((entry, index) => {
    for (const key of keysOf(entry)) {
      const other = holder.get(key);
      if (other === undefined) holder.set(key, index);
      else {
        const [a, b] = [root(other), root(index)];
        // The earlier message stays the root, so groups come out in the order of their first message.
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  });
  const groups = new Map<number, T[]>();
  entries.forEach((entry, index) => {
    const group = groups.get(root(index)) ?? [];
    group.push(entry);
    groups.set(root(index), group);
  });
  return [...groups.values()];
}
