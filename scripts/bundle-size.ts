/**
 * Bundles every function of lib/definitions/functions.ts with the esbuild options CDK deploys
 * (FUNCTION_BUNDLING) and prints each minified bundle's size and its largest packages.
 * Exits 1 when the ingest bundle is over its budget: the Tracking API's cold start grows with it.
 *
 *   npx tsx scripts/bundle-size.ts
 */
import * as path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { FUNCTIONS, type FunctionId } from '../lib/definitions/functions';
import { FUNCTION_BUNDLING, REPOSITORY_ROOT } from '../lib/constructs/function-bundling';

const BUDGETS_BYTES: Partial<Record<FunctionId, number>> = { ingest: 300 * 1024, decide: 100 * 1024 };
const LARGEST_PACKAGES_SHOWN = 3;

interface BundleSize {
  readonly functionId: FunctionId;
  readonly codeBytes: number;
  readonly sourceMapBytes: number;
  readonly largestPackages: readonly (readonly [string, number])[];
}

async function measure(functionId: FunctionId, entry: string): Promise<BundleSize> {
  const result = await build({
    entryPoints: [path.join(REPOSITORY_ROOT, entry)],
    outfile: path.join(REPOSITORY_ROOT, 'cdk.out', 'bundle-size', functionId, 'index.js'),
    write: false,
    metafile: true,
    logLevel: 'error',
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: FUNCTION_BUNDLING.target,
    minify: FUNCTION_BUNDLING.minify,
    sourcemap: FUNCTION_BUNDLING.sourceMap,
    sourcesContent: FUNCTION_BUNDLING.sourcesContent,
    external: FUNCTION_BUNDLING.externalModules,
  });
  const bytesOf = (suffix: string): number => result.outputFiles.find((file) => file.path.endsWith(suffix))?.contents.byteLength ?? 0;
  return {
    functionId,
    codeBytes: bytesOf('.js'),
    sourceMapBytes: bytesOf('.js.map'),
    largestPackages: largestPackages(result.metafile),
  };
}

/** Output bytes per npm package (or per top-level source folder of this repository). */
function largestPackages(metafile: Metafile): (readonly [string, number])[] {
  const bytesByPackage = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const owner = packageMatch?.[1] ?? input.split('/')[0] ?? input;
      bytesByPackage.set(owner, (bytesByPackage.get(owner) ?? 0) + bytesInOutput);
    }
  }
  return [...bytesByPackage].sort(([, a], [, b]) => b - a).slice(0, LARGEST_PACKAGES_SHOWN);
}

const kilobytes = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

async function main(): Promise<void> {
  const sizes = await Promise.all(FUNCTIONS.map((definition) => measure(definition.id, definition.entry)));
  const overBudget: string[] = [];
  for (const size of sizes) {
    const budget = BUDGETS_BYTES[size.functionId];
    const packages = size.largestPackages.map(([name, bytes]) => `${name} ${kilobytes(bytes)}`).join(', ');
    console.log(
      `${size.functionId.padEnd(12)} ${kilobytes(size.codeBytes).padStart(10)} minified` +
        ` (+${kilobytes(size.sourceMapBytes)} source map)` +
        `${budget === undefined ? '' : `, budget ${kilobytes(budget)}`}; largest: ${packages}`,
    );
    if (budget !== undefined && size.codeBytes > budget) overBudget.push(size.functionId);
  }
  if (overBudget.length > 0) {
    console.error(`over budget: ${overBudget.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
