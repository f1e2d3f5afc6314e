/**
 * The visual segment builder's model and its two-way mapping with the definition language
 * (docs/segments.md): `fromDefinition` turns a definition into the builder's tree of editable
 * nodes (form fields are text), `toDefinition` turns the tree back into the definition. Pure
 * functions, no DOM: a definition read into the builder and written back is deep-equal to the
 * original, whatever it holds — a condition the builder has no form for (or a spelling it would
 * not keep exactly, such as a double negation) stays a raw JSON node, edited as JSON.
 */

import { COMPUTED_TRAIT_NAMES, OPERATORS } from '../../../functions/domain/segments/vocabulary';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const TRAIT_OPERATORS = OPERATORS;
export type TraitOperator = (typeof TRAIT_OPERATORS)[number];
export const WHERE_OPERATORS = ['eq', 'neq', 'in', 'contains', 'exists', 'gt', 'gte', 'lt', 'lte'] as const;
export type WhereOperator = (typeof WHERE_OPERATORS)[number];
export const COMPUTED_TRAITS = COMPUTED_TRAIT_NAMES;
export const IDENTIFIER_TYPES = ['email', 'phone', 'user_id', 'anonymous_id', 'device_id', 'crm_id'] as const;

/** How a value typed in a text field is read: the definition language tells numbers from strings. */
export type ValueKind = 'text' | 'number' | 'boolean';

/** One typed value: its text as shown in the form and how it is read. */
export interface ValueField {
  readonly kind: ValueKind;
  readonly text: string;
  /** `in`: the text is a comma-separated list of values of `kind`. */
  readonly list: boolean;
}

interface NodeBase {
  readonly id: string;
  /** Wrapped in `{"not": ...}`. */
  readonly negated: boolean;
}

export interface GroupNode extends NodeBase {
  readonly kind: 'group';
  readonly combinator: 'and' | 'or';
  readonly children: readonly BuilderNode[];
}

export interface TraitNode extends NodeBase {
  readonly kind: 'trait' | 'computed';
  readonly name: string;
  readonly op: TraitOperator;
  /** Absent for `exists` without a value. */
  readonly value: ValueField | null;
}

export interface WhereRow {
  readonly id: string;
  readonly path: string;
  /** `eq` written as a bare value, `in` as an array, any other as `{"<op>": value}`. */
  readonly op: WhereOperator;
  /** `eq`/`in` written `{"eq": v}` / `{"in": [...]}` rather than bare. */
  readonly explicit: boolean;
  readonly value: ValueField;
}

export interface EventNode extends NodeBase {
  readonly kind: 'event';
  readonly event: string;
  readonly where: readonly WhereRow[];
  /** ISO 8601 duration, empty when absent. */
  readonly within: string;
  /** Event name, empty when absent. */
  readonly after: string;
  /** Whether `count` is written; its bounds as text, empty when absent. */
  readonly count: { readonly gte: string; readonly lte: string; readonly eq: string } | null;
}

export interface ScoreNode extends NodeBase {
  readonly kind: 'score';
  readonly score: string;
  /** Bands (comma-separated when a list) or an operator on the score's value. */
  readonly mode: 'band' | 'op';
  readonly bands: string;
  readonly bandList: boolean;
  readonly op: TraitOperator;
  readonly value: ValueField | null;
}

export interface ConsentNode extends NodeBase {
  readonly kind: 'consent';
  readonly consent: string;
  /** `null`: `granted` not written (true). */
  readonly granted: boolean | null;
}

export interface HasNode extends NodeBase {
  readonly kind: 'has';
  readonly has: string;
}

/** A condition kept as JSON text: forms the builder has none for, or edited by hand. */
export interface JsonNode extends NodeBase {
  readonly kind: 'json';
  readonly json: string;
}

export type BuilderNode = GroupNode | TraitNode | EventNode | ScoreNode | ConsentNode | HasNode | JsonNode;
export type NodeKind = BuilderNode['kind'];

export interface BuilderProblem {
  /** JSON path in the definition, as the Segments API names it (`definition.and[1].value`). */
  readonly path: string;
  readonly reason: string;
}

export type BuildResult = { readonly ok: true; readonly definition: Json } | { readonly ok: false; readonly problems: readonly BuilderProblem[] };

/** Makes node ids: a counter, so that the same definition read twice gives the same ids (tests, keys). */
export interface IdSource {
  next(): string;
}

export function idSource(prefix = 'n'): IdSource {
  let counter = 0;
  return {
    next: () => {
      counter += 1;
      return `${prefix}${counter}`;
    },
  };
}

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const hasOnlyKeys = (value: JsonObject, required: readonly string[], optional: readonly string[]): boolean =>
  required.every((key) => Object.hasOwn(value, key)) && Object.keys(value).every((key) => required.includes(key) || optional.includes(key));
const isOperator = <T extends string>(operators: readonly T[], value: unknown): value is T =>
  typeof value === 'string' && (operators as readonly string[]).includes(value);

/** A scalar as a typed field; undefined when it has no exact text form. */
function scalarField(value: Json): ValueField | undefined {
  if (typeof value === 'string') return { kind: 'text', text: value, list: false };
  if (typeof value === 'number' && Number.isFinite(value)) return { kind: 'number', text: String(value), list: false };
  if (typeof value === 'boolean') return { kind: 'boolean', text: String(value), list: false };
  return undefined;
}

/** A list of scalars of one kind, comma-separated; undefined when a value holds a comma or the kinds differ. */
function listField(values: Json): ValueField | undefined {
  if (!Array.isArray(values) || values.length === 0) return undefined;
  const fields = values.map(scalarField);
  const kind = fields[0]?.kind;
  if (
    !fields.every((field) => field !== undefined && field.kind === kind && !field.text.includes(',') && field.text.trim() === field.text && field.text !== '')
  )
    return undefined;
  return { kind: kind ?? 'text', text: fields.map((field) => field?.text ?? '').join(', '), list: true };
}

const valueFieldOf = (value: Json): ValueField | undefined => (Array.isArray(value) ? listField(value) : scalarField(value));

function readScalar(kind: ValueKind, text: string, path: string, problems: BuilderProblem[]): Json {
  if (kind === 'text') return text;
  if (kind === 'boolean') {
    if (text === 'true' || text === 'false') return text === 'true';
    problems.push({ path, reason: 'choose yes or no' });
    return null;
  }
  const number = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(number)) {
    problems.push({ path, reason: 'enter a number' });
    return null;
  }
  return number;
}

/** The JSON value of a field, with a problem named by its path when the text does not read as its kind. */
export function readValue(field: ValueField, path: string, problems: BuilderProblem[]): Json {
  if (!field.list) return readScalar(field.kind, field.text, path, problems);
  const items = field.text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) problems.push({ path, reason: 'enter at least one value' });
  return items.map((item, index) => readScalar(field.kind, item, `${path}[${index}]`, problems));
}

const jsonNode = (ids: IdSource, value: Json, negated = false): JsonNode => ({ id: ids.next(), kind: 'json', negated, json: JSON.stringify(value, null, 2) });

function traitNodeOf(ids: IdSource, value: JsonObject, kind: 'trait' | 'computed', negated: boolean): TraitNode | undefined {
  if (!hasOnlyKeys(value, [kind, 'op'], ['value'])) return undefined;
  const name = value[kind];
  const op = value.op;
  if (typeof name !== 'string' || !isOperator(TRAIT_OPERATORS, op)) return undefined;
  if (!Object.hasOwn(value, 'value')) return op === 'exists' ? { id: ids.next(), kind, negated, name, op, value: null } : undefined;
  const field = valueFieldOf(value.value ?? null);
  if (!field || field.list !== (op === 'in')) return undefined;
  return { id: ids.next(), kind, negated, name, op, value: field };
}

function whereRowsOf(ids: IdSource, where: Json): WhereRow[] | undefined {
  if (!isObject(where)) return undefined;
  const rows: WhereRow[] = [];
  for (const [path, condition] of Object.entries(where)) {
    if (isObject(condition)) {
      const entries = Object.entries(condition);
      const [op, operand] = entries[0] ?? [];
      if (entries.length !== 1 || !isOperator(WHERE_OPERATORS, op) || operand === undefined) return undefined;
      const field = valueFieldOf(operand);
      if (!field || field.list !== (op === 'in')) return undefined;
      rows.push({ id: ids.next(), path, op, explicit: true, value: field });
    } else {
      const field = valueFieldOf(condition);
      if (!field) return undefined;
      rows.push({ id: ids.next(), path, op: field.list ? 'in' : 'eq', explicit: false, value: field });
    }
  }
  return rows;
}

const COUNT_BOUNDS = ['gte', 'lte', 'eq'] as const;

function eventNodeOf(ids: IdSource, value: JsonObject, negated: boolean): EventNode | undefined {
  if (!hasOnlyKeys(value, ['event'], ['where', 'within', 'after', 'count'])) return undefined;
  const { event, within, after, count } = value;
  if (typeof event !== 'string') return undefined;
  if (within !== undefined && (typeof within !== 'string' || within === '')) return undefined;
  if (after !== undefined && (typeof after !== 'string' || after === '')) return undefined;
  const where = value.where === undefined ? [] : whereRowsOf(ids, value.where);
  if (!where || (value.where !== undefined && where.length === 0)) return undefined;
  let countFields: EventNode['count'] = null;
  if (count !== undefined) {
    if (!isObject(count) || Object.keys(count).length === 0 || !hasOnlyKeys(count, [], COUNT_BOUNDS)) return undefined;
    const bound = (key: (typeof COUNT_BOUNDS)[number]): string | undefined => {
      const given = count[key];
      if (given === undefined) return '';
      return typeof given === 'number' && Number.isFinite(given) ? String(given) : undefined;
    };
    const [gte, lte, eq] = COUNT_BOUNDS.map(bound);
    if (gte === undefined || lte === undefined || eq === undefined) return undefined;
    countFields = { gte, lte, eq };
  }
  return { id: ids.next(), kind: 'event', negated, event, where, within: within ?? '', after: after ?? '', count: countFields };
}

function scoreNodeOf(ids: IdSource, value: JsonObject, negated: boolean): ScoreNode | undefined {
  const score = value.score;
  if (typeof score !== 'string') return undefined;
  const base = { id: ids.next(), kind: 'score' as const, negated, score };
  if (hasOnlyKeys(value, ['score', 'band'], [])) {
    const band = value.band ?? null;
    if (typeof band === 'string' && band !== '' && !band.includes(',')) return { ...base, mode: 'band', bands: band, bandList: false, op: 'eq', value: null };
    const list = listField(band);
    if (list && list.kind === 'text') return { ...base, mode: 'band', bands: list.text, bandList: true, op: 'eq', value: null };
    return undefined;
  }
  if (!hasOnlyKeys(value, ['score', 'op'], ['value']) || !isOperator(TRAIT_OPERATORS, value.op)) return undefined;
  const op = value.op;
  if (!Object.hasOwn(value, 'value')) return op === 'exists' ? { ...base, mode: 'op', bands: '', bandList: false, op, value: null } : undefined;
  const field = valueFieldOf(value.value ?? null);
  if (!field || field.list !== (op === 'in')) return undefined;
  return { ...base, mode: 'op', bands: '', bandList: false, op, value: field };
}

/** The builder's tree of a definition (never fails: what has no form becomes a JSON node). */
export function fromDefinition(definition: Json, ids: IdSource = idSource()): BuilderNode {
  return nodeOf(definition, ids, false);
}

function nodeOf(value: Json, ids: IdSource, negated: boolean): BuilderNode {
  if (!isObject(value)) return jsonNode(ids, value, negated);
  if (hasOnlyKeys(value, ['not'], [])) {
    // One negation is a flag of the node; a double one stays JSON to keep its exact form.
    if (negated) return jsonNode(ids, value, true);
    const inner = value.not ?? null;
    if (isObject(inner) && Object.hasOwn(inner, 'not')) return jsonNode(ids, value);
    return nodeOf(inner, ids, true);
  }
  for (const combinator of ['and', 'or'] as const) {
    if (hasOnlyKeys(value, [combinator], [])) {
      const children = value[combinator];
      if (!Array.isArray(children) || children.length === 0) return jsonNode(ids, value, negated);
      const id = ids.next();
      return { id, kind: 'group', negated, combinator, children: children.map((child) => nodeOf(child, ids, false)) };
    }
  }
  const node =
    (Object.hasOwn(value, 'trait') && traitNodeOf(ids, value, 'trait', negated)) ||
    (Object.hasOwn(value, 'computed') && traitNodeOf(ids, value, 'computed', negated)) ||
    (Object.hasOwn(value, 'event') && eventNodeOf(ids, value, negated)) ||
    (Object.hasOwn(value, 'score') && scoreNodeOf(ids, value, negated)) ||
    (hasOnlyKeys(value, ['consent'], ['granted']) &&
      typeof value.consent === 'string' &&
      (value.granted === undefined || typeof value.granted === 'boolean') && {
        id: ids.next(),
        kind: 'consent' as const,
        negated,
        consent: value.consent,
        granted: typeof value.granted === 'boolean' ? value.granted : null,
      }) ||
    (hasOnlyKeys(value, ['has'], []) && typeof value.has === 'string' && { id: ids.next(), kind: 'has' as const, negated, has: value.has });
  return node || jsonNode(ids, value, negated);
}

/** The definition of a builder tree, or the problems of the fields that do not read (each with its JSON path). */
export function toDefinition(node: BuilderNode, path = 'definition'): BuildResult {
  const problems: BuilderProblem[] = [];
  const definition = conditionOf(node, path, problems);
  return problems.length === 0 ? { ok: true, definition } : { ok: false, problems };
}

function conditionOf(node: BuilderNode, path: string, problems: BuilderProblem[]): Json {
  if (node.negated && node.kind !== 'json') return { not: positiveConditionOf(node, `${path}.not`, problems) };
  return positiveConditionOf(node, path, problems);
}

function requireText(text: string, path: string, what: string, problems: BuilderProblem[]): string {
  if (text.trim() === '') problems.push({ path, reason: `enter ${what}` });
  return text;
}

function positiveConditionOf(node: BuilderNode, path: string, problems: BuilderProblem[]): Json {
  switch (node.kind) {
    case 'group': {
      if (node.children.length === 0) problems.push({ path: `${path}.${node.combinator}`, reason: 'add at least one condition' });
      return { [node.combinator]: node.children.map((child, index) => conditionOf(child, `${path}.${node.combinator}[${index}]`, problems)) };
    }
    case 'trait':
    case 'computed': {
      const condition: JsonObject = { [node.kind]: requireText(node.name, `${path}.${node.kind}`, 'a name', problems), op: node.op };
      if (node.value) condition.value = readValue(node.value, `${path}.value`, problems);
      else if (node.op !== 'exists') problems.push({ path: `${path}.value`, reason: 'enter a value' });
      return condition;
    }
    case 'event': {
      const condition: JsonObject = { event: requireText(node.event, `${path}.event`, 'an event name', problems) };
      if (node.where.length > 0) {
        const where: JsonObject = {};
        for (const row of node.where) {
          const rowPath = `${path}.where.${row.path}`;
          if (row.path.trim() === '') problems.push({ path: `${path}.where`, reason: 'enter a property name' });
          if (Object.hasOwn(where, row.path)) problems.push({ path: rowPath, reason: 'this property is already filtered' });
          const operand = readValue(row.value, rowPath, problems);
          where[row.path] = !row.explicit && (row.op === 'eq' || row.op === 'in') ? operand : { [row.op]: operand };
        }
        condition.where = where;
      }
      if (node.within !== '') condition.within = node.within;
      if (node.after !== '') condition.after = node.after;
      if (node.count) {
        const count: JsonObject = {};
        for (const bound of COUNT_BOUNDS) {
          const text = node.count[bound];
          if (text.trim() === '') continue;
          const number = Number(text);
          if (!Number.isInteger(number) || number < 0) problems.push({ path: `${path}.count.${bound}`, reason: 'enter a whole number, 0 or more' });
          count[bound] = number;
        }
        if (Object.keys(count).length === 0) problems.push({ path: `${path}.count`, reason: 'enter at least one bound' });
        condition.count = count;
      }
      return condition;
    }
    case 'score': {
      const score = requireText(node.score, `${path}.score`, 'a score name', problems);
      if (node.mode === 'band') {
        const bands = node.bands
          .split(',')
          .map((band) => band.trim())
          .filter((band) => band !== '');
        if (bands.length === 0) problems.push({ path: `${path}.band`, reason: 'enter a band' });
        return { score, band: node.bandList || bands.length > 1 ? bands : (bands[0] ?? '') };
      }
      const condition: JsonObject = { score, op: node.op };
      if (node.value) condition.value = readValue(node.value, `${path}.value`, problems);
      else if (node.op !== 'exists') problems.push({ path: `${path}.value`, reason: 'enter a value' });
      return condition;
    }
    case 'consent':
      return node.granted === null
        ? { consent: requireText(node.consent, `${path}.consent`, 'a consent', problems) }
        : { consent: requireText(node.consent, `${path}.consent`, 'a consent', problems), granted: node.granted };
    case 'has':
      return { has: requireText(node.has, `${path}.has`, 'an identifier type', problems) };
    case 'json': {
      let parsed: Json = null;
      try {
        parsed = JSON.parse(node.json) as Json;
      } catch (error) {
        problems.push({ path, reason: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` });
      }
      return node.negated ? { not: parsed } : parsed;
    }
  }
}

/** The value field an operator needs: `in` a list, comparisons a number, `exists` none (true). */
export function fieldForOperator(op: TraitOperator | WhereOperator, previous: ValueField | null): ValueField | null {
  if (op === 'exists') return null;
  const list = op === 'in';
  const numeric = op === 'gt' || op === 'gte' || op === 'lt' || op === 'lte';
  const dated = op === 'before' || op === 'after' || op === 'within';
  const kind: ValueKind = numeric ? 'number' : dated ? 'text' : (previous?.kind ?? 'text');
  return { kind, list, text: previous?.text ?? '' };
}

/** A new, empty condition of a kind, for the builder's "add" buttons. */
export function newNode(kind: NodeKind, ids: IdSource): BuilderNode {
  const base = { id: ids.next(), negated: false };
  switch (kind) {
    case 'group':
      return { ...base, kind, combinator: 'and', children: [] };
    case 'trait':
      return { ...base, kind, name: '', op: 'eq', value: { kind: 'text', text: '', list: false } };
    case 'computed':
      return { ...base, kind, name: 'orders_total', op: 'gte', value: { kind: 'number', text: '1', list: false } };
    case 'event':
      return { ...base, kind, event: '', where: [], within: 'P30D', after: '', count: null };
    case 'score':
      return { ...base, kind, score: 'churn', mode: 'band', bands: 'high', bandList: false, op: 'gte', value: null };
    case 'consent':
      return { ...base, kind, consent: 'marketing', granted: null };
    case 'has':
      return { ...base, kind, has: 'email' };
    case 'json':
      return { ...base, kind, json: '{}' };
  }
}

/** The tree with the node of `id` replaced by `update(node)` (or removed when it returns null). */
export function updateNode(root: BuilderNode, id: string, update: (node: BuilderNode) => BuilderNode | null): BuilderNode | null {
  if (root.id === id) return update(root);
  if (root.kind !== 'group') return root;
  let changed = false;
  const children: BuilderNode[] = [];
  for (const child of root.children) {
    const next = updateNode(child, id, update);
    if (next !== child) changed = true;
    if (next) children.push(next);
  }
  return changed ? { ...root, children } : root;
}
