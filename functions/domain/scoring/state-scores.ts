/**
 * State scores: declarative JSON rules evaluated on a profile-like object (the Profile API
 * view: `traits`, `computed`, ...). Three rule kinds cover what marketers ask for first:
 * - `classify`: the value of the first case whose condition holds, else `otherwise`
 *   (customer vs prospect);
 * - `completeness`: the share of listed paths that hold a value (profile completeness);
 * - `tiers`: the value of the highest tier whose `min` the number at `path` reaches
 *   (value tier from total revenue).
 * Rules come from configuration, so they are validated first, errors naming the JSON path.
 */

export type Scalar = string | number | boolean;

export type Condition =
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition }
  | { readonly path: string; readonly op: 'exists' }
  | { readonly path: string; readonly op: 'eq' | 'neq'; readonly value: Scalar }
  | { readonly path: string; readonly op: 'gt' | 'gte' | 'lt' | 'lte'; readonly value: number }
  | { readonly path: string; readonly op: 'in'; readonly value: readonly Scalar[] };

export type StateScoreRule =
  | {
      readonly name: string;
      readonly kind: 'classify';
      readonly cases: readonly { readonly when: Condition; readonly value: string }[];
      readonly otherwise: string;
    }
  | { readonly name: string; readonly kind: 'completeness'; readonly paths: readonly string[] }
  | {
      readonly name: string;
      readonly kind: 'tiers';
      readonly path: string;
      readonly tiers: readonly { readonly min: number; readonly value: string }[];
      readonly otherwise: string;
    };

export type StateScores = Record<string, string | number>;

/** What the platform scores out of the box, on the Profile API's `traits` and `computed` names. */
export const DEFAULT_STATE_SCORE_RULES: readonly StateScoreRule[] = [
  {
    name: 'lifecycle',
    kind: 'classify',
    cases: [{ when: { path: 'computed.orders_total', op: 'gt', value: 0 }, value: 'customer' }],
    otherwise: 'prospect',
  },
  {
    name: 'profile_completeness',
    kind: 'completeness',
    paths: ['traits.email', 'traits.phone', 'traits.firstName', 'traits.lastName', 'traits.birthday', 'traits.address', 'traits.country'],
  },
  {
    name: 'value_tier',
    kind: 'tiers',
    path: 'computed.total_revenue',
    tiers: [
      { min: 1000, value: 'gold' },
      { min: 250, value: 'silver' },
      { min: 0.01, value: 'bronze' },
    ],
    otherwise: 'none',
  },
];

export interface RuleProblem {
  /** JSON path of the offending part, e.g. `rules[0].cases[1].when.op`. */
  readonly path: string;
  readonly reason: string;
}

export class StateScoreRuleError extends Error {
  constructor(readonly problems: readonly RuleProblem[]) {
    super(`invalid state score rules: ${problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`);
    this.name = 'StateScoreRuleError';
  }
}

const COMPARISONS = new Set(['gt', 'gte', 'lt', 'lte']);
const OPERATORS = new Set(['exists', 'eq', 'neq', 'in', ...COMPARISONS]);

type Report = (path: string, reason: string) => void;

/** Validates rules read from JSON; throws StateScoreRuleError listing every problem. */
export function parseStateScoreRules(json: unknown): StateScoreRule[] {
  const problems: RuleProblem[] = [];
  const report: Report = (path, reason) => {
    problems.push({ path, reason });
  };
  if (!Array.isArray(json)) report('rules', 'expected an array of rules');
  else {
    const names = new Set<string>();
    for (const [i, rule] of (json as unknown[]).entries()) checkRule(rule, `rules[${i}]`, names, report);
  }
  if (problems.length > 0) throw new StateScoreRuleError(problems);
  return json as StateScoreRule[];
}

function checkRule(rule: unknown, at: string, names: Set<string>, report: Report): void {
  if (!isObject(rule)) {
    report(at, 'expected an object');
    return;
  }
  if (!isText(rule.name)) report(`${at}.name`, 'expected a non-empty string');
  else if (names.has(rule.name)) report(`${at}.name`, `duplicate score name "${rule.name}"`);
  else names.add(rule.name);
  switch (rule.kind) {
    case 'classify':
      checkList(rule.cases, `${at}.cases`, report, (item, itemAt) => {
        checkCondition(item.when, `${itemAt}.when`, report);
        checkText(item.value, `${itemAt}.value`, report);
      });
      checkText(rule.otherwise, `${at}.otherwise`, report);
      break;
    case 'completeness':
      if (!Array.isArray(rule.paths) || rule.paths.length === 0) report(`${at}.paths`, 'expected a non-empty array of paths');
      else for (const [p, path] of (rule.paths as unknown[]).entries()) checkText(path, `${at}.paths[${p}]`, report);
      break;
    case 'tiers':
      checkText(rule.path, `${at}.path`, report);
      checkList(rule.tiers, `${at}.tiers`, report, (tier, tierAt) => {
        if (!isFiniteNumber(tier.min)) report(`${tierAt}.min`, 'expected a number');
        checkText(tier.value, `${tierAt}.value`, report);
      });
      checkText(rule.otherwise, `${at}.otherwise`, report);
      break;
    default:
      report(`${at}.kind`, 'unknown rule kind (expected classify, completeness or tiers)');
  }
}

/** A non-empty array of objects, each checked by `checkItem`. */
function checkList(list: unknown, at: string, report: Report, checkItem: (item: Record<string, unknown>, itemAt: string) => void): void {
  if (!Array.isArray(list) || list.length === 0) {
    report(at, 'expected a non-empty array');
    return;
  }
  list.forEach((item: unknown, i) => {
    if (isObject(item)) checkItem(item, `${at}[${i}]`);
    else report(`${at}[${i}]`, 'expected an object');
  });
}

function checkText(value: unknown, at: string, report: Report): void {
  if (!isText(value)) report(at, 'expected a non-empty string');
}

function checkCondition(condition: unknown, at: string, report: Report): void {
  if (!isObject(condition)) {
    report(at, 'expected a condition object');
    return;
  }
  if ('all' in condition || 'any' in condition) {
    const key = 'all' in condition ? 'all' : 'any';
    const parts = condition[key];
    if (!Array.isArray(parts) || parts.length === 0) report(`${at}.${key}`, 'expected a non-empty array of conditions');
    else for (const [i, part] of (parts as unknown[]).entries()) checkCondition(part, `${at}.${key}[${i}]`, report);
    return;
  }
  if ('not' in condition) {
    checkCondition(condition.not, `${at}.not`, report);
    return;
  }
  checkText(condition.path, `${at}.path`, report);
  const { op, value } = condition;
  if (typeof op !== 'string' || !OPERATORS.has(op)) report(`${at}.op`, 'unknown operator');
  else if (op === 'in' && !(Array.isArray(value) && value.length > 0 && value.every(isScalar))) {
    report(`${at}.value`, 'expected a non-empty array of strings, numbers or booleans');
  } else if (COMPARISONS.has(op) && !isFiniteNumber(value)) report(`${at}.value`, 'expected a number');
  else if ((op === 'eq' || op === 'neq') && !isScalar(value)) report(`${at}.value`, 'expected a string, number or boolean');
}

/** Evaluates every rule on the profile; a path that leads nowhere is a missing value. */
export function evaluateStateScores(rules: readonly StateScoreRule[], profile: unknown): StateScores {
  const scores: StateScores = {};
  for (const rule of rules) {
    switch (rule.kind) {
      case 'classify':
        scores[rule.name] = rule.cases.find((c) => holds(c.when, profile))?.value ?? rule.otherwise;
        break;
      case 'completeness':
        scores[rule.name] = rule.paths.filter((path) => isPresent(valueAt(profile, path))).length / rule.paths.length;
        break;
      case 'tiers': {
        const value = valueAt(profile, rule.path);
        const reached = typeof value === 'number' ? rule.tiers.filter((tier) => value >= tier.min) : [];
        const highest = reached.reduce<(typeof reached)[number] | undefined>((best, tier) => (!best || tier.min > best.min ? tier : best), undefined);
        scores[rule.name] = highest?.value ?? rule.otherwise;
        break;
      }
    }
  }
  return scores;
}

export function holds(condition: Condition, profile: unknown): boolean {
  if ('all' in condition) return condition.all.every((part) => holds(part, profile));
  if ('any' in condition) return condition.any.some((part) => holds(part, profile));
  if ('not' in condition) return !holds(condition.not, profile);
  const actual = valueAt(profile, condition.path);
  switch (condition.op) {
    case 'exists':
      return isPresent(actual);
    case 'eq':
      return actual === condition.value;
    case 'neq':
      return actual !== condition.value;
    case 'in':
      return condition.value.some((candidate) => candidate === actual);
    case 'gt':
      return typeof actual === 'number' && actual > condition.value;
    case 'gte':
      return typeof actual === 'number' && actual >= condition.value;
    case 'lt':
      return typeof actual === 'number' && actual < condition.value;
    case 'lte':
      return typeof actual === 'number' && actual <= condition.value;
  }
}

/** The value at a dotted path (`computed.total_revenue`), or undefined. */
function valueAt(root: unknown, path: string): unknown {
  let current = root;
  for (const key of path.split('.')) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  if (isObject(value)) return Object.keys(value).length > 0;
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'boolean' || isFiniteNumber(value);
}

/** `DMP_STATE_SCORE_RULES` (JSON rules), the defaults when unset; wrong rules throw naming their path. */
export function stateScoreRulesOf(json: string | undefined): readonly StateScoreRule[] {
  return json === undefined || json.trim() === '' ? DEFAULT_STATE_SCORE_RULES : parseStateScoreRules(JSON.parse(json));
}
