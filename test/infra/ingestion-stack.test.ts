import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CORS, ROUTES, THROTTLING } from '../../lib/definitions/api';
import type { FunctionId } from '../../lib/definitions/functions';
import { attributeOf, followReference, required, synthesizePlatform } from './platform-fixture';

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

  it('answers CORS preflights for any origin with the defined headers and methods', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: {
        AllowOrigins: CORS.allowOrigins,
        AllowHeaders: CORS.allowHeaders,
        AllowMethods: [...CORS.allowMethods],
        MaxAge: CORS.maxAgeSeconds,
      },
    });
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

  it('publishes the API URL', () => {
    template.hasOutput('ApiUrl', { Value: Match.anyValue() });
  });
});
