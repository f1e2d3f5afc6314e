import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FUNCTIONS, type FunctionId } from '../../lib/definitions/functions';
import { definePlatform, JOURNEY_CONFIG_CONTEXT, JOURNEY_CONFIG_MAX_BYTES, type Platform } from '../../lib/stacks/platform';
import { newTestApp, required } from './platform-fixture';

type FunctionResources = Record<string, { Properties: { Environment?: { Variables: Record<string, unknown> } } }>;

/** The environment variables each function is deployed with (each stack synthesized once). */
function environmentsOf(platform: Platform): Map<FunctionId, Record<string, unknown>> {
  const functions = new Map<FunctionId, IFunction>([...platform.processing.functions, ...platform.ingestion.functions]);
  const templates = new Map<Stack, FunctionResources>();
  const resourcesOf = (stack: Stack): FunctionResources => {
    const resources = templates.get(stack) ?? (Template.fromStack(stack).toJSON().Resources as FunctionResources);
    templates.set(stack, resources);
    return resources;
  };
  return new Map(
    FUNCTIONS.map(({ id }) => {
      const fn = required(functions, id);
      const stack = Stack.of(fn);
      return [id, resourcesOf(stack)[stack.getLogicalId(fn.node.defaultChild as CfnElement)]?.Properties.Environment?.Variables ?? {}];
    }),
  );
}

const READERS: readonly FunctionId[] = ['journeySend', 'journeyTrigger', 'unsubscribe', 'reportApi'];

describe(`context ${JOURNEY_CONFIG_CONTEXT}: the journeys' configuration on AWS`, () => {
  it('reaches the functions that read it, minified, and no other function', () => {
    const config = { from: 'news@shop.example', holdoutShare: 0.2, cartAbandonment: { firstDelaySeconds: 1_800, incentive: '10 % off' } };
    const environments = environmentsOf(definePlatform(newTestApp({ [JOURNEY_CONFIG_CONTEXT]: config })));
    for (const [id, variables] of environments) {
      if (READERS.includes(id)) expect(variables.DMP_JOURNEY_CONFIG).toBe(JSON.stringify(config));
      else expect(variables).not.toHaveProperty('DMP_JOURNEY_CONFIG');
    }
  });

  it('is taken as JSON text too (`-c` on the command line)', () => {
    const environments = environmentsOf(definePlatform(newTestApp({ [JOURNEY_CONFIG_CONTEXT]: '{ "holdoutShare": 0.05 }' })));
    expect(environments.get('journeySend')?.DMP_JOURNEY_CONFIG).toBe('{"holdoutShare":0.05}');
  });

  it('leaves the defaults in place when absent', () => {
    for (const variables of environmentsOf(definePlatform(newTestApp())).values()) expect(variables).not.toHaveProperty('DMP_JOURNEY_CONFIG');
  });

  it('fails the synth on a wrong configuration, naming each problem, rather than a send later', () => {
    const wrong = { from: 'not an address', holdoutShare: 2, productView: { promotion: { subject: 'Hi {{nickname}}', html: 'x', text: 'x' } } };
    const synth = () => definePlatform(newTestApp({ [JOURNEY_CONFIG_CONTEXT]: wrong }));
    expect(synth).toThrow(/dmp:journeyConfig: .*from must be an email address.*\{\{nickname\}\}.*holdoutShare must be between 0 and 1/);
    expect(() => definePlatform(newTestApp({ [JOURNEY_CONFIG_CONTEXT]: '{not json' }))).toThrow(/dmp:journeyConfig: .*not JSON/);
  });

  it('fails the synth when it would not fit in a Lambda environment', () => {
    const long = 'x'.repeat(JOURNEY_CONFIG_MAX_BYTES);
    const config = { cartAbandonment: { firstEmail: { subject: 'Your cart', html: long, text: 'Your cart {{unsubscribeUrl}}' } } };
    expect(() => definePlatform(newTestApp({ [JOURNEY_CONFIG_CONTEXT]: config }))).toThrow(/more than the 3000 a Lambda environment leaves it/);
  });

  it('warns when dmp:sesIdentity does not cover the configured sender, and not when it does', () => {
    const warnings = (context: Record<string, unknown>) =>
      Annotations.fromStack(definePlatform(newTestApp(context)).processing).findWarning('*', Match.stringLikeRegexp('does not cover'));
    expect(warnings({ [JOURNEY_CONFIG_CONTEXT]: { from: 'news@other.example' }, 'dmp:sesIdentity': 'shop.example' })).toHaveLength(1);
    expect(warnings({ [JOURNEY_CONFIG_CONTEXT]: { from: 'News@Shop.Example' }, 'dmp:sesIdentity': 'shop.example' })).toHaveLength(0);
    expect(warnings({ [JOURNEY_CONFIG_CONTEXT]: { from: 'news@shop.example' }, 'dmp:sesIdentity': 'news@shop.example' })).toHaveLength(0);
  });
});
