import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
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
