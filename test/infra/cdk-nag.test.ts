import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { BucketDeployment } from 'aws-cdk-lib/aws-s3-deployment';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { definePlatform, type Platform } from '../../lib/stacks/platform';
import { cdkJsonContext } from './platform-fixture';

// As `cdk synth` runs it: functions bundled, CloudFormation validation and cdk-nag as plugins.
const app = new App({ context: cdkJsonContext() });
const platform = definePlatform(app);
const stacks = Object.values(platform) as Platform[keyof Platform][];

/** cdk-nag v3 runs as a policy validation plugin: its findings are a report, not annotations. */
function nagErrors(stack: Stack): string[] {
  return new AwsSolutionsChecks()
    .validateScope(stack)
    .violations.filter((violation) => violation.severity === 'error')
    .map((violation) => `${violation.ruleName}: ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`);
}

describe('cdk-nag AwsSolutions checks', () => {
  it('let the app bundle and synthesize (a validation error makes synth throw)', () => {
    expect(() => app.synth()).not.toThrow();
  });

  it('build the console into the asset its deployments upload', () => {
    const assembly = app.synth();
    const assets = platform.console.node
      .findAll()
      .filter((construct): construct is Asset => construct instanceof Asset && construct.node.scope instanceof BucketDeployment);
    // Two deployments (assets, then the page) of one build.
    const [build, ...others] = new Set(assets.map((asset) => path.join(assembly.directory, asset.assetPath)));
    expect(assets).toHaveLength(2);
    expect(others).toEqual([]);
    const page = readFileSync(path.join(build ?? '', 'index.html'), 'utf8');
    const linked = [...page.matchAll(/(?:src|href)="\/console\/(assets\/[^"]+)"/g)].map(([, file]) => file ?? '');
    expect(linked).toEqual(expect.arrayContaining([expect.stringMatching(/\.js$/), expect.stringMatching(/\.css$/)]));
    for (const file of linked) expect(existsSync(path.join(build ?? '', file))).toBe(true);
  });

  it.each(stacks.map((stack) => [stack.stackName, stack] as const))('report no error on %s', (_name, stack) => {
    expect(nagErrors(stack)).toEqual([]);
    // Registered the v2 way (an Aspect), cdk-nag would report through annotations instead.
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  it('do catch a violation (the check above can fail)', () => {
    const stack = new Stack(new App(), 'Insecure');
    new Queue(stack, 'PlainQueue', { encryption: QueueEncryption.UNENCRYPTED });
    expect(nagErrors(stack)).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-SQS4/)]));
  });
});
