/**
 * A value loaded at most once per `ttlMs` per container (a list of definitions every request
 * reads): callers during a load share it, and a failed load is not kept.
 */
export function cachedLoader<T>(ttlMs: number, load: () => Promise<T>, clock: () => number = Date.now): () => Promise<T> {
  let cached: { readonly until: number; readonly value: Promise<T> } | undefined;
  return () => {
    if (!cached || cached.until <= clock()) {
      const loading = load();
      const entry = { until: clock() + ttlMs, value: loading };
      cached = entry;
      loading.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.value;
  };
}
