import { Stack, type CfnElement } from 'aws-cdk-lib';
import { ADMIN_CORS_ORIGINS_ENV, SITE_ORIGINS_ENV } from '../../lib/definitions/cors';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { corsPolicyOf, DECIDE_THROTTLING, ROUTES, THROTTLING } from '../../lib/definitions/api';
import type { FunctionId } from '../../lib/definitions/functions';
import { definePlatform, type Platform } from '../../lib/stacks/platform';
import { ADMIN_CORS_ORIGINS_CONTEXT, SITE_ORIGINS_CONTEXT } from '../../lib/stacks/ingestion-stack';
import { attributeOf, followReference, newTestApp, required, synthesizePlatform } from './platform-fixture';

const synthesized = synthesizePlatform();
const { platform, templates } = synthesized;
const ingestion = platform.ingestion;
const template = templates.ingestion;
const functions = new Map<FunctionId, IFunction>([...platform.processing.functions, ...ingestion.functions]);
const apiRef = { Ref: ingestion.getLogicalId(ingestion.httpApi.node.defaultChild as CfnElement) };

describe('IngestionStack HTTP API', () => {
  it.each(ROUTES)('routes $method $path to the $functionId function', (route) => {
    const routes = Object.values(
      template.findResources('AWS::ApiGatewayV2::Route', {
        Properties: Match.objectLike({ ApiId: apiRef, RouteKey: `${route.method} ${route.path}` }),
      }),
    );
    expect(routes).toHaveLength(1);
    // Target is `integrations/<integration id>`.
    const target = routes[0]?.Properties.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
    const integrationId = target['Fn::Join'][1][1].Ref;
    const integrations = template.toJSON().Resources as Record<string, { Properties: { IntegrationUri: unknown } }>;
    const integrationUri = integrations[integrationId]?.Properties.IntegrationUri;
    const fn = required(functions, route.functionId);
    expect(followReference(synthesized, ingestion, integrationUri)).toEqual(attributeOf(fn, fn.functionArn));
  });

  it('has no route beyond ROUTES', () => {
    expect(Object.keys(template.findResources('AWS::ApiGatewayV2::Route'))).toHaveLength(ROUTES.length);
  });

  it('has no API-wide CORS configuration: the functions answer CORS by route family, preflights included', () => {
    const [api] = Object.values(template.findResources('AWS::ApiGatewayV2::Api'));
    expect(api?.Properties.CorsConfiguration).toBeUndefined();
    const preflights = ROUTES.filter((route) => route.method === 'OPTIONS');
    expect(preflights.map((route) => route.path)).toEqual(expect.arrayContaining(['/v1/t', '/v1/batch', '/v1/segments', '/v1/profiles/{profileRef}']));
    expect(preflights.map((route) => route.path)).not.toContain('/v1/unsubscribe');
  });

  it('throttles the default stage and writes JSON access logs with the request id, not the path', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: apiRef,
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: THROTTLING.rateLimit, ThrottlingBurstLimit: THROTTLING.burstLimit },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] }, Format: Match.anyValue() },
    });
    const [stage] = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'));
    const format = JSON.parse(stage?.Properties.AccessLogSettings.Format as string) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status' });
    // Paths name profiles by e-mail or phone; IPs are personal data too.
    expect(Object.values(format)).not.toEqual(expect.arrayContaining(['$context.path']));
    expect(Object.values(format).filter((variable) => /sourceIp|userAgent/.test(variable))).toEqual([]);
    const logGroupId = (stage?.Properties.AccessLogSettings.DestinationArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    template.hasResource('AWS::Logs::LogGroup', { Properties: Match.objectLike({ RetentionInDays: 90 }) });
    expect(Object.keys(template.findResources('AWS::Logs::LogGroup'))).toContain(logGroupId);
  });

  it('lets API Gateway invoke each routed function only from this API', () => {
    for (const functionId of new Set(ROUTES.map((route) => route.functionId))) {
      const fn = required(functions, functionId);
      const permissions = Object.values(
        template.findResources('AWS::Lambda::Permission', {
          Properties: Match.objectLike({ Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' }),
        }),
      ).filter((permission) => {
        const target = followReference(synthesized, ingestion, permission.Properties.FunctionName);
        return JSON.stringify(target) === JSON.stringify(attributeOf(fn, fn.functionArn));
      });
      expect(permissions.length).toBeGreaterThan(0);
      for (const permission of permissions) {
        expect(JSON.stringify(permission.Properties.SourceArn)).toContain(JSON.stringify(apiRef));
      }
    }
  });

  it('gives the decide route its own throttling, below the stage-wide one', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: apiRef,
      RouteSettings: {
        'GET /v1/decide': { ThrottlingRateLimit: DECIDE_THROTTLING.rateLimit, ThrottlingBurstLimit: DECIDE_THROTTLING.burstLimit },
      },
    });
    expect(DECIDE_THROTTLING.rateLimit).toBeLessThan(THROTTLING.rateLimit);
    expect([...ingestion.functions.keys()]).toContain('decide');
  });

  it('publishes the API URL', () => {
    template.hasOutput('ApiUrl', { Value: Match.anyValue() });
  });
});

/** The environment of each function of the platform, by function id. */
function environments(built: Platform): Map<FunctionId, Record<string, unknown>> {
  const result = new Map<FunctionId, Record<string, unknown>>();
  const resources = new Map<Stack, Record<string, { Properties: { Environment?: { Variables?: Record<string, unknown> } } }>>();
  for (const [functionId, fn] of [...built.processing.functions, ...built.ingestion.functions]) {
    const stack = Stack.of(fn);
    if (!resources.has(stack)) resources.set(stack, Template.fromStack(stack).toJSON().Resources as never);
    const resource = resources.get(stack)?.[stack.getLogicalId(fn.node.defaultChild as CfnElement)];
    result.set(functionId, resource?.Properties.Environment?.Variables ?? {});
  }
  return result;
}

describe('admin CORS allow-list (context dmp:adminCorsOrigins)', () => {
  it('is empty by default: no function gets an allow-list', () => {
    for (const [functionId, variables] of environments(platform)) expect([functionId, variables[ADMIN_CORS_ORIGINS_ENV]]).toEqual([functionId, undefined]);
  });

  it('goes to every admin API function, and only to them', () => {
    const configured = definePlatform(newTestApp({ [ADMIN_CORS_ORIGINS_CONTEXT]: 'https://console.example.com,http://localhost:5173' }));
    const routed = new Set(ROUTES.map((route) => route.functionId));
    for (const [functionId, variables] of environments(configured)) {
      const expected = routed.has(functionId) && corsPolicyOf(functionId) === 'admin-origins' ? 'https://console.example.com,http://localhost:5173' : undefined;
      expect([functionId, variables[ADMIN_CORS_ORIGINS_ENV]]).toEqual([functionId, expected]);
    }
    expect(ROUTES.some((route) => route.functionId === 'segmentApi')).toBe(true);
  });

  it('refuses a wildcard or a URL with a path', () => {
    expect(() => definePlatform(newTestApp({ [ADMIN_CORS_ORIGINS_CONTEXT]: '*' }))).toThrow(/scheme:\/\/host/);
    expect(() => definePlatform(newTestApp({ [ADMIN_CORS_ORIGINS_CONTEXT]: ['https://console.example.com/app'] }))).toThrow(/scheme:\/\/host/);
  });
});

describe('site origins of decisions (context dmp:siteOrigins)', () => {
  it('go to the decide function only; without them it answers any origin', () => {
    expect(required(environments(platform), 'decide')[SITE_ORIGINS_ENV]).toBeUndefined();
    const configured = definePlatform(newTestApp({ [SITE_ORIGINS_CONTEXT]: 'https://shop.example.com' }));
    for (const [functionId, variables] of environments(configured))
      expect([functionId, variables[SITE_ORIGINS_ENV]]).toEqual([functionId, functionId === 'decide' ? 'https://shop.example.com' : undefined]);
  });
});
