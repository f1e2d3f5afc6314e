import { functionDefinition, type FunctionId } from '../../lib/definitions/functions';
import { AWS_PRICES } from '../aws-prices';
import type { FunctionUse } from './function-meter';

/** Lambda's own records per invocation (JSON `platform.start` and `platform.report` with X-Ray): an assumption, not measured. */
export const LAMBDA_PLATFORM_LOG_BYTES_PER_INVOCATION = 600;
const GIBIBYTE = 2 ** 30;
const MILLION = 1_000_000;

/** What the benchmark measured, in the phases named. */
export interface CostInputs {
  /** Whole-pipeline phase: events accepted, and what serving them took. */
  readonly events: number;
  /** Body size of each request to the Tracking API. */
  readonly apiRequestBytes: readonly number[];
  /** Billed SQS requests (64 KB chunks) by queue: sends counted by the local SQS. */
  readonly sqsSends: Readonly<Record<string, number>>;
  /** Queue each consumer function reads (its receives and deletes are the event source mapping's). */
  readonly consumerQueues: ReadonlyMap<FunctionId, string>;
  readonly functions: ReadonlyMap<FunctionId, FunctionUse>;
  readonly logBytes: number;
  /** Step Functions executions started; states of a run down each machine's default path; states entered so far per execution. */
  readonly executions: Readonly<Record<string, number>>;
  readonly statesPerExecution: Readonly<Record<string, number>>;
  readonly transitionsSoFar: Readonly<Record<string, number>>;
  /** Capacity phase: events, and DynamoDB units and bytes they added. */
  readonly capacity: { readonly events: number; readonly writeUnits: number; readonly readUnits: number };
  readonly storage: StorageInputs;
}

/** Bytes the capacity phase added: the hot history (and those bytes × the months they are kept), and items kept without TTL. */
export interface StorageInputs {
  readonly events: number;
  readonly hotHistoryBytes: number;
  readonly hotHistoryByteMonths: number;
  readonly keptBytes: number;
}

/**
 * `event path`: what every event costs, from the API to the profile, its scores and segments.
 * `journeys`: the Step Functions runs the mix's emailable carts and views start, and the functions
 * serving them: activation a marketer configures, priced per run rather than per event.
 */
export type CostScope = 'event path' | 'journeys';

/** Functions that serve journeys only (their Lambda cost is in the journeys scope). */
const JOURNEY_FUNCTIONS: ReadonlySet<FunctionId> = new Set<FunctionId>(['journeyTrigger', 'journeySend']);

export interface CostLine {
  readonly scope: CostScope;
  readonly item: string;
  /** The measured figures the line is computed from, per event of the mix. */
  readonly basis: string;
  readonly dollarsPerMillionEvents: number;
}

const sum = (values: Iterable<number>): number => [...values].reduce((total, value) => total + value, 0);
const fixed = (value: number, digits = 3): string => value.toFixed(digits);

/** The cost of a million events of the measured mix, line by line, at AWS_PRICES. */
export function costPerMillionEvents(inputs: CostInputs): CostLine[] {
  const perEvent = (value: number): number => value / inputs.events;
  const apiRequests = inputs.apiRequestBytes.length;
  const meteredRequests = sum(inputs.apiRequestBytes.map((bytes) => Math.ceil(bytes / AWS_PRICES.apiGatewayHttpMeteringBytes)));
  const functions = [...inputs.functions].filter(([, use]) => use.invocations > 0);

  const sqsByQueue = new Map(Object.entries(inputs.sqsSends));
  for (const [id, use] of functions) {
    const queue = inputs.consumerQueues.get(id);
    if (queue) sqsByQueue.set(queue, (sqsByQueue.get(queue) ?? 0) + use.sourceReceives + use.sourceDeletes);
  }
  const gbSeconds = new Map(functions.map(([id, use]) => [id, (use.billedMs / 1000) * (functionDefinition(id).memorySize / 1024)]));
  const invocations = sum(functions.map(([, use]) => use.invocations));
  const logBytes = inputs.logBytes + invocations * LAMBDA_PLATFORM_LOG_BYTES_PER_INVOCATION;
  const transitions = sum(Object.entries(inputs.executions).map(([id, count]) => count * (inputs.statesPerExecution[id] ?? 0)));
  const writeUnits = inputs.capacity.writeUnits / inputs.capacity.events;
  const readUnits = inputs.capacity.readUnits / inputs.capacity.events;
  const historyBytes = inputs.storage.hotHistoryBytes / inputs.storage.events;
  const historyByteMonths = inputs.storage.hotHistoryByteMonths / inputs.storage.events;

  return [
    {
      scope: 'event path',
      item: 'API Gateway HTTP API',
      basis: `${fixed(perEvent(meteredRequests), 4)} requests (batches of 100 events, ${fixed(sum(inputs.apiRequestBytes) / apiRequests / 1024, 1)} KB each: 1 metered request per 512 KB)`,
      dollarsPerMillionEvents: perEvent(meteredRequests) * AWS_PRICES.apiGatewayHttpRequestPerMillion,
    },
    {
      scope: 'event path',
      item: 'SQS standard',
      basis:
        `${fixed(perEvent(sum(sqsByQueue.values())))} requests (64 KB chunks): ` +
        [...sqsByQueue].map(([queue, requests]) => `${queue} ${fixed(perEvent(requests))}`).join(', ') +
        '; sends counted by the local SQS, receives and deletes as the event source mapping makes them (⌈n/10⌉ each per batch of n)',
      dollarsPerMillionEvents: perEvent(sum(sqsByQueue.values())) * AWS_PRICES.sqsRequestPerMillion,
    },
    ...(['event path', 'journeys'] as const).flatMap((scope): CostLine[] => {
      const served = functions.filter(([id]) => JOURNEY_FUNCTIONS.has(id) === (scope === 'journeys'));
      const seconds = served.map(([id]) => [id, gbSeconds.get(id) ?? 0] as const);
      const calls = sum(served.map(([, use]) => use.invocations));
      const of = scope === 'journeys' ? ' (journey functions)' : '';
      return [
        {
          scope,
          item: `Lambda duration${of} (x86 price; arm64 is 20 % less)`,
          basis:
            `${(perEvent(sum(seconds.map(([, value]) => value))) * 1000).toFixed(2)} GB-ms measured on this machine: ` +
            seconds.map(([id, value]) => `${id} ${(perEvent(value) * 1000).toFixed(2)} (${functionDefinition(id).memorySize} MB)`).join(', '),
          dollarsPerMillionEvents: perEvent(sum(seconds.map(([, value]) => value))) * MILLION * AWS_PRICES.lambdaX86GbSecond,
        },
        {
          scope,
          item: `Lambda requests${of}`,
          basis: `${fixed(perEvent(calls))} invocations: ${served.map(([id, use]) => `${id} ${fixed(perEvent(use.invocations))}`).join(', ')}`,
          dollarsPerMillionEvents: perEvent(calls) * AWS_PRICES.lambdaRequestPerMillion,
        },
      ];
    }),
    {
      scope: 'event path',
      item: 'DynamoDB on-demand writes',
      basis: `${fixed(writeUnits, 2)} write units (measured, see the breakdown)`,
      dollarsPerMillionEvents: writeUnits * AWS_PRICES.dynamoDbWriteRequestUnitPerMillion,
    },
    {
      scope: 'event path',
      item: 'DynamoDB on-demand reads',
      basis: `${fixed(readUnits, 2)} read units (measured, see the breakdown)`,
      dollarsPerMillionEvents: readUnits * AWS_PRICES.dynamoDbReadRequestUnitPerMillion,
    },
    {
      scope: 'event path',
      item: 'DynamoDB storage of the hot history until its TTL',
      basis: `${Math.round(historyBytes)} bytes kept ${(historyByteMonths / historyBytes).toFixed(1)} months on average (items with a TTL beyond 2 days, 100 B overhead each, index entries included)`,
      dollarsPerMillionEvents: ((historyByteMonths * MILLION) / GIBIBYTE) * AWS_PRICES.dynamoDbStorageGbMonth,
    },
    {
      scope: 'event path',
      item: 'CloudWatch Logs ingestion',
      basis: `${Math.round(perEvent(logBytes))} bytes: ${Math.round(perEvent(inputs.logBytes))} logged by the functions at INFO (measured) + ${LAMBDA_PLATFORM_LOG_BYTES_PER_INVOCATION} B of Lambda platform records per invocation (assumed)`,
      dollarsPerMillionEvents: ((perEvent(logBytes) * MILLION) / GIBIBYTE) * AWS_PRICES.cloudWatchLogsIngestedGb,
    },
    {
      scope: 'journeys',
      item: 'Step Functions standard (estimate)',
      basis:
        `${fixed(perEvent(transitions))} transitions: executions started (measured) × states of a run down the default path (assumed: no deferral, no early end; entered so far in the run, measured: in brackets): ` +
        Object.entries(inputs.executions)
          .filter(([, count]) => count > 0)
          .map(([id, count]) => `${id} ${fixed(perEvent(count))} × ${inputs.statesPerExecution[id] ?? 0} (${(inputs.transitionsSoFar[id] ?? 0).toFixed(1)})`)
          .join(', '),
      dollarsPerMillionEvents: ((perEvent(transitions) * MILLION) / 1000) * AWS_PRICES.stepFunctionsTransitionPerThousand,
    },
  ];
}

/** Items kept without TTL (profiles, scores...): they grow with people rather than events, so are priced per month apart. */
export function keptStoragePerMillionEvents(storage: StorageInputs): { readonly gigabytes: number; readonly dollarsPerMonth: number } {
  const gigabytes = ((storage.keptBytes / storage.events) * MILLION) / GIBIBYTE;
  return { gigabytes, dollarsPerMonth: gigabytes * AWS_PRICES.dynamoDbStorageGbMonth };
}

/**
 * The event path's lines as a markdown table with its total in bold, then the journeys' lines
 * apart, with their total per million events of the mix and per 1,000 runs.
 */
export function costTable(lines: readonly CostLine[], journeyRunsPerEvent: number): string {
  const table = (scoped: readonly CostLine[], label: string): string[] => [
    '| item | measured per event of this mix | $ per million events |',
    '|---|---|---:|',
    ...scoped.map((line) => `| ${line.item} | ${line.basis} | ${line.dollarsPerMillionEvents.toFixed(2)} |`),
    `| **${label}** | | **${sum(scoped.map((line) => line.dollarsPerMillionEvents)).toFixed(2)}** |`,
  ];
  const eventPath = lines.filter((line) => line.scope === 'event path');
  const journeys = lines.filter((line) => line.scope === 'journeys');
  const eventPathTotal = sum(eventPath.map((line) => line.dollarsPerMillionEvents));
  const journeysTotal = sum(journeys.map((line) => line.dollarsPerMillionEvents));
  return [
    ...table(eventPath, 'total, event path'),
    '',
    `**$${eventPathTotal.toFixed(2)} per million events**`,
    '',
    `Journeys this mix starts (${fixed(journeyRunsPerEvent * 1000, 1)} runs per 1,000 events: carts and product views of people who can be emailed), apart: activation is priced per run, not per event.`,
    '',
    ...table(journeys, 'total, journeys'),
    '',
    `$${journeysTotal.toFixed(2)} per million events of this mix, $${journeyRunsPerEvent > 0 ? ((journeysTotal / (journeyRunsPerEvent * MILLION)) * 1000).toFixed(3) : '0.000'} per 1,000 journey runs; with them, $${(eventPathTotal + journeysTotal).toFixed(2)} per million events.`,
  ].join('\n');
}
