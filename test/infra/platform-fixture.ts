import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { REPOSITORY_ROOT } from '../../lib/constructs/function-bundling';
import { definePlatform, type Platform } from '../../lib/stacks/platform';

/** The feature flags and settings `cdk synth` runs with, so tests check what is deployed. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface SynthesizedPlatform {
  readonly app: App;
  readonly platform: Platform;
  readonly templates: { readonly [stack in keyof Platform]: Template };
}

/**
 * An app with cdk.json's context that neither bundles functions nor runs CloudFormation's
 * template validation: both take seconds and change no property these tests check.
 * (test/infra/cdk-nag.test.ts synthesizes once with both, as `cdk synth` does.)
 */
export function newTestApp(context: Record<string, unknown> = {}): App {
  return new App({
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...context },
    builtinCloudFormationValidation: false,
  });
}

/** Builds and synthesizes the whole app: once per test file. */
export function synthesizePlatform(): SynthesizedPlatform {
  const app = newTestApp();
  const platform = definePlatform(app);
  return { app, platform, templates: templatesOf(platform) };
}

/** The template of each stack of a platform. */
export function templatesOf(platform: Platform): SynthesizedPlatform['templates'] {
  return {
    storage: Template.fromStack(platform.storage),
    processing: Template.fromStack(platform.processing),
    ingestion: Template.fromStack(platform.ingestion),
    observability: Template.fromStack(platform.observability),
    console: Template.fromStack(platform.console),
  };
}

/** A CloudFormation expression and the stack whose template it belongs to. */
export interface LocatedExpression {
  readonly stackName: string;
  readonly expression: unknown;
}

/** Where a construct's attribute lives: e.g. `{DmpStorage, {"Fn::GetAtt": ["EventsQueue…", "Arn"]}}`. */
export function attributeOf(construct: IConstruct, token: string): LocatedExpression {
  const stack = Stack.of(construct);
  return { stackName: stack.stackName, expression: stack.resolve(token) };
}

interface StackOutputReference {
  readonly StackName: string;
  readonly OutputName: string;
}

/**
 * Follows the cross-stack references (`Fn::GetStackOutput`) in a value of `consumer`'s template
 * to the expressions the producing stack outputs, so it can be compared with `attributeOf`.
 */
export function followReference(synthesized: SynthesizedPlatform, consumer: Stack, value: unknown): LocatedExpression {
  let producerName: string | undefined;
  const follow = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(follow);
    if (node === null || typeof node !== 'object') return node;
    const reference = (node as { 'Fn::GetStackOutput'?: StackOutputReference })['Fn::GetStackOutput'];
    if (reference === undefined) return Object.fromEntries(Object.entries(node).map(([key, inner]) => [key, follow(inner)]));
    producerName = reference.StackName;
    return outputValue(synthesized, reference);
  };
  const expression = follow(value);
  return { stackName: producerName ?? consumer.stackName, expression };
}

function outputValue(synthesized: SynthesizedPlatform, reference: StackOutputReference): unknown {
  const producer = (Object.keys(synthesized.platform) as (keyof Platform)[]).find((key) => synthesized.platform[key].stackName === reference.StackName);
  if (producer === undefined) throw new Error(`no stack named ${reference.StackName}`);
  const outputs = synthesized.templates[producer].toJSON().Outputs as Record<string, { Value: unknown }> | undefined;
  const output = outputs?.[reference.OutputName];
  if (output === undefined) throw new Error(`${reference.StackName} has no output ${reference.OutputName}`);
  return output.Value;
}

/** Asserts the resource `logicalId` matches `expected` partially (`Match.objectLike`), showing it if not. */
export function expectResourceLike(template: Template, type: string, logicalId: string, expected: Record<string, unknown>): void {
  if (logicalId in template.findResources(type, Match.objectLike(expected))) return;
  const actual: unknown = (template.toJSON().Resources as Record<string, unknown> | undefined)?.[logicalId];
  throw new Error(`${type} ${logicalId} does not match ${JSON.stringify(expected)}:\n${JSON.stringify(actual, null, 2)}`);
}

/** The value of a map entry the platform must have, failing the test clearly when it has not. */
export function required<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const value = map.get(key);
  if (value === undefined) throw new Error(`missing ${String(key)}`);
  return value;
}
