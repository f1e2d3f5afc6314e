import { Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { FUNCTIONS, type FunctionId } from '../../lib/definitions/functions';
import { OPERATIONS_WORKFLOWS } from '../../lib/definitions/operations';
import { QUEUES } from '../../lib/definitions/queues';
import { SECURE_PARAMETERS } from '../../lib/definitions/secrets';
import { definePlatform } from '../../lib/stacks/platform';
import { attributeOf, followReference, newTestApp, required, synthesizePlatform, templatesOf, type SynthesizedPlatform } from './platform-fixture';

/**
 * IAM least privilege of the function roles: DynamoDB item actions only on the partition key
 * prefixes each function uses (dynamodb:LeadingKeys), scans only where a function scans, SES only
 * on the configured identity and configuration set, SSM only on the parameters a function reads.
 */
const synthesized = synthesizePlatform();
const { platform } = synthesized;
const functionsOf = (synth: SynthesizedPlatform) =>
  new Map<FunctionId, IFunction>([...synth.platform.processing.functions, ...synth.platform.ingestion.functions]);
const functions = functionsOf(synthesized);
const table = required(platform.storage.tables, 'Profiles');
const tableArn = JSON.stringify(platform.storage.resolve(table.tableArn));
const indexArn = JSON.stringify(platform.storage.resolve(`${table.tableArn}/index/GSI1`));

interface Statement {
  readonly actions: readonly string[];
  /** Resources as JSON, cross-stack references followed to the producing stack's expression. */
  readonly resources: readonly string[];
  readonly condition?: Record<string, Record<string, string | string[]>>;
}

function statementsOf(fn: IFunction, synth: SynthesizedPlatform = synthesized): Statement[] {
  const stack = Stack.of(fn);
  const key = (Object.keys(synth.platform) as (keyof typeof synth.platform)[]).find((candidate) => synth.platform[candidate] === stack);
  if (!key || !fn.role) throw new Error('function outside the platform or without role');
  const roleRef = stack.resolve(fn.role.roleName) as unknown;
  return Object.values(synth.templates[key].findResources('AWS::IAM::Policy', { Properties: { Roles: [roleRef] } })).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Statement['condition'] }[])
      .filter((statement) => statement.Effect === 'Allow')
      .map((statement) => ({
        actions: ([] as string[]).concat(statement.Action),
        resources: ([] as unknown[]).concat(statement.Resource).map((resource) => JSON.stringify(followReference(synth, stack, resource).expression)),
        ...(statement.Condition && { condition: statement.Condition }),
      })),
  );
}

/** `action resource patterns` for every DynamoDB permission: what the policies allow, merged or not. */
function dynamoPermissions(fn: IFunction): string[] {
  return statementsOf(fn)
    .flatMap((statement) =>
      statement.actions
        .filter((action) => action.startsWith('dynamodb:'))
        .flatMap((action) =>
          statement.resources.map((resource) => {
            const where = resource === tableArn ? 'table' : resource === indexArn ? 'index GSI1' : resource;
            const keys = statement.condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
            return `${action} ${where}${keys ? ` ${([] as string[]).concat(keys).sort().join(',')}` : ''}`;
          }),
        ),
    )
    .sort();
}

/** The same, as the definition in lib/definitions/functions.ts says it should be. */
function definedPermissions(id: FunctionId): string[] {
  const definition = FUNCTIONS.find((candidate) => candidate.id === id);
  return (definition?.tables ?? [])
    .flatMap((access) => [
      ...access.grants.flatMap((grant) => grant.actions.map((action) => `dynamodb:${action} table ${[...grant.keys].sort().join(',')}`)),
      ...Object.entries(access.indexQueries ?? {}).map(([index, keys]) => `dynamodb:Query index ${index} ${[...keys].sort().join(',')}`),
      ...(access.scan ? ['dynamodb:Scan table'] : []),
      ...(access.describe ? ['dynamodb:DescribeTable table'] : []),
    ])
    .sort();
}

const ITEM_ACTIONS = ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'ConditionCheckItem'].map(
  (action) => `dynamodb:${action}`,
);

describe.each(FUNCTIONS.map((definition) => [definition.id] as const))('function %s', (id) => {
  const fn = required(functions, id);

  it('has exactly the DynamoDB permissions its definition names', () => {
    expect(dynamoPermissions(fn)).toEqual(definedPermissions(id));
  });

  it('may act on items only under a dynamodb:LeadingKeys condition, and on nothing but the table and its named index', () => {
    for (const statement of statementsOf(fn).filter((candidate) => candidate.actions.some((action) => action.startsWith('dynamodb:')))) {
      if (statement.actions.some((action) => ITEM_ACTIONS.includes(action))) {
        expect(Object.keys(statement.condition ?? {})).toEqual(['ForAllValues:StringLike']);
        expect(Object.keys(statement.condition?.['ForAllValues:StringLike'] ?? {})).toEqual(['dynamodb:LeadingKeys']);
        // Item actions and the unkeyed ones never share a statement (ForAllValues holds for a request without keys).
        expect(statement.actions.filter((action) => !ITEM_ACTIONS.includes(action))).toEqual([]);
      } else {
        expect(statement.actions.every((action) => action === 'dynamodb:Scan' || action === 'dynamodb:DescribeTable')).toBe(true);
      }
      for (const resource of statement.resources) expect([tableArn, indexArn]).toContain(resource);
    }
  });

  it('has no action on every resource but the X-Ray ones', () => {
    const everywhere = statementsOf(fn).filter((statement) => statement.resources.includes('"*"'));
    expect(everywhere.flatMap((statement) => statement.actions).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });
});

describe('partitions per function (the key design: PARTITIONS in lib/definitions/functions.ts)', () => {
  /** Every table partition pattern a function may touch, whatever the action. */
  const partitionsOf = (id: FunctionId): string[] =>
    [
      ...new Set(
        dynamoPermissions(required(functions, id))
          .map((permission) => permission.split(' '))
          .filter(([, where, keys]) => where === 'table' && keys !== undefined)
          .flatMap(([, , keys]) => (keys ?? '').split(',')),
      ),
    ].sort();

  it('gives the public unsubscribe function its profile, the unsubscribe records and nothing else: no scan, no identity, erasure or event query', () => {
    expect(dynamoPermissions(required(functions, 'unsubscribe'))).toEqual([
      'dynamodb:BatchGetItem table P#*',
      'dynamodb:DeleteItem table UNSUB#*',
      'dynamodb:PutItem table P#*,UNSUB#*',
    ]);
  });

  it.each([
    // Reconcile also counts the profiles of each control-group bucket (POP) as it creates and merges them.
    // ...and adds each batch's events and merges to the day's activity counters (STATS#activity).
    ['reconcile', ['ID#*', 'MSG#*', 'P#*', 'POP', 'QUARANTINE*', 'STATS#activity', 'SUP#*']],
    // The consumers that quarantine poison messages may write the quarantine (put only); score reads the models in service.
    ['score', ['MODEL#*', 'MODELSERVING', 'P#*', 'QUARANTINE*']],
    // Segment report counters (SRPT#), touches (P#), orders (ORDER#, BUY#) and the control group's draw (CONTROL).
    ['segmentEvaluator', ['P#*', 'QUARANTINE*', 'S#*', 'SEG#*', 'SRPT#*']],
    ['activation', ['CONTROL', 'P#*', 'QUARANTINE*', 'SEG#*', 'SRPT#*', 'WH#*']],
    // Offer events decide again when the default was shown (a holdout?): the control group's draw too.
    ['journeyTrigger', ['BUY#*', 'BUYM#*', 'CONTROL', 'JRUN#*', 'ORDER#*', 'P#*', 'QUARANTINE*', 'RPT#*', 'SRPT#*']],
    ['emailFeedback', ['EMAILFB#*', 'MAILSUP#*', 'P#*', 'QUARANTINE*', 'RPT#*', 'SRPT#*']],
    // The number opt-out list (SMSOPTOUT#), the profile a reply's number links to (ID#), the receipt's profile (P#),
    // receipts counted once (SMSFB#) in the journey and segment reports (RPT#, SRPT#).
    ['smsEvents', ['ID#*', 'P#*', 'QUARANTINE*', 'RPT#*', 'SMSFB#*', 'SMSOPTOUT#*', 'SRPT#*']],
  ] as const)('gives the consumer %s only %j', (id, partitions) => {
    expect(partitionsOf(id)).toEqual([...partitions]);
  });

  it('gives the public decide function reads only: identity links, the offers and facts index, the control group draw', () => {
    expect(dynamoPermissions(required(functions, 'decide'))).toEqual([
      'dynamodb:BatchGetItem table ID#*',
      'dynamodb:GetItem table CONTROL',
      'dynamodb:Query index GSI1 MEMBER#*,OFFERS',
    ]);
  });

  it('lets only reconcile, the Profile API and the erasure job change identity links (decisions read them), and only the erasure job write erasure records', () => {
    const touching = (pattern: string, actions?: readonly string[]) =>
      FUNCTIONS.filter((definition) =>
        dynamoPermissions(required(functions, definition.id)).some(
          (permission) => permission.split(' ')[2]?.split(',').includes(pattern) && (!actions || actions.includes(permission.split(' ')[0] ?? '')),
        ),
      ).map((definition) => definition.id);
    expect(touching('ID#*', ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'])).toEqual([
      'reconcile',
      'profileApi',
      'erasure',
    ]);
    // Decisions look visitors up: the decide function, and the offers API for a profile's decisions.
    // STOP replies find the profile that has the number (smsEvents).
    expect(touching('ID#*')).toEqual(['reconcile', 'profileApi', 'erasure', 'segmentApi', 'smsEvents', 'decide']);
    expect(touching('SUP#*', ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'])).toEqual(['erasure']);
    expect(touching('MSG#*')).toEqual(['reconcile']);
  });

  it('lets the score function only read the models in service, and only the Models API and the training job change them', () => {
    expect(dynamoPermissions(required(functions, 'score')).filter((permission) => permission.includes('MODEL'))).toEqual([
      'dynamodb:Query table MODEL#*,MODELSERVING',
    ]);
    const writers = FUNCTIONS.filter((definition) =>
      dynamoPermissions(required(functions, definition.id)).some((permission) => /^dynamodb:(Put|Update|Delete|BatchWrite)Item .*MODEL/.test(permission)),
    ).map((definition) => definition.id);
    expect(writers).toEqual(['modelApi', 'modelTraining']);
  });

  it('lets only the scanning functions scan, and queries GSI1 only on the partitions named', () => {
    const scanners = FUNCTIONS.filter((definition) => dynamoPermissions(required(functions, definition.id)).includes('dynamodb:Scan table')).map(
      (definition) => definition.id,
    );
    expect(scanners).toEqual(['segmentApi', 'segmentRebuild', 'lookalike', 'modelTraining', 'scoreRecompute']);
    expect(dynamoPermissions(required(functions, 'reportApi'))).toEqual([
      'dynamodb:GetItem table CONTROL',
      'dynamodb:PutItem table CONTROL',
      'dynamodb:Query index GSI1 OFFERS,RPT,SEGMENTS,SRPT',
      'dynamodb:Query table BUY#*,BUYM#*,POP,RPT#*,SRPT#*',
    ]);
  });
});

describe('the Operations API (read-only)', () => {
  const reader = required(functions, 'operationsApi');
  const grantedOn = (fn: IFunction, action: string): string[] =>
    statementsOf(fn)
      .filter((statement) => statement.actions.includes(action))
      .flatMap((statement) => statement.resources)
      .sort();
  const arnOf = (construct: IConstruct, token: string): string => JSON.stringify(attributeOf(construct, token).expression);
  const actionsOf = (prefix: string): string[] => [
    ...new Set(statementsOf(reader).flatMap((statement) => statement.actions.filter((action) => action.startsWith(prefix)))),
  ];

  it('reads the activity counters and nothing else of the table', () => {
    expect(dynamoPermissions(reader)).toEqual(['dynamodb:Query table STATS#activity']);
  });

  it('may GetQueueAttributes on every platform queue and its DLQ, and nothing else of SQS', () => {
    const queues = QUEUES.flatMap((definition) => {
      const pair = required(platform.storage.queues, definition.id);
      return [arnOf(pair.queue, pair.queue.queueArn), arnOf(pair.deadLetterQueue, pair.deadLetterQueue.queueArn)];
    });
    expect(grantedOn(reader, 'sqs:GetQueueAttributes')).toEqual([...queues].sort());
    expect(actionsOf('sqs:')).toEqual(['sqs:GetQueueAttributes']);
  });

  it('may ListExecutions on the batch workflows only, and nothing else of Step Functions; no other function lists executions', () => {
    // Each state machine's logical id is its definition's id; Ref gives its ARN.
    const machines = OPERATIONS_WORKFLOWS.map((definition) => JSON.stringify({ Ref: definition.id }));
    expect(machines).toHaveLength(4);
    expect(grantedOn(reader, 'states:ListExecutions')).toEqual([...machines].sort());
    expect(actionsOf('states:')).toEqual(['states:ListExecutions']);
    const listers = FUNCTIONS.filter((definition) => grantedOn(required(functions, definition.id), 'states:ListExecutions').length > 0).map(({ id }) => id);
    expect(listers).toEqual(['operationsApi']);
  });
});

describe('SES send rights', () => {
  const sesStatements = (fns: ReadonlyMap<FunctionId, IFunction>, synth: SynthesizedPlatform) =>
    [...fns.values()].flatMap((fn) =>
      statementsOf(fn, synth)
        .filter((statement) => statement.actions.some((action) => action.startsWith('ses:')))
        .map((statement) => ({ fn, statement })),
    );

  it('are journeySend\'s only, never on "*" or identity/*, and only ses:SendEmail', () => {
    for (const { fn, statement } of sesStatements(functions, synthesized)) {
      expect(fn).toBe(required(functions, 'journeySend'));
      expect(statement.actions).toEqual(['ses:SendEmail']);
      for (const resource of statement.resources) expect(resource).not.toMatch(/"\*"|identity\/\*|configuration-set\/\*/);
    }
  });

  it('cover the configured identity (an address and its domain) and the configuration set, nothing else', () => {
    const app = newTestApp({ 'dmp:sesIdentity': 'News@Shop.Example' });
    const named = definePlatform(app);
    const synth: SynthesizedPlatform = { app, platform: named, templates: templatesOf(named) };
    const resources = sesStatements(functionsOf(synth), synth).flatMap(({ statement }) => statement.resources);
    expect(resources.filter((resource) => resource.includes(':identity/'))).toEqual([
      expect.stringContaining(':identity/news@shop.example"'),
      expect.stringContaining(':identity/shop.example"'),
    ]);
    expect(resources.filter((resource) => !resource.includes(':identity/'))).toEqual([expect.stringContaining(':configuration-set/')]);
  });

  it('without dmp:sesIdentity, cover no identity and say so at synth', () => {
    const resources = sesStatements(functions, synthesized).flatMap(({ statement }) => statement.resources);
    expect(resources.filter((resource) => resource.includes(':identity/'))).toEqual([]);
    expect(Annotations.fromStack(platform.processing).findWarning('*', Match.stringLikeRegexp('dmp:sesIdentity is not set'))).toHaveLength(1);
  });

  it('refuse an identity that is not a domain or an address', () => {
    expect(() => definePlatform(newTestApp({ 'dmp:sesIdentity': '*' }))).toThrow(/dmp:sesIdentity/);
  });
});

describe('secure parameters (SSM SecureString)', () => {
  it.each(SECURE_PARAMETERS.map((parameter) => [parameter.id, parameter] as const))(
    '%s is readable by exactly the functions that name it, and only that parameter',
    (_id, parameter) => {
      const readers = FUNCTIONS.filter((definition) => definition.secureParameters.includes(parameter.id)).map((definition) => definition.id);
      for (const definition of FUNCTIONS) {
        const fn = required(functions, definition.id);
        const granted = statementsOf(fn)
          .filter((statement) => statement.actions.includes('ssm:GetParameter'))
          .flatMap((statement) => statement.resources)
          .filter((resource) => resource.includes(`:parameter${parameter.defaultName}"`));
        expect(granted).toHaveLength(readers.includes(definition.id) ? 1 : 0);
      }
      expect(readers).toContain(parameter.id === 'pseudonymSecret' ? 'emailFeedback' : 'unsubscribe');
    },
  );

  it('are named from context, and the functions receive the names', () => {
    const app = newTestApp({ 'dmp:pseudonymSecretParameter': '/shop/pseudonyms' });
    const named = definePlatform(app);
    const synth: SynthesizedPlatform = { app, platform: named, templates: templatesOf(named) };
    const sender = required(functionsOf(synth), 'journeySend');
    const resources = statementsOf(sender, synth)
      .filter((statement) => statement.actions.includes('ssm:GetParameter'))
      .flatMap((statement) => statement.resources);
    expect(resources).toEqual(
      expect.arrayContaining([expect.stringContaining(':parameter/shop/pseudonyms"'), expect.stringContaining(':parameter/dmp/unsubscribe-secret"')]),
    );
    const variables = JSON.stringify(synth.templates.processing.toJSON().Resources);
    expect(variables).toContain('"DMP_PSEUDONYM_SECRET_PARAMETER":"/shop/pseudonyms"');
    expect(variables).toContain('"DMP_UNSUBSCRIBE_SECRET_PARAMETER":"/dmp/unsubscribe-secret"');
  });
});
