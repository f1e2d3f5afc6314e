/**
 * Typed HTTP errors shared by every API function. A handler throws one of these anywhere and maps
 * whatever it catches with `toHttpResponse` (see responses.ts), so status codes and the error body
 * shape `{"success":false,"errors":[...]}` are decided in one place.
 */

/** One problem with a request: which message (tracking) or JSON path (admin APIs) and why. */
export interface ErrorDetail {
  readonly reason: string;
  /** Position of the message concerned in the request (tracking). */
  readonly index?: number;
  /** The client's `messageId` of the message concerned (tracking). */
  readonly messageId?: string;
  /** JSON path of the wrong part of a body (admin APIs). */
  readonly path?: string;
}

export abstract class HttpError extends Error {
  abstract readonly statusCode: number;
  readonly details: readonly ErrorDetail[];
  /** Extra top-level fields of the error body, e.g. the tracking API's `accepted` count. */
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(details: string | readonly ErrorDetail[], extra: Readonly<Record<string, unknown>> = {}) {
    const list = typeof details === 'string' ? [{ reason: details }] : details;
    super(list.map((detail) => detail.reason).join('; '));
    this.name = new.target.name;
    this.details = list;
    this.extra = extra;
  }
}

export class BadRequestError extends HttpError {
  readonly statusCode = 400;
}

export class UnauthorizedError extends HttpError {
  readonly statusCode = 401;
}

/** The resource changed since it was read, or the id is taken. */
export class ConflictError extends HttpError {
  readonly statusCode = 409;
}

export class NotFoundError extends HttpError {
  readonly statusCode = 404;
}

export class PayloadTooLargeError extends HttpError {
  readonly statusCode = 413;
}

export class UnsupportedMediaTypeError extends HttpError {
  readonly statusCode = 415;
}

/** A dependency (queue, table) is unavailable: clients should retry later. */
export class ServiceUnavailableError extends HttpError {
  readonly statusCode = 503;
}
