import * as path from 'node:path';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/** Repository root: function entries in lib/definitions/functions.ts are relative to it. */
export const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');

/**
 * esbuild options of every Lambda bundle, shared by `DmpFunction` and `scripts/bundle-size.ts`
 * so the size budget is measured on exactly what is deployed.
 *
 * The AWS SDK v3 is left out and taken from the Node.js 22 runtime. Measured on the ingest
 * handler: 533 KB minified with the SDK bundled, 137 KB without, against a 300 KB budget.
 * `@smithy/*` goes with it: a bundled copy next to the runtime's SDK would be a second version
 * of the same classes (what CDK's `sdkV3ExcludeSmithyPackages` flag does by default).
 */
export const FUNCTION_BUNDLING: Readonly<Required<Pick<BundlingOptions, 'target' | 'minify' | 'sourceMap' | 'sourcesContent' | 'externalModules'>>> = {
  target: 'node22',
  minify: true,
  // Stack traces point into the TypeScript sources (the runtime gets --enable-source-maps);
  // leaving the sources out of the map keeps it small, file and line are what matter.
  sourceMap: true,
  sourcesContent: false,
  externalModules: ['@aws-sdk/*', '@smithy/*'],
};
