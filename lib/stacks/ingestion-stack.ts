import { CfnOutput, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { ADMIN_CORS_ORIGINS_ENV, SITE_ORIGINS_ENV } from '../definitions/cors';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { type CfnStage, HttpApi, HttpMethod, LogGroupLogDestination, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Function as LambdaFunction, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { corsPolicyOf, DECIDE_ROUTES, DECIDE_THROTTLING, parseCorsOrigins, ROUTES, THROTTLING } from '../definitions/api';
import { functionDefinition, type FunctionId } from '../definitions/functions';
import { DmpFunction, type DataResources } from '../constructs/dmp-function';

/** Functions that live in this stack; every other function belongs to the processing stack. */
export const INGESTION_FUNCTION_IDS: readonly FunctionId[] = ['ingest', 'decide'];

/**
 * One JSON object per request. Only what operating the API needs: the route key rather than the
 * path (profile paths carry e-mail addresses and phone numbers), and no source IP or user agent,
 * which are personal data.
 */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
};

export interface IngestionStackProps extends StackProps {
  /** Tables, queues and secret parameters of the storage stack. */
  readonly resources: DataResources;
  /** Functions built elsewhere that routes of ROUTES point to. */
  readonly functions: ReadonlyMap<FunctionId, IFunction>;
}

/** CDK context: the origins whose web pages may call the admin APIs (CORS); none by default. */
export const ADMIN_CORS_ORIGINS_CONTEXT = 'dmp:adminCorsOrigins';

/** CDK context: the origins of the sites whose pages ask for decisions (CORS); any origin by default. */
export const SITE_ORIGINS_CONTEXT = 'dmp:siteOrigins';

/**
 * The public HTTP API: every route of ROUTES on the function of its `functionId`, stage-wide
 * throttling and JSON access logs; and the functions behind tracking and decisions. No API-wide CORS
 * configuration: the functions answer CORS by route family (`CorsPolicy` in
 * lib/definitions/cors.ts); the admin ones get the allow-list of the context `dmp:adminCorsOrigins`,
 * the decide function the sites of `dmp:siteOrigins`. The decide route has its own throttling.
 */
export class IngestionStack extends Stack {
  public readonly functions: ReadonlyMap<FunctionId, IFunction>;
  public readonly httpApi: HttpApi;
  public readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: IngestionStackProps) {
    super(scope, id, props);
    this.functions = new Map(
      INGESTION_FUNCTION_IDS.map((functionId) => [
        functionId,
        new DmpFunction(this, functionId, { definition: functionDefinition(functionId), resources: props.resources }).function,
      ]),
    );

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Tracking (Segment-compatible) and admin APIs of the customer data platform',
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = this.httpApi.addStage('DefaultStage', {
      autoDeploy: true,
      throttle: { rateLimit: THROTTLING.rateLimit, burstLimit: THROTTLING.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    // The decide route's own throttling: a flood of decisions (the write key is public) keeps off the Tracking API's share.
    (this.stage.node.defaultChild as CfnStage).routeSettings = Object.fromEntries(
      DECIDE_ROUTES.map((route) => [
        `${route.method} ${route.path}`,
        // A JSON property: CloudFormation's names, not CDK's camel case.
        { ThrottlingRateLimit: DECIDE_THROTTLING.rateLimit, ThrottlingBurstLimit: DECIDE_THROTTLING.burstLimit },
      ]),
    );

    const adminCorsOrigins = parseCorsOrigins(this.node.tryGetContext(ADMIN_CORS_ORIGINS_CONTEXT));
    const siteOrigins = parseCorsOrigins(this.node.tryGetContext(SITE_ORIGINS_CONTEXT));
    const integrations = new Map<FunctionId, HttpLambdaIntegration>();
    for (const route of ROUTES) {
      const handler = this.functions.get(route.functionId) ?? props.functions.get(route.functionId);
      if (!handler) throw new Error(`route ${route.method} ${route.path} needs function ${route.functionId}`);
      if (!integrations.has(route.functionId) && corsPolicyOf(route.functionId) === 'admin-origins' && adminCorsOrigins.length > 0) {
        if (!(handler instanceof LambdaFunction)) throw new Error(`admin function ${route.functionId} cannot take the CORS allow-list`);
        handler.addEnvironment(ADMIN_CORS_ORIGINS_ENV, adminCorsOrigins.join(','));
      }
      if (!integrations.has(route.functionId) && corsPolicyOf(route.functionId) === 'site-origins' && siteOrigins.length > 0) {
        if (!(handler instanceof LambdaFunction)) throw new Error(`site function ${route.functionId} cannot take the site origins`);
        handler.addEnvironment(SITE_ORIGINS_ENV, siteOrigins.join(','));
      }
      const integration = integrations.get(route.functionId) ?? new HttpLambdaIntegration(`${route.functionId}Integration`, handler);
      integrations.set(route.functionId, integration);
      this.httpApi.addRoutes({ path: route.path, methods: [HttpMethod[route.method]], integration });
    }

    const authorizedInFunctions =
      'Credentials are verified by the functions: the Tracking API takes the Segment write key as Basic user or in the ' +
      'JSON body (which an authorizer cannot read), admin APIs compare bearer tokens with SHA-256 hashes in constant time.';
    Validations.of(this.httpApi).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: authorizedInFunctions },
      { id: 'AwsSolutions-COG4', reason: `${authorizedInFunctions} Callers are apps and operators, not Cognito users.` },
    );

    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the Tracking and admin APIs', value: this.stage.url });
  }
}
