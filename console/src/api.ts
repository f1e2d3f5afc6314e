/**
 * The admin APIs, with the token of this tab's session. The token goes only in the
 * Authorization header of same-origin requests (the CSP's connect-src 'self' allows no other),
 * never in a URL, and is never logged.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** The API did not answer (network error, or a gateway error: 502, 503, 504). */
export class ApiUnreachableError extends Error {}

/** The token was refused (401): the session is over. */
export class UnauthorizedError extends ApiError {}

export interface Api {
  get<T>(path: string): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** A file the API answers (exports, CSV reports), as a Blob to save. */
  download(path: string): Promise<Blob>;
}

const UNREACHABLE_STATUSES = new Set([502, 503, 504]);

function messageOf(status: number, body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const { message, errors } = body as { message?: unknown; errors?: { path?: string; reason?: string }[] };
    if (Array.isArray(errors) && errors.length > 0) return errors.map((error) => [error.path, error.reason].filter(Boolean).join(': ')).join('; ');
    if (typeof message === 'string') return message;
  }
  return `the API answered ${status}`;
}

export function createApi(token: string, onUnauthorized: () => void): Api {
  async function request(method: string, path: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        cache: 'no-store',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
      });
    } catch {
      throw new ApiUnreachableError('the API cannot be reached');
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: kept as text.
    }
    if (response.status === 401) {
      onUnauthorized();
      throw new UnauthorizedError(401, 'the admin token was refused', parsed);
    }
    if (UNREACHABLE_STATUSES.has(response.status)) throw new ApiUnreachableError(`the API answered ${response.status}`);
    throw new ApiError(response.status, messageOf(response.status, parsed), parsed);
  }
  return {
    async get<T>(path: string) {
      return (await (await request('GET', path)).json()) as T;
    },
    async send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) {
      const response = await request(method, path, body);
      const text = await response.text();
      return (text === '' ? undefined : JSON.parse(text)) as T;
    },
    async download(path: string) {
      return (await request('GET', path)).blob();
    },
  };
}

/** Whether a token opens the admin APIs: 'ok', 'refused' (401) or 'unreachable'. */
export async function checkToken(token: string): Promise<'ok' | 'refused' | 'unreachable'> {
  const api = createApi(token, () => undefined);
  try {
    await api.get('/v1/segments');
    return 'ok';
  } catch (error) {
    if (error instanceof UnauthorizedError) return 'refused';
    if (error instanceof ApiUnreachableError) return 'unreachable';
    // Any other answer (a 500) means the API is there but failing.
    return 'unreachable';
  }
}

/** Offers a Blob to the browser as a file download. */
export function saveFile(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const encodeRef = (ref: string): string => encodeURIComponent(ref);
