/**
 * A message its consumer can never process, however often it is retried: malformed, or beyond a
 * limit of the store (DynamoDB's 400 KB item, 32 nesting levels, number range...). Consumers
 * record it in the quarantine and report it processed, so it is deleted instead of being retried
 * into the DLQ. `reason` says what is wrong in words of the platform, never with the message's
 * values: it is logged.
 */
export class PoisonMessageError extends Error {
  constructor(
    readonly reason: string,
    options?: { readonly cause?: unknown },
  ) {
    super(`poison message: ${reason}`, options);
    this.name = 'PoisonMessageError';
  }
}
