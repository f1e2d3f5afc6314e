import { Template } from 'aws-cdk-lib/assertions';
import { LOOKALIKE_STATE_MACHINE } from '../../lib/definitions/state-machines';
import { synthesizePlatform } from './platform-fixture';

const { templates } = synthesizePlatform();
const resources = templates.processing.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The ASL as deployed, CloudFormation tokens replaced by a fixed function ARN. */
function lookalikeAsl(): { StartAt: string; States: Record<string, Record<string, unknown>> } {
  const definition = resources[LOOKALIKE_STATE_MACHINE.id]?.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const text = definition['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'arn:aws:lambda:us-east-1:123456789012:function:lookalike')).join('');
  return JSON.parse(text) as { StartAt: string; States: Record<string, Record<string, unknown>> };
}

const functionWith = (description: string) =>
  Object.values(resources).find(
    (resource) => resource.Type === 'AWS::Lambda::Function' && JSON.stringify(resource.Properties.Description ?? '').includes(description),
  );

describe('lookalike state machine', () => {
  it('runs Plan → Train → a Distributed Map of score slices → Finish, every failure to MarkFailed', () => {
    const asl = lookalikeAsl();
    expect(resources[LOOKALIKE_STATE_MACHINE.id]?.Type).toBe('AWS::StepFunctions::StateMachine');
    expect(asl.StartAt).toBe('Plan');
    expect(asl.States.Plan).toMatchObject({ Next: 'Train' });
    expect(asl.States.Train).toMatchObject({ Next: 'Slices', Parameters: { Payload: { action: 'train', 'run.$': '$.run' } } });
    expect(asl.States.Slices).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.slices',
      Next: 'Finish',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' } },
    });
    for (const state of ['Plan', 'Train', 'Slices', 'Finish'])
      expect(asl.States[state]?.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'MarkFailed' })]);
  });

  it('does not retry a refusal to train (a seed too small stays too small), and retries anything else', () => {
    const retries = lookalikeAsl().States.Train?.Retry as Array<{ ErrorEquals: string[]; MaxAttempts: number }>;
    const refusal = retries.findIndex((retry) => retry.ErrorEquals.includes('LookalikeTrainingError'));
    const anything = retries.findIndex((retry) => retry.ErrorEquals.includes('States.ALL'));
    expect(retries[refusal]).toMatchObject({ MaxAttempts: 0 });
    // The first retrier matching an error applies: the refusal's comes before the catch-all.
    expect(refusal).toBeLessThan(anything);
    expect(retries[anything]?.MaxAttempts).toBeGreaterThan(0);
  });

  it('lets the segments API start runs and pass its scheduler role, and the task function reach lookalike partitions only', () => {
    const api = functionWith('Admin Segments, Offers and Lookalikes API');
    const variables = (api?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[LOOKALIKE_STATE_MACHINE.envName]).toEqual({ Ref: LOOKALIKE_STATE_MACHINE.id });
    expect(Object.keys(variables)).toEqual(expect.arrayContaining(['LOOKALIKE_SCHEDULER_ROLE_ARN', 'SEGMENT_SCHEDULE_GROUP']));
    const policies = JSON.stringify(Template.fromJSON({ Resources: resources }).findResources('AWS::IAM::Policy'));
    expect(policies).toContain('states:StartExecution');
    expect(policies).toContain('LALS#*');
    expect(functionWith('Tasks of the lookalike state machine')?.Properties).toMatchObject({ MemorySize: 2048, Timeout: 900 });
  });
});
