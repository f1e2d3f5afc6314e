/**
 * How the marketer console (console/) is served, shared by the local platform (local/console.ts)
 * and its AWS hosting (lib/constructs/console-hosting.ts), so both send the same headers.
 */

/** The path the console is served under (Vite's `base` in console/vite.config.mts is this plus `/`). */
export const CONSOLE_PREFIX = '/console';

/**
 * The console's policy: its own scripts, styles and API only (`connect-src 'self'`: the admin
 * token can be sent nowhere else), no inline script or style, no plugin, no framing.
 */
export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** The headers of every console response besides its type and caching (names in lower case). */
export const CONSOLE_SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
} as const;

/** index.html (the page): revalidated at every load, so a new build shows at the next one. */
export const CONSOLE_PAGE_CACHE_CONTROL = 'no-cache';

/** The files under assets/: their names carry a hash of their content, so they never change. */
export const CONSOLE_ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';
