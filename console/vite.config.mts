import { defineConfig } from 'vite';

/**
 * The marketer console's build (`npm run build:console`, or on demand by the local platform:
 * local/console.ts). Served under /console; every file is a module or a stylesheet of this
 * origin, so the strict Content-Security-Policy needs no inline script or style.
 */
export default defineConfig({
  base: '/console/',
  // Preact's automatic JSX runtime, without a plugin (no fast refresh is needed for a build).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    target: 'es2022',
    // The polyfill would be inlined into index.html; every browser the console targets has modulepreload.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
    assetsInlineLimit: 0,
  },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
});
