import * as z from 'zod';
import { orderRevenue } from '../profile/activity';
import type { AcceptedMessage, JsonObject } from './accepted-message';

/**
 * Every limit on what one message may carry, in one place (README "Limits"). The write key is
 * public, so anything a browser can send an attacker can send: a message the consumers could not
 * store (DynamoDB refuses the item, the transaction or the key) would be answered 200 and then
 * fail in reconcile for ever. The Tracking API refuses such a message with 400 naming the field and
 * the limit; an import rejects the row. Each value says which downstream limit it protects.
 */

/** Segment's own limits (docs/contract.md §3). */
export const TRACKING_LIMITS = {
  /** One message, serialized as sent: past it the message is rejected (400). */
  maxMessageBytes: 32 * 1024,
  /** One request body, decoded: past it the request is refused (413). */
  maxRequestBytes: 500 * 1024,
  maxBatchMessages: 2_500,
} as const;

export const MESSAGE_LIMITS = {
  /**
   * The message as queued: with the batch's `context`/`integrations` merged in and the receipt
   * fields stamped (an import row too). Keeps the SQS body (256 KB) and the event item
   * (DynamoDB 400 KB, `message` stored whole) far within, whatever the batch-level context.
   */
  maxQueuedMessageBytes: 40 * 1024,
  /**
   * `messageId`, `userId`, `anonymousId`, `previousId`, `groupId`, `context.device.id`,
   * `context.externalIds[].id`, in characters: they become key parts (`MSG#<messageId>`,
   * `E#<time>#<messageId>`, quarantine `<time>#<messageId>#...`: at most 765 UTF-8 bytes of a
   * 1,024-byte sort key) and identity values stored on the profile.
   */
  maxIdentifierLength: 255,
  /**
   * Nesting of `properties`, `traits`, `context`, `integrations` (the object itself is level 1;
   * arrays count as levels, as in DynamoDB). DynamoDB refuses items nested deeper than 32 levels;
   * these objects sit at level 2 of the event item (`message.properties`) and trait values at
   * level 3 of the profile item (`traits.<name>.value`): 16 leaves ample room.
   */
  maxDepth: 16,
  /**
   * Keys of one object and items of one array, at any depth. Traits, consent categories and the
   * cart lines of `products[]` become map entries of the profile item (~150-350 bytes each with
   * their provenance): 200 keeps what one message adds to the profile (DynamoDB 400 KB item) to a
   * fraction of it, where 32 KB of tiny keys could add more than the whole item.
   */
  maxEntries: 200,
  /**
   * Every object key (property, trait, context key), in UTF-8 bytes. Keys are attribute names of
   * the stored items and count toward DynamoDB's 400 KB (200 keys of 200 bytes: 40 KB); a trait
   * name may also be part of a quarantine sort key `<time 24>#<messageId ≤ 765>#<trait>` (1,024 bytes).
   */
  maxKeyBytes: 200,
  /**
   * `event`, page/screen `name`, and `product_id` / `sku` (top level and `products[]`), in UTF-8
   * bytes: event names and product ids are map keys of the profile item and a product id is the
   * sort key `PROMO#<productId>` of the product-view journey (DynamoDB: 1,024 bytes).
   */
  maxNameBytes: 200,
  /**
   * `context.externalIds` entries. Each identifier of a message can cost reconcile 3 items of its
   * one transaction (merge: absorbed profile, link, merge log; new: suppression check and link):
   * 10 external ids + 7 other identifiers = 51, + 4 fixed items + at most ~22 quarantined traits
   * stays within DynamoDB's 100 items per TransactWriteItems.
   */
  maxExternalIds: 10,
  /**
   * `context.externalIds[].type`, in characters: it becomes the identity key `ID#<type>#<sha256>`
   * (DynamoDB: 2,048 bytes) and the Profile API reads types of at most 64 characters.
   */
  maxExternalIdTypeLength: 64,
  /**
   * Numbers: the AWS SDK refuses to marshal a number beyond ±(2^53 - 1) (it would lose
   * precision) and DynamoDB one whose magnitude is under 1e-130 ("Number underflow"); JSON's
   * `1e400` parses to Infinity, which neither JSON nor DynamoDB can carry.
   */
  maxNumberMagnitude: Number.MAX_SAFE_INTEGER,
  minNonZeroNumberMagnitude: 1e-130,
  /**
   * E-commerce amounts (`revenue`, `total`, `price`, `quantity`, top level and `products[]`; numeric
   * strings included, as reconcile reads them) and an order's revenue (`revenue`, else `total`,
   * else Σ price × quantity): reconcile adds it to the profile's revenue (a DynamoDB number that
   * must stay within ±(2^53 - 1)); a string like "1e300" is a valid amount to JSON.
   */
  maxAmount: 1e12,
} as const;

/**
 * Names that must not be object keys, event names or product ids / categories: the members of
 * `Object.prototype`. A `__proto__` or `constructor` key makes the AWS SDK fail to marshal the
 * item; an event named `toString` or a product id `constructor` collides with the inherited
 * member in reconcile's maps (`events[name]`, `cart[productId]`) and makes the profile unstorable.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

// Control characters, lone surrogates and U+FFFE/U+FFFF: SQS rejects them in message attributes.
export const UNSAFE_CHARACTERS = /[\p{Cc}\p{Cs}\uFFFE\uFFFF]/u;

/** A limit a message breaks: where (a JSON path) and why, the shape of a zod issue. */
export interface LimitIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** A message over several limits reports the first few: the reason stays short, the walk bounded. */
const MAX_REPORTED_ISSUES = 5;

const IDENTIFIER_FIELDS = ['messageId', 'userId', 'anonymousId', 'previousId', 'groupId'] as const;
const JSON_FIELDS = ['properties', 'traits', 'context', 'integrations'] as const;
const AMOUNT_FIELDS = ['revenue', 'total', 'price', 'quantity'] as const;
const PRODUCT_NAME_FIELDS = ['product_id', 'sku'] as const;

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** Whether a text is longer than `maxBytes` in UTF-8 (at most 3 bytes per UTF-16 unit: short texts need no count). */
const longerThan = (text: string, maxBytes: number): boolean => text.length * 3 > maxBytes && utf8Bytes(text) > maxBytes;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The identifier rule, as text: used for the wire fields and for identifiers inside `context`. */
export function identifierProblem(value: string): string | undefined {
  if (value.length > MESSAGE_LIMITS.maxIdentifierLength) return `must be at most ${MESSAGE_LIMITS.maxIdentifierLength} characters`;
  if (UNSAFE_CHARACTERS.test(value)) return 'must not contain control or invalid characters';
  return undefined;
}

const identifierText = z.string().superRefine((value, context) => {
  const problem = identifierProblem(value);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

/** `context.externalIds` (Segment spec): `[{id, type, collection?, encoding?}]`. */
const externalIdsSchema = z
  .array(
    z.object(
      {
        id: z.union([z.string(), z.number()], { error: 'must be a string or a number' }).transform(String).pipe(identifierText),
        type: z
          .string({ error: 'must be a string' })
          .refine((type) => type.trim() !== '', 'must not be blank')
          .refine(
            (type) => type.trim().length <= MESSAGE_LIMITS.maxExternalIdTypeLength,
            `must be at most ${MESSAGE_LIMITS.maxExternalIdTypeLength} characters`,
          )
          .refine((type) => !UNSAFE_CHARACTERS.test(type), 'must not contain control or invalid characters'),
      },
      { error: 'must be an object with id and type' },
    ),
    { error: 'must be an array' },
  )
  .max(MESSAGE_LIMITS.maxExternalIds, `at most ${MESSAGE_LIMITS.maxExternalIds} entries`)
  .nullish();

/**
 * Everything about one message that a consumer would fail on, as issues naming the field path and
 * the limit; none when the message is fit to queue. Used on the message exactly as it will be
 * queued (tracking, after the batch defaults; imports, per row).
 */
export function messageLimitIssues(message: AcceptedMessage): LimitIssue[] {
  const issues = new IssueList();
  for (const field of IDENTIFIER_FIELDS) {
    const value = message[field];
    const problem = value === undefined ? undefined : identifierProblem(value);
    if (problem) issues.add([field], problem);
  }
  if (message.event !== undefined) checkName(issues, ['event'], message.event);
  if (message.name !== undefined) checkName(issues, ['name'], message.name);
  for (const field of JSON_FIELDS) {
    const value = message[field];
    if (value !== undefined) checkJsonTree(issues, [field], value, 1);
  }
  // The walk above proved the trees finite and shallow: the rules below may read them freely.
  if (!issues.empty) return issues.list;
  checkContextIdentifiers(issues, message.context);
  checkCommerce(issues, message);
  if (!issues.empty) return issues.list;
  const bytes = utf8Bytes(JSON.stringify(message));
  if (bytes > MESSAGE_LIMITS.maxQueuedMessageBytes) {
    issues.add([], `message as queued exceeds ${MESSAGE_LIMITS.maxQueuedMessageBytes / 1024} KB (batch-level context and integrations included)`);
  }
  return issues.list;
}

/**
 * The first place a raw value nests deeper than `maxDepth` (the fields of a message sit at
 * level 1), found without recursing: a message thousands of levels deep must be refused
 * before anything (JSON.stringify included) recurses into it.
 */
export function tooDeepIssue(value: unknown, maxDepth: number = MESSAGE_LIMITS.maxDepth): LimitIssue | undefined {
  // Containers only, each with its parent: the path is spelled out only for the one reported.
  interface Node {
    readonly value: object;
    readonly level: number;
    readonly key?: PropertyKey;
    readonly parent?: Node;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const stack: Node[] = [{ value, level: 0 }];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.level > maxDepth) {
      const path: PropertyKey[] = [];
      for (let step: Node | undefined = node; step?.key !== undefined; step = step.parent) path.unshift(step.key);
      return { path, message: `nested deeper than ${maxDepth} levels` };
    }
    const children: ReadonlyArray<readonly [PropertyKey, unknown]> = Array.isArray(node.value)
      ? node.value.map((item, index) => [index, item] as const)
      : Object.entries(node.value);
    for (const [key, child] of children) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, level: node.level + 1, key, parent: node });
    }
  }
  return undefined;
}

class IssueList {
  readonly list: LimitIssue[] = [];
  get full(): boolean {
    return this.list.length >= MAX_REPORTED_ISSUES;
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
  /** Copies `path`: the tree walk reuses one array. */
  add(path: readonly PropertyKey[], message: string): void {
    if (!this.full) this.list.push({ path: [...path], message });
  }
}

function checkName(issues: IssueList, path: readonly PropertyKey[], name: string): void {
  if (longerThan(name, MESSAGE_LIMITS.maxNameBytes)) issues.add(path, `must be at most ${MESSAGE_LIMITS.maxNameBytes} bytes`);
  else if (RESERVED_NAMES.has(name.trim())) issues.add(path, `"${name.trim()}" is a reserved name`);
}

/**
 * Depth, entries per container, keys and numbers of one JSON tree; `level` is the tree's own.
 * `path` is where `value` is, one array extended and restored along the walk.
 */
function checkJsonTree(issues: IssueList, path: PropertyKey[], value: unknown, level: number): void {
  if (issues.full) return;
  if (typeof value === 'number') {
    checkNumber(issues, path, value);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (level > MESSAGE_LIMITS.maxDepth) {
    issues.add(path, `nested deeper than ${MESSAGE_LIMITS.maxDepth} levels`);
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > MESSAGE_LIMITS.maxEntries) issues.add(path, `more than ${MESSAGE_LIMITS.maxEntries} items`);
    for (let index = 0; index < value.length; index += 1) {
      path.push(index);
      checkJsonTree(issues, path, value[index], level + 1);
      path.pop();
    }
    return;
  }
  const keys = Object.keys(value);
  if (keys.length > MESSAGE_LIMITS.maxEntries) issues.add(path, `more than ${MESSAGE_LIMITS.maxEntries} keys`);
  for (const key of keys) {
    path.push(key);
    if (key === '') issues.add(path, 'empty key');
    else if (longerThan(key, MESSAGE_LIMITS.maxKeyBytes)) issues.add(path, `key longer than ${MESSAGE_LIMITS.maxKeyBytes} bytes`);
    else if (RESERVED_NAMES.has(key)) issues.add(path, `"${key}" is a reserved name`);
    // An own `__proto__` (JSON.parse makes one) is reported above, never read through the accessor.
    else checkJsonTree(issues, path, (value as JsonObject)[key], level + 1);
    path.pop();
  }
}

function checkNumber(issues: IssueList, path: readonly PropertyKey[], value: number): void {
  const magnitude = Math.abs(value);
  if (!Number.isFinite(value)) issues.add(path, 'must be a finite number');
  else if (magnitude > MESSAGE_LIMITS.maxNumberMagnitude) issues.add(path, `number beyond ±${MESSAGE_LIMITS.maxNumberMagnitude}`);
  else if (magnitude !== 0 && magnitude < MESSAGE_LIMITS.minNonZeroNumberMagnitude) issues.add(path, 'number closer to 0 than 1e-130');
}

/** Identifiers reconcile reads inside `context`: external ids and the device id. */
function checkContextIdentifiers(issues: IssueList, context: JsonObject): void {
  const externalIds = externalIdsSchema.safeParse(context.externalIds);
  if (!externalIds.success) for (const issue of externalIds.error.issues) issues.add(['context', 'externalIds', ...issue.path], issue.message);
  const device = context.device;
  if (isObject(device) && (typeof device.id === 'string' || typeof device.id === 'number')) {
    const problem = identifierProblem(String(device.id));
    if (problem) issues.add(['context', 'device', 'id'], problem);
  }
}

/** A number, or a string reconcile reads as one (as `asNumber` in profile/activity does). */
function amountOf(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

/** E-commerce fields reconcile folds into the profile: amounts, product ids and categories. */
function checkCommerce(issues: IssueList, message: AcceptedMessage): void {
  const { properties } = message;
  const products = Array.isArray(properties.products) ? properties.products : [];
  const items: Array<[readonly PropertyKey[], unknown]> = [
    [['properties'], properties],
    ...products.map((product, index): [readonly PropertyKey[], unknown] => [['properties', 'products', index], product]),
  ];
  for (const [path, item] of items) {
    if (!isObject(item)) continue;
    for (const field of AMOUNT_FIELDS) {
      const amount = amountOf(item[field]);
      if (amount !== undefined && Math.abs(amount) > MESSAGE_LIMITS.maxAmount) issues.add([...path, field], `amount beyond ±${MESSAGE_LIMITS.maxAmount}`);
    }
    for (const field of PRODUCT_NAME_FIELDS) {
      const value = item[field];
      if (typeof value === 'string') checkName(issues, [...path, field], value);
    }
    const category = item.category;
    if (typeof category === 'string' && RESERVED_NAMES.has(category.trim())) issues.add([...path, 'category'], `"${category.trim()}" is a reserved name`);
  }
  if (message.type === 'track' && message.event === 'Order Completed' && issues.empty) {
    const revenue = orderRevenue(properties);
    if (!Number.isFinite(revenue) || Math.abs(revenue) > MESSAGE_LIMITS.maxAmount) {
      issues.add(['properties'], `order revenue (revenue, total or Σ price × quantity) beyond ±${MESSAGE_LIMITS.maxAmount}`);
    }
  }
}
