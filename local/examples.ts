import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HttpResponse } from './api-gateway';

/**
 * The demo shop of the personalization example (`/examples/shop`, files in examples/shop/): plain
 * pages and a script of this repository, and analytics.js (the npm package
 * `@segment/analytics-next`) bundled with esbuild into one browser file, so that the page loads
 * nothing from Segment's CDN. Local only: the AWS deployment serves no pages.
 */
export type ExamplesHandler = (method: string, rawPath: string) => Promise<HttpResponse | undefined>;

export interface ExamplesOptions {
  /** The write key the shop's analytics.js and its decide calls send (the platform's own). */
  readonly writeKey: string;
  /** Folder of the shop's files. Default: examples/shop of this repository. */
  readonly shopDir?: string;
}

const REPOSITORY_ROOT = path.resolve(__dirname, '..');
const SHOP_PREFIX = '/examples/shop';

/**
 * Scripts and requests only to this origin (analytics.js included: no CDN, no api.segment.io),
 * no inline script or style, no framing. The offers' images must be served by this origin too.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface ShopFile {
  readonly file: string;
  readonly contentType: string;
  /** HTML pages carry the write key in `<meta name="dmp-write-key">`. */
  readonly page?: boolean;
}

const FILES: Readonly<Record<string, ShopFile>> = {
  '': { file: 'index.html', contentType: 'text/html; charset=utf-8', page: true },
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8', page: true },
  '/trial': { file: 'trial.html', contentType: 'text/html; charset=utf-8', page: true },
  '/shop.js': { file: 'shop.js', contentType: 'text/javascript; charset=utf-8' },
  '/shop.css': { file: 'shop.css', contentType: 'text/css; charset=utf-8' },
};

/** The entry esbuild bundles: analytics-next's browser API as a global of the page. */
const ANALYTICS_ENTRY = "import { AnalyticsBrowser } from '@segment/analytics-next';\nglobalThis.AnalyticsNext = { AnalyticsBrowser };\n";

const htmlAttribute = (text: string): string => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/**
 * analytics.js as one file: an IIFE without code splitting, so the dynamic imports of
 * analytics-next (plugins, middleware) are inlined and no chunk is ever fetched from a CDN.
 */
async function bundleAnalytics(): Promise<Buffer> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    stdin: { contents: ANALYTICS_ENTRY, resolveDir: REPOSITORY_ROOT, loader: 'js', sourcefile: 'analytics-entry.js' },
    bundle: true,
    splitting: false,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['es2020'],
    minify: true,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no analytics.js bundle');
  return Buffer.from(output.contents);
}

function reply(statusCode: number, contentType: string, body: Buffer): HttpResponse {
  return {
    statusCode,
    headers: {
      'content-type': contentType,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      // Files are read at each request (edits show on reload); the bundle lives as long as the platform.
      'cache-control': 'no-cache',
    },
    cookies: [],
    body,
  };
}

/**
 * Serves GET/HEAD `/examples/shop` (home), `/examples/shop/trial` (free trial details),
 * `/examples/shop/shop.js`, `/examples/shop/shop.css` and `/examples/shop/analytics.js`; answers
 * undefined for every other request (the API's routes). analytics.js is bundled once, at its
 * first request, and kept in memory; a failed build is retried at the next request.
 */
export function createExamplesHandler(options: ExamplesOptions): ExamplesHandler {
  const shopDir = options.shopDir ?? path.join(REPOSITORY_ROOT, 'examples', 'shop');
  let analytics: Promise<Buffer> | undefined;

  const analyticsBundle = (): Promise<Buffer> => {
    analytics ??= bundleAnalytics().catch((error: unknown) => {
      analytics = undefined;
      throw error;
    });
    return analytics;
  };

  return async (method, rawPath) => {
    if (rawPath !== SHOP_PREFIX && !rawPath.startsWith(`${SHOP_PREFIX}/`)) return undefined;
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    const rest = rawPath.slice(SHOP_PREFIX.length);
    if (rest === '/analytics.js') return reply(200, 'text/javascript; charset=utf-8', await analyticsBundle());
    const shopFile = Object.hasOwn(FILES, rest) ? FILES[rest] : undefined;
    if (!shopFile) return undefined;
    const content = await readFile(path.join(shopDir, shopFile.file));
    const body = shopFile.page ? Buffer.from(content.toString('utf8').replaceAll('%DMP_WRITE_KEY%', htmlAttribute(options.writeKey))) : content;
    return reply(200, shopFile.contentType, body);
  };
}
