import type { ComputedTraits } from '../profile/computed-traits';
import { parseDuration, type Duration } from './duration';
import { COMPUTED_TRAIT_NAMES as VOCABULARY_COMPUTED_TRAITS, OPERATORS } from './vocabulary';

/**
 * The segment definition language (docs/contract.md §7, documented in docs/segments.md): JSON in,
 * a typed condition tree out, or every problem with the JSON path of the wrong part
 * (`definition.and[1].op`: "unknown operator"). Parsing is strict (unknown fields are errors) so
 * a typo never silently widens an audience.
 */

export type Scalar = string | number | boolean;

export { OPERATORS };
export type Operator = (typeof OPERATORS)[number];

/** A point in time a date is compared with: fixed, or relative to the evaluation time. */
export type DateBound = { readonly kind: 'absolute'; readonly at: Date } | { readonly kind: 'relative'; readonly ago: Duration };

/** One test of a value (a trait, a computed trait, a score, an event property). */
export type ValueTest =
  | { readonly op: 'eq' | 'neq' | 'contains'; readonly value: Scalar }
  | { readonly op: 'in'; readonly value: readonly Scalar[] }
  | { readonly op: 'exists'; readonly value: boolean }
  | { readonly op: 'gt' | 'gte' | 'lt' | 'lte'; readonly value: number }
  | { readonly op: 'before' | 'after'; readonly value: DateBound }
  | { readonly op: 'within'; readonly value: Duration };

/** A test of the event property at `path` (dots walk into objects and arrays such as `products.category`). */
export interface PropertyFilter {
  readonly path: string;
  readonly test: ValueTest;
}

/** How many matching events are required; every given bound must hold. */
export interface CountRange {
  readonly gte?: number;
  readonly lte?: number;
  readonly eq?: number;
}

export type SegmentCondition =
  | { readonly kind: 'and'; readonly conditions: readonly SegmentCondition[] }
  | { readonly kind: 'or'; readonly conditions: readonly SegmentCondition[] }
  | { readonly kind: 'not'; readonly condition: SegmentCondition }
  /** A profile trait (`traits`), by name or dotted path. */
  | { readonly kind: 'trait'; readonly name: string; readonly test: ValueTest }
  /** A computed trait (`computed`, see ComputedTraits), by name or dotted path. */
  | { readonly kind: 'computed'; readonly name: string; readonly test: ValueTest }
  /** A score's band (predictive scores) or state-score value is one of `bands`. */
  | { readonly kind: 'score-band'; readonly name: string; readonly bands: readonly string[] }
  /** A score's value: the probability of a predictive score, else the score itself. */
  | { readonly kind: 'score'; readonly name: string; readonly test: ValueTest }
  /** `marketing` means the platform's marketing rule (hasMarketingConsent); other names are consent categories. */
  | { readonly kind: 'consent'; readonly category: string; readonly granted: boolean }
  /** The profile holds an identifier of this type (`email`, `phone`, `user_id`, an external id type). */
  | { readonly kind: 'has'; readonly identifierType: string }
  | {
      readonly kind: 'behaviour';
      /** Track event name, e.g. `Order Completed`. */
      readonly event: string;
      readonly where: readonly PropertyFilter[];
      /** Only events in the last `within` (event time) count. */
      readonly within?: Duration;
      /** Only events after the most recent `after` event count ("did X and not Y since"). */
      readonly after?: string;
      readonly count: CountRange;
    };

/** The root of a definition is a condition. */
export type SegmentDefinition = SegmentCondition;

export interface DefinitionError {
  /** JSON path of the wrong part, e.g. `definition.and[1].op`. */
  readonly path: string;
  readonly reason: string;
}

export type DefinitionParseResult =
  { readonly ok: true; readonly definition: SegmentDefinition } | { readonly ok: false; readonly errors: readonly DefinitionError[] };

/** Bounds that keep evaluation cheap whatever is submitted. */
export const DEFINITION_LIMITS = { maxDepth: 10, maxConditions: 100, maxListValues: 1_000, maxTextLength: 512 } as const;

/** Every computed trait name of the language is one the profile computes. */
export const COMPUTED_TRAIT_NAMES = VOCABULARY_COMPUTED_TRAITS satisfies ReadonlyArray<keyof ComputedTraits>;

const CONDITION_KEYS = ['and', 'or', 'not', 'trait', 'computed', 'event', 'score', 'consent', 'has'] as const;
type ConditionKey = (typeof CONDITION_KEYS)[number];

const ALLOWED_FIELDS: Record<ConditionKey, readonly string[]> = {
  and: ['and'],
  or: ['or'],
  not: ['not'],
  trait: ['trait', 'op', 'value'],
  computed: ['computed', 'op', 'value'],
  event: ['event', 'where', 'within', 'after', 'count'],
  score: ['score', 'band', 'op', 'value'],
  consent: ['consent', 'granted'],
  has: ['has'],
};

const IDENTIFIER_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);
const isScalar = (value: unknown): value is Scalar =>
  typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

/** Dates accepted as absolute bounds: ISO 8601 date or date-time (`2026-01-31`, `2026-01-31T12:00:00Z`). */
const ISO_DATE_PATTERN = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

class Parser {
  readonly errors: DefinitionError[] = [];
  private conditions = 0;

  fail(path: string, reason: string): undefined {
    this.errors.push({ path, reason });
    return undefined;
  }

  condition(json: unknown, path: string, depth: number): SegmentCondition | undefined {
    if (!isObject(json)) return this.fail(path, `expected a condition object, got ${describe(json)}`);
    if (depth > DEFINITION_LIMITS.maxDepth) return this.fail(path, `conditions nest deeper than ${DEFINITION_LIMITS.maxDepth} levels`);
    this.conditions += 1;
    if (this.conditions === DEFINITION_LIMITS.maxConditions + 1) this.fail(path, `a definition holds at most ${DEFINITION_LIMITS.maxConditions} conditions`);
    const kinds = CONDITION_KEYS.filter((key) => key in json);
    const [kind] = kinds;
    if (kind === undefined || kinds.length > 1) {
      return this.fail(path, `expected exactly one of ${CONDITION_KEYS.join(', ')}${kinds.length > 1 ? ` (found ${kinds.join(', ')})` : ''}`);
    }
    let unknownField = false;
    for (const field of Object.keys(json)) {
      if (!ALLOWED_FIELDS[kind].includes(field)) {
        this.fail(`${path}.${field}`, 'unknown field');
        unknownField = true;
      }
    }
    const parsed = this.conditionOfKind(kind, json, path, depth);
    return unknownField ? undefined : parsed;
  }

  private conditionOfKind(kind: ConditionKey, json: Json, path: string, depth: number): SegmentCondition | undefined {
    switch (kind) {
      case 'and':
      case 'or': {
        const list = json[kind];
        if (!Array.isArray(list) || list.length === 0) return this.fail(`${path}.${kind}`, 'expected a non-empty array of conditions');
        const conditions = list.map((item, index) => this.condition(item, `${path}.${kind}[${index}]`, depth + 1));
        return conditions.every((c): c is SegmentCondition => c !== undefined) ? { kind, conditions } : undefined;
      }
      case 'not': {
        const condition = this.condition(json.not, `${path}.not`, depth + 1);
        return condition && { kind: 'not', condition };
      }
      case 'trait': {
        const name = this.text(json.trait, `${path}.trait`);
        const test = this.valueTest(json, path);
        return name !== undefined && test ? { kind: 'trait', name, test } : undefined;
      }
      case 'computed': {
        const name = this.text(json.computed, `${path}.computed`);
        if (name !== undefined && !(COMPUTED_TRAIT_NAMES as readonly string[]).includes(name.split('.')[0] ?? '')) {
          this.fail(`${path}.computed`, `unknown computed trait (one of ${COMPUTED_TRAIT_NAMES.join(', ')})`);
          return undefined;
        }
        const test = this.valueTest(json, path);
        return name !== undefined && test ? { kind: 'computed', name, test } : undefined;
      }
      case 'score':
        return this.score(json, path);
      case 'consent': {
        const category = this.text(json.consent, `${path}.consent`);
        const granted = json.granted ?? true;
        if (typeof granted !== 'boolean') return this.fail(`${path}.granted`, 'granted must be true or false');
        return category !== undefined ? { kind: 'consent', category, granted } : undefined;
      }
      case 'has': {
        const identifierType = this.text(json.has, `${path}.has`);
        if (identifierType !== undefined && !IDENTIFIER_TYPE_PATTERN.test(identifierType)) {
          return this.fail(`${path}.has`, 'expected an identifier type such as email, phone or user_id (lower-case letters, digits, _)');
        }
        return identifierType !== undefined ? { kind: 'has', identifierType } : undefined;
      }
      case 'event':
        return this.behaviour(json, path);
    }
  }

  private text(value: unknown, path: string): string | undefined {
    if (typeof value !== 'string' || value.trim() === '') return this.fail(path, 'expected a non-empty string');
    if (value.length > DEFINITION_LIMITS.maxTextLength) return this.fail(path, `longer than ${DEFINITION_LIMITS.maxTextLength} characters`);
    return value;
  }

  private score(json: Json, path: string): SegmentCondition | undefined {
    const name = this.text(json.score, `${path}.score`);
    if ('band' in json) {
      if ('op' in json || 'value' in json) return this.fail(path, 'use either band or op/value, not both');
      const raw = json.band;
      const bands = typeof raw === 'string' ? [raw] : raw;
      if (!Array.isArray(bands) || bands.length === 0 || !bands.every((band) => typeof band === 'string' && band !== '')) {
        return this.fail(`${path}.band`, 'expected a band name (low, medium, high) or a non-empty array of them');
      }
      return name !== undefined ? { kind: 'score-band', name, bands: bands as string[] } : undefined;
    }
    const test = this.valueTest(json, path);
    return name !== undefined && test ? { kind: 'score', name, test } : undefined;
  }

  /** `op` and `value` of a trait-like condition. */
  private valueTest(json: Json, path: string): ValueTest | undefined {
    if (!('op' in json)) return this.fail(`${path}.op`, `missing operator (one of ${OPERATORS.join(', ')})`);
    const op = json.op;
    if (typeof op !== 'string' || !(OPERATORS as readonly string[]).includes(op)) return this.fail(`${path}.op`, 'unknown operator');
    return this.testOf(op as Operator, json.value, 'value' in json, `${path}.value`);
  }

  private testOf(op: Operator, value: unknown, present: boolean, path: string): ValueTest | undefined {
    switch (op) {
      case 'exists':
        if (present && typeof value !== 'boolean') return this.fail(path, 'exists takes true, false or no value');
        return { op, value: present ? (value as boolean) : true };
      case 'eq':
      case 'neq':
      case 'contains':
        if (!isScalar(value)) return this.fail(path, `${op} takes a string, number or boolean, got ${describe(value)}`);
        return { op, value };
      case 'in':
        if (!Array.isArray(value) || value.length === 0 || !value.every(isScalar)) {
          return this.fail(path, 'in takes a non-empty array of strings, numbers or booleans');
        }
        if (value.length > DEFINITION_LIMITS.maxListValues) return this.fail(path, `in takes at most ${DEFINITION_LIMITS.maxListValues} values`);
        return { op, value };
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (typeof value !== 'number' || !Number.isFinite(value)) return this.fail(path, `${op} takes a number, got ${describe(value)}`);
        return { op, value };
      case 'before':
      case 'after': {
        const bound = typeof value === 'string' ? dateBoundOf(value) : undefined;
        if (!bound) return this.fail(path, `${op} takes an ISO 8601 date (2026-01-31), date-time or duration meaning "ago" (P30D)`);
        return { op, value: bound };
      }
      case 'within': {
        const duration = typeof value === 'string' ? parseDuration(value) : undefined;
        if (!duration) return this.fail(path, 'within takes an ISO 8601 duration such as P30D or PT12H');
        return { op, value: duration };
      }
    }
  }

  private behaviour(json: Json, path: string): SegmentCondition | undefined {
    const event = this.text(json.event, `${path}.event`);
    const errorsBefore = this.errors.length;
    const where = this.where(json.where, `${path}.where`);
    let within: Duration | undefined;
    if (json.within !== undefined) {
      within = typeof json.within === 'string' ? parseDuration(json.within) : undefined;
      if (!within) this.fail(`${path}.within`, 'within takes an ISO 8601 duration such as P7D');
    }
    const after = json.after === undefined ? undefined : this.text(json.after, `${path}.after`);
    const count = this.count(json.count, `${path}.count`);
    if (event === undefined || this.errors.length > errorsBefore || !count) return undefined;
    return { kind: 'behaviour', event, where, count, ...(within && { within }), ...(after !== undefined && { after }) };
  }

  private where(json: unknown, path: string): PropertyFilter[] {
    if (json === undefined) return [];
    if (!isObject(json)) {
      this.fail(path, 'expected an object of event property filters');
      return [];
    }
    const filters: PropertyFilter[] = [];
    for (const [property, spec] of Object.entries(json)) {
      const propertyPath = `${path}.${property}`;
      if (property === '' || property.length > DEFINITION_LIMITS.maxTextLength) {
        this.fail(propertyPath, 'expected a property name');
        continue;
      }
      let test: ValueTest | undefined;
      if (isScalar(spec)) test = { op: 'eq', value: spec };
      else if (Array.isArray(spec)) test = this.testOf('in', spec, true, propertyPath);
      else if (isObject(spec)) {
        const [op, ...others] = Object.keys(spec);
        if (op === undefined || others.length > 0) this.fail(propertyPath, 'expected one operator, e.g. {"gte": 10}');
        else if (!(OPERATORS as readonly string[]).includes(op)) this.fail(`${propertyPath}.${op}`, 'unknown operator');
        else test = this.testOf(op as Operator, spec[op], true, `${propertyPath}.${op}`);
      } else this.fail(propertyPath, `expected a value, an array of values or an operator object, got ${describe(spec)}`);
      if (test) filters.push({ path: property, test });
    }
    return filters;
  }

  private count(json: unknown, path: string): CountRange | undefined {
    if (json === undefined) return { gte: 1 };
    if (!isObject(json) || Object.keys(json).length === 0) return this.fail(path, 'expected an object with gte, lte and/or eq');
    const range: { gte?: number; lte?: number; eq?: number } = {};
    for (const [bound, value] of Object.entries(json)) {
      if (bound !== 'gte' && bound !== 'lte' && bound !== 'eq') {
        this.fail(`${path}.${bound}`, 'unknown count bound (gte, lte, eq)');
        continue;
      }
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        this.fail(`${path}.${bound}`, 'expected a non-negative integer');
        continue;
      }
      range[bound] = value;
    }
    return range;
  }
}

function dateBoundOf(text: string): DateBound | undefined {
  if (text.startsWith('P')) {
    const ago = parseDuration(text);
    return ago && { kind: 'relative', ago };
  }
  if (!ISO_DATE_PATTERN.test(text)) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : { kind: 'absolute', at: new Date(time) };
}

/**
 * Validates a definition and returns its condition tree, or every error found with its JSON path
 * under `basePath` (the API passes `definition`, so paths read `definition.and[1].op`).
 */
export function parseSegmentDefinition(json: unknown, basePath = 'definition'): DefinitionParseResult {
  const parser = new Parser();
  const definition = parser.condition(json, basePath, 1);
  if (parser.errors.length > 0 || !definition) {
    return { ok: false, errors: parser.errors.length > 0 ? parser.errors : [{ path: basePath, reason: 'invalid definition' }] };
  }
  return { ok: true, definition };
}

export class InvalidSegmentDefinitionError extends Error {
  constructor(readonly errors: readonly DefinitionError[]) {
    super(`invalid segment definition: ${errors.map((e) => `${e.path}: ${e.reason}`).join('; ')}`);
    this.name = 'InvalidSegmentDefinitionError';
  }
}

/** For stored definitions (validated when saved): the condition tree, or throws. */
export function definitionOf(json: unknown): SegmentDefinition {
  const parsed = parseSegmentDefinition(json);
  if (!parsed.ok) throw new InvalidSegmentDefinitionError(parsed.errors);
  return parsed.definition;
}
