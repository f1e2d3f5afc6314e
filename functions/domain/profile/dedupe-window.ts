import { createHash } from 'node:crypto';

/**
 * The message ids a profile took within the dedupe window, kept on the profile item itself so that
 * exactly-once costs no item per event: the profile is written anyway (once per person per batch),
 * under its version condition, so the ids it took commit atomically with the change they made.
 *
 * Ids are kept as fixed-width digests (66 bits of SHA-256, 11 base64url characters) concatenated per
 * hour of processing: about 11 bytes per message, so a profile taking 100 events a day carries
 * about 1 KB. A busy profile whose window is full (MAX_WINDOW_IDS) has its further messages marked
 * with one `MSG#` item each, as before this window existed; readers check both.
 *
 * A redelivered message resolves to the profile that took it (its identifiers are linked there, or
 * to the survivor it was merged into, which unions the windows), so looking in the windows of the
 * profiles its identifiers resolve to finds it.
 */
export type DedupeWindow = Readonly<Record<string, string>>;

/** Processing hours a message id is remembered (the SDKs' retries and SQS redelivery fall well within). */
export const DEDUPE_WINDOW_HOURS = 24;
/** Ids one profile's window holds (about 33 KB); past it, messages are marked with `MSG#` items. */
export const MAX_WINDOW_IDS = 3_000;
const DIGEST_LENGTH = 11;
const HOUR_MS = 3_600_000;

export const messageDigest = (messageId: string): string => createHash('sha256').update(messageId, 'utf8').digest('base64url').slice(0, DIGEST_LENGTH);

/** `2026-12-03T14`: the processing hour a digest was recorded in. */
const hourOf = (time: number): string => new Date(time).toISOString().slice(0, 13);

function digestsOf(bucket: string): string[] {
  const digests: string[] = [];
  for (let start = 0; start + DIGEST_LENGTH <= bucket.length; start += DIGEST_LENGTH) digests.push(bucket.slice(start, start + DIGEST_LENGTH));
  return digests;
}

export function windowHolds(window: DedupeWindow | undefined, messageId: string): boolean {
  if (!window) return false;
  const digest = messageDigest(messageId);
  return Object.values(window).some((bucket) => digestsOf(bucket).includes(digest));
}

export const windowSize = (window: DedupeWindow | undefined): number =>
  Object.values(window ?? {}).reduce((total, bucket) => total + Math.floor(bucket.length / DIGEST_LENGTH), 0);

/** The window without the hours that left it. */
export function prunedWindow(window: DedupeWindow | undefined, now: Date, hours = DEDUPE_WINDOW_HOURS): Record<string, string> {
  const oldest = hourOf(now.getTime() - hours * HOUR_MS);
  return Object.fromEntries(Object.entries(window ?? {}).filter(([hour]) => hour >= oldest));
}

/**
 * The window with the message recorded, or undefined when the window is full (the caller marks the
 * message with its own item instead).
 */
export function recordInWindow(
  window: DedupeWindow | undefined,
  messageId: string,
  now: Date,
  hours = DEDUPE_WINDOW_HOURS,
): Record<string, string> | undefined {
  const pruned = prunedWindow(window, now, hours);
  if (windowSize(pruned) >= MAX_WINDOW_IDS) return undefined;
  const hour = hourOf(now.getTime());
  return { ...pruned, [hour]: `${pruned[hour] ?? ''}${messageDigest(messageId)}` };
}

/** The windows of two profiles merged into one (a survivor remembers what the absorbed profile took). */
export function unionWindows(a: DedupeWindow | undefined, b: DedupeWindow | undefined, now: Date, hours = DEDUPE_WINDOW_HOURS): Record<string, string> {
  const union: Record<string, string> = { ...prunedWindow(a, now, hours) };
  for (const [hour, bucket] of Object.entries(prunedWindow(b, now, hours))) {
    const held = new Set(digestsOf(union[hour] ?? ''));
    union[hour] = `${union[hour] ?? ''}${digestsOf(bucket)
      .filter((digest) => !held.has(digest))
      .join('')}`;
  }
  return union;
}
