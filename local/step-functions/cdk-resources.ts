import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  App,
  CfnResource,
  DefaultTokenResolver,
  Reference,
  Stack,
  Tokenization,
  type IFragmentConcatenator,
  type IPostProcessor,
  type IResolvable,
  type IResolveContext,
} from 'aws-cdk-lib';
import { CfnSchedule, CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import { FUNCTIONS, type FunctionId } from '../../lib/definitions/functions';
import type { StateMachineDefinition } from '../../lib/definitions/state-machines';
import { definePlatform } from '../../lib/stacks/platform';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, localFunctionName, REPOSITORY_ROOT } from '../lambda-runtime';

/** Defines the CDK app whose state machines and schedules run locally (default: the platform's). */
export type CdkAppDefinition = (app: App) => unknown;

/** A JSON object as the definitions hold it. */
export type JsonObject = { [key: string]: unknown };

/** A state machine of STATE_MACHINES with the ASL CDK synthesizes for it, its tokens resolved to local ARNs. */
export interface SynthesizedStateMachine {
  readonly definition: StateMachineDefinition;
  readonly name: string;
  readonly arn: string;
  readonly asl: JsonObject;
}

/** An `AWS::Scheduler::Schedule` of the CDK app, in the Scheduler API's own shape. */
export interface SynthesizedSchedule {
  readonly Name: string;
  readonly GroupName: string;
  readonly ScheduleExpression: string;
  readonly ScheduleExpressionTimezone?: string;
  readonly State?: string;
  readonly Description?: string;
  readonly StartDate?: string;
  readonly EndDate?: string;
  readonly Target: { readonly Arn: string; readonly RoleArn: string; readonly Input?: string };
}

export interface SynthesizedResources {
  readonly stateMachines: readonly SynthesizedStateMachine[];
  readonly schedules: readonly SynthesizedSchedule[];
  /** STATE_MACHINES entries with no state machine of that logical id in the app. */
  readonly missing: readonly StateMachineDefinition[];
  /** Construct paths of state machines that no STATE_MACHINES entry names: not run locally. */
  readonly ignored: readonly string[];
  /** References the local platform cannot map (e.g. an SNS topic): left as `unresolved:<path>.<attribute>`. */
  readonly unresolved: readonly string[];
  /** How long building the app and resolving its definitions took, in ms. */
  readonly synthMs: number;
}

const PSEUDO_PARAMETERS: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT_ID,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::NoValue': '',
};

const FUNCTION_IDS = new Set<string>(FUNCTIONS.map((definition) => definition.id));

export function localFunctionArn(id: FunctionId): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${localFunctionName(id)}`;
}

export function localStateMachineName(definition: StateMachineDefinition): string {
  return `dmp-local-${definition.id}`;
}

export function localStateMachineArn(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${name}`;
}

/**
 * The function a Lambda construct stands for: the nearest scope (itself included) whose construct
 * id is a FunctionId, which is how `DmpFunction` (id = FunctionId) and test stacks name them.
 */
function functionIdOf(construct: IConstruct): FunctionId | undefined {
  const scopes = construct.node.scopes;
  for (let index = scopes.length - 1; index >= 0; index -= 1) {
    const id = scopes[index]?.node.id;
    if (id !== undefined && FUNCTION_IDS.has(id)) return id as FunctionId;
  }
  return undefined;
}

function logicalIdOf(resource: CfnResource): string {
  return String(Stack.of(resource).resolve(resource.logicalId));
}

/**
 * Joins string fragments as CloudFormation does: a fragment that is still an intrinsic (a pseudo
 * parameter) makes an `Fn::Join`, which `evaluateIntrinsics` then evaluates.
 */
const CLOUDFORMATION_CONCAT: IFragmentConcatenator = {
  join(left: unknown, right: unknown): unknown {
    if (left === undefined) return right;
    if (right === undefined) return left;
    if (typeof left === 'string' && typeof right === 'string') return left + right;
    return { 'Fn::Join': ['', [left, right]] };
  },
};

/**
 * Resolves CDK tokens the way CloudFormation would at deploy time, but to the local platform's
 * values: references to Lambda functions and state machines become their local ARNs and names.
 */
class LocalTokenResolver extends DefaultTokenResolver {
  readonly unresolved = new Set<string>();

  constructor(private readonly stateMachineArnByLogicalId: ReadonlyMap<string, string>) {
    super(CLOUDFORMATION_CONCAT);
  }

  override resolveToken(token: IResolvable, context: IResolveContext, postProcessor: IPostProcessor): unknown {
    if (Reference.isReference(token) && CfnResource.isCfnResource(token.target)) {
      return this.localValue(token.target, token.displayName);
    }
    return super.resolveToken(token, context, postProcessor);
  }

  private localValue(target: CfnResource, attribute: string): string {
    if (target.cfnResourceType === 'AWS::Lambda::Function') {
      const functionId = functionIdOf(target);
      if (functionId) return attribute === 'Arn' ? localFunctionArn(functionId) : localFunctionName(functionId);
    }
    if (target.cfnResourceType === 'AWS::StepFunctions::StateMachine') {
      const arn = this.stateMachineArnByLogicalId.get(logicalIdOf(target));
      if (arn) return attribute === 'Name' ? arn.slice(arn.lastIndexOf(':') + 1) : arn;
    }
    if (target instanceof CfnScheduleGroup) return target.name ?? logicalIdOf(target);
    const marker = `${target.node.path}.${attribute}`;
    this.unresolved.add(marker);
    return `unresolved:${marker}`;
  }
}

/** Evaluates the intrinsic functions left once every reference is a string (joins around pseudo parameters). */
function evaluateIntrinsics(value: unknown, unresolved: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => evaluateIntrinsics(item, unresolved));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [onlyKey, argument] = entries.length === 1 ? (entries[0] as [string, unknown]) : [undefined, undefined];
  if (onlyKey === 'Ref' && typeof argument === 'string' && argument in PSEUDO_PARAMETERS) return PSEUDO_PARAMETERS[argument];
  if (onlyKey === 'Fn::Join' && Array.isArray(argument)) {
    const [separator, parts] = argument as [string, unknown[]];
    return parts.map((part) => String(evaluateIntrinsics(part, unresolved))).join(separator);
  }
  if (onlyKey === 'Fn::Split' && Array.isArray(argument)) {
    const [separator, source] = argument as [string, unknown];
    return String(evaluateIntrinsics(source, unresolved)).split(separator);
  }
  if (onlyKey === 'Fn::Select' && Array.isArray(argument)) {
    const [index, list] = argument as [unknown, unknown];
    const items = evaluateIntrinsics(list, unresolved);
    return Array.isArray(items) ? items[Number(evaluateIntrinsics(index, unresolved))] : undefined;
  }
  if (onlyKey !== undefined && (onlyKey === 'Ref' || onlyKey.startsWith('Fn::'))) {
    const marker = JSON.stringify(value);
    unresolved.add(marker);
    return `unresolved:${marker}`;
  }
  return Object.fromEntries(entries.map(([key, inner]) => [key, evaluateIntrinsics(inner, unresolved)]));
}

/** The feature flags `cdk synth` runs with, so the local definitions are the deployed ones. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

function asString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} did not resolve to a string: ${JSON.stringify(value)}`);
  return value;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function stateMachineAsl(stateMachine: CfnStateMachine, resolve: (value: unknown) => unknown): JsonObject {
  let asl: unknown;
  if (stateMachine.definitionString !== undefined) {
    let text = asString(resolve(stateMachine.definitionString), `${stateMachine.node.path} DefinitionString`);
    const substitutions = resolve(stateMachine.definitionSubstitutions ?? {}) as Record<string, unknown>;
    for (const [name, substitute] of Object.entries(substitutions)) text = text.split(`\${${name}}`).join(String(substitute));
    asl = JSON.parse(text);
  } else if (stateMachine.definition !== undefined) {
    asl = resolve(stateMachine.definition);
  } else {
    throw new Error(`${stateMachine.node.path}: only inline definitions (DefinitionString or Definition) run locally, not DefinitionS3Location`);
  }
  if (asl === null || typeof asl !== 'object' || Array.isArray(asl)) throw new Error(`${stateMachine.node.path}: the definition is not a JSON object`);
  return asl as JsonObject;
}

function scheduleOf(schedule: CfnSchedule, resolve: (value: unknown) => unknown): SynthesizedSchedule {
  const target = resolve(schedule.target) as { arn?: unknown; roleArn?: unknown; input?: unknown };
  const input = optionalString(target.input);
  const timezone = optionalString(resolve(schedule.scheduleExpressionTimezone));
  const state = optionalString(resolve(schedule.state));
  const description = optionalString(resolve(schedule.description));
  const startDate = optionalString(resolve(schedule.startDate));
  const endDate = optionalString(resolve(schedule.endDate));
  return {
    Name: optionalString(resolve(schedule.name)) ?? logicalIdOf(schedule),
    GroupName: optionalString(resolve(schedule.groupName)) ?? 'default',
    ScheduleExpression: asString(resolve(schedule.scheduleExpression), `${schedule.node.path} ScheduleExpression`),
    ...(timezone !== undefined && { ScheduleExpressionTimezone: timezone }),
    ...(state !== undefined && { State: state }),
    ...(description !== undefined && { Description: description }),
    ...(startDate !== undefined && { StartDate: startDate }),
    ...(endDate !== undefined && { EndDate: endDate }),
    Target: {
      Arn: asString(target.arn, `${schedule.node.path} Target.Arn`),
      RoleArn: optionalString(target.roleArn) ?? '',
      ...(input !== undefined && { Input: input }),
    },
  };
}

/**
 * Builds the CDK app in-process (no bundling, no synth to disk, no cdk-nag: only the constructs)
 * and takes from it the state machines named by `definitions` and every schedule, their tokens
 * resolved to local values.
 */
function buildResources(defineApp: CdkAppDefinition, definitions: readonly StateMachineDefinition[]): SynthesizedResources {
  const started = performance.now();
  // The app's cloud assembly directory is created eagerly though nothing is written to it.
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'dmp-local-cdk-'));
  try {
    const app = new App({
      outdir,
      context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    defineApp(app);
    const cfnResources = app.node.findAll().filter((construct): construct is CfnResource => CfnResource.isCfnResource(construct));
    const stateMachineResources = cfnResources.filter((resource): resource is CfnStateMachine => resource instanceof CfnStateMachine);

    const definitionByLogicalId = new Map(definitions.map((definition) => [definition.id, definition]));
    const arnByLogicalId = new Map<string, string>();
    const matched: [CfnStateMachine, StateMachineDefinition][] = [];
    const ignored: string[] = [];
    for (const resource of stateMachineResources) {
      const definition = definitionByLogicalId.get(logicalIdOf(resource));
      if (!definition) {
        ignored.push(resource.node.path);
        continue;
      }
      arnByLogicalId.set(definition.id, localStateMachineArn(localStateMachineName(definition)));
      matched.push([resource, definition]);
    }

    const resolver = new LocalTokenResolver(arnByLogicalId);
    const resolveIn =
      (scope: IConstruct) =>
      (value: unknown): unknown =>
        evaluateIntrinsics(Tokenization.resolve(value, { scope, resolver }), resolver.unresolved);

    const stateMachines = matched.map(([resource, definition]): SynthesizedStateMachine => {
      const name = localStateMachineName(definition);
      return { definition, name, arn: localStateMachineArn(name), asl: stateMachineAsl(resource, resolveIn(resource)) };
    });
    const schedules = cfnResources
      .filter((resource): resource is CfnSchedule => resource instanceof CfnSchedule)
      .map((schedule) => scheduleOf(schedule, resolveIn(schedule)));
    return {
      stateMachines,
      schedules,
      missing: definitions.filter((definition) => !arnByLogicalId.has(definition.id)),
      ignored,
      unresolved: [...resolver.unresolved],
      synthMs: Math.round(performance.now() - started),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

interface CachedResources {
  readonly definitions: readonly StateMachineDefinition[];
  readonly resources: SynthesizedResources;
}

const cache = new WeakMap<CdkAppDefinition, CachedResources>();

/**
 * The app's state machines and schedules with local ARNs. Cached per process and app definition:
 * the constructs take about a second to build and do not change while the process runs.
 */
export function synthesizeLocalResources(definitions: readonly StateMachineDefinition[], defineApp: CdkAppDefinition = definePlatform): SynthesizedResources {
  const cached = cache.get(defineApp);
  if (cached && cached.definitions === definitions) return cached.resources;
  const resources = buildResources(defineApp, definitions);
  cache.set(defineApp, { definitions, resources });
  return resources;
}
