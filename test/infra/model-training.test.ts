import { MODEL_TRAINING_STATE_MACHINE, SCORE_RECOMPUTE_STATE_MACHINE } from '../../lib/definitions/state-machines';
import { synthesizePlatform } from './platform-fixture';

const { templates } = synthesizePlatform();
const resources = templates.processing.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;

type Asl = { StartAt: string; States: Record<string, Record<string, unknown>> };

/** The ASL as deployed, CloudFormation tokens replaced by a fixed function ARN. */
function trainingAsl(): Asl {
  const definition = resources[MODEL_TRAINING_STATE_MACHINE.id]?.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const text = definition['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : 'arn:aws:lambda:us-east-1:123456789012:function:modelTraining'))
    .join('');
  return JSON.parse(text) as Asl;
}

const functionWith = (description: string) =>
  Object.values(resources).find(
    (resource) => resource.Type === 'AWS::Lambda::Function' && JSON.stringify(resource.Properties.Description ?? '').includes(description),
  );
const variablesOf = (description: string) => (functionWith(description)?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

describe('model training state machine', () => {
  it('runs Plan → a Distributed Map of export slices → Train → Promote or Keep, every failure to MarkFailed', () => {
    const asl = trainingAsl();
    expect(asl.StartAt).toBe('Plan');
    expect(asl.States.Plan).toMatchObject({ Next: 'ExportSlices', Parameters: { Payload: { action: 'plan' } } });
    expect(asl.States.ExportSlices).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.slices',
      Next: 'Train',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' } },
    });
    expect(asl.States.Train).toMatchObject({ Next: 'AtLeastAsGood', Parameters: { Payload: { action: 'train', 'job.$': '$.job' } } });
    expect(asl.States.AtLeastAsGood).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.better', BooleanEquals: true, Next: 'Promote' }],
      Default: 'Keep',
    });
    for (const state of ['Plan', 'ExportSlices', 'Train', 'Promote', 'Keep'])
      expect(asl.States[state]?.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'MarkFailed' })]);
  });

  it.each(['Plan', 'Train'])('does not retry a refusal in %s (too few positives stay too few), and retries anything else', (state) => {
    const retries = trainingAsl().States[state]?.Retry as Array<{ ErrorEquals: string[]; MaxAttempts: number }>;
    const refusal = retries.findIndex((retry) => retry.ErrorEquals.includes('ModelTrainingRefusal'));
    const anything = retries.findIndex((retry) => retry.ErrorEquals.includes('States.ALL'));
    expect(retries[refusal]).toMatchObject({ MaxAttempts: 0 });
    expect(refusal).toBeLessThan(anything);
    expect(retries[anything]?.MaxAttempts).toBeGreaterThan(0);
  });

  it('retrains each predictive score weekly by its own schedule', () => {
    const schedules = Object.values(resources).filter(
      (resource) => resource.Type === 'AWS::Scheduler::Schedule' && JSON.stringify(resource.Properties.Target).includes(MODEL_TRAINING_STATE_MACHINE.id),
    );
    expect(schedules.map((schedule) => JSON.parse((schedule.Properties.Target as { Input: string }).Input))).toEqual([
      { score: 'propensity', trigger: 'schedule' },
      { score: 'churn', trigger: 'schedule' },
      { score: 'complaint', trigger: 'schedule' },
    ]);
    for (const schedule of schedules) expect(schedule.Properties.ScheduleExpression).toBe('cron(0 4 ? * SUN *)');
  });

  it('lets the Models API start training and rescoring, and the training job start rescoring', () => {
    const api = variablesOf('Admin Models API');
    expect(api[MODEL_TRAINING_STATE_MACHINE.envName]).toEqual({ Ref: MODEL_TRAINING_STATE_MACHINE.id });
    expect(api[SCORE_RECOMPUTE_STATE_MACHINE.envName]).toEqual({ Ref: SCORE_RECOMPUTE_STATE_MACHINE.id });
    expect(variablesOf('Tasks of the model training state machine')[SCORE_RECOMPUTE_STATE_MACHINE.envName]).toEqual({ Ref: SCORE_RECOMPUTE_STATE_MACHINE.id });
    expect(functionWith('Tasks of the model training state machine')?.Properties).toMatchObject({ MemorySize: 3008, Timeout: 900 });
  });
});
