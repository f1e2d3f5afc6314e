import { promisify } from 'node:util';
import { gunzip, inflate, inflateRaw, type ZlibOptions } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type * as z from 'zod';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';
import { requestHeader } from './headers';

// Asynchronous zlib runs on the libuv pool, so one large body does not stall concurrent requests
// when several invocations share a process (the local platform).
const gunzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<Buffer, ZlibOptions, Buffer>(inflate);
const inflateRawAsync = promisify<Buffer, ZlibOptions, Buffer>(inflateRaw);

const utf8 = new TextDecoder('utf-8');

/**
 * The request body as text, after base64 and `Content-Encoding` (gzip, deflate) decoding. The
 * decoded size is capped while inflating (zlib's `maxOutputLength`), so a compression bomb is
 * stopped at `maxBytes` instead of filling memory. Over the cap: 413; undecodable: 400; an
 * encoding we do not speak: 415.
 */
export async function readRequestBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded' | 'headers'>, maxBytes: number): Promise<string> {
  const body = event.body ?? '';
  const encodings = contentEncodings(requestHeader(event, 'content-encoding'));
  const raw = event.isBase64Encoded ? Buffer.from(body, 'base64') : undefined;
  if (encodings.length === 0) {
    if ((raw?.length ?? Buffer.byteLength(body, 'utf8')) > maxBytes) throw tooLarge(maxBytes);
    return raw === undefined ? body : utf8.decode(raw);
  }
  let bytes: Buffer = raw ?? Buffer.from(body, 'utf8');
  // Encodings are listed in the order they were applied: undo them last to first. Each step is
  // capped by zlib itself, so the decoded size needs no second check.
  for (const encoding of [...encodings].reverse()) bytes = await decodeContent(bytes, encoding, maxBytes);
  return utf8.decode(bytes);
}

/** Parses a JSON body; malformed JSON is the client's error (400), never a 500. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError('body is not valid JSON');
  }
}

/** The JSON body of a request whose body is optional: `{}` when there is none. */
export async function optionalJsonBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded' | 'headers'>, maxBytes: number): Promise<unknown> {
  return event.body ? parseJsonBody(await readRequestBody(event, maxBytes)) : {};
}

/** The 400 of a body that failed its schema: each issue at its path, `body` for the body as a whole. */
export function invalidBody(error: z.ZodError): BadRequestError {
  return new BadRequestError(error.issues.map((issue) => ({ path: issue.path.join('.') || 'body', reason: issue.message })));
}

function contentEncodings(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header
    .split(',')
    .map((encoding) => encoding.trim().toLowerCase())
    .filter((encoding) => encoding !== '' && encoding !== 'identity');
}

async function decodeContent(bytes: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  const options: ZlibOptions = { maxOutputLength: maxBytes };
  try {
    switch (encoding) {
      case 'gzip':
      case 'x-gzip':
        return await gunzipAsync(bytes, options);
      case 'deflate':
        // RFC 9110 deflate is zlib-wrapped, but some clients send raw deflate: accept both.
        return await inflateAsync(bytes, options).catch((error: unknown) => (isTooLarge(error) ? Promise.reject(error) : inflateRawAsync(bytes, options)));
      default:
        throw new UnsupportedMediaTypeError('unsupported content-encoding (use gzip or deflate)');
    }
  } catch (error) {
    if (error instanceof UnsupportedMediaTypeError) throw error;
    if (isTooLarge(error)) throw tooLarge(maxBytes);
    throw new BadRequestError(`body is not valid ${encoding === 'deflate' ? 'deflate' : 'gzip'} data`);
  }
}

function isTooLarge(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`request body exceeds ${Math.floor(maxBytes / 1024)} KB`);
}
