/**
 * A pause before retry number `attempt` (from 0 or 1, as the caller counts): a random time up to
 * `baseMs` doubled per attempt, at most `maxMs` ("full jitter"), so that writers who lost the same
 * race do not all come back at the same moment.
 */
export function jitteredBackoff(baseMs: number, maxMs: number): (attempt: number) => Promise<void> {
  return (attempt) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(maxMs, baseMs * 2 ** attempt)));
}
