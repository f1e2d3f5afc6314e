import { runInNewContext } from 'node:vm';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { CachePolicy, OriginRequestPolicy } from 'aws-cdk-lib/aws-cloudfront';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { BucketDeployment } from 'aws-cdk-lib/aws-s3-deployment';
import { API_PATH_PATTERN, CONSOLE_VIEWER_REQUEST_CODE } from '../../lib/constructs/console-hosting';
import { REPOSITORY_ROOT } from '../../lib/constructs/function-bundling';
import { ROUTES } from '../../lib/definitions/api';
import {
  CONSOLE_ASSET_CACHE_CONTROL,
  CONSOLE_CONTENT_SECURITY_POLICY,
  CONSOLE_PAGE_CACHE_CONTROL,
  CONSOLE_SECURITY_HEADERS,
} from '../../lib/definitions/console';
import { attributeOf, expectResourceLike, followReference, synthesizePlatform } from './platform-fixture';

const synthesized = synthesizePlatform();
const { console: consoleStack, ingestion } = synthesized.platform;
const template = synthesized.templates.console;
const logicalIdOf = (element: { node: { defaultChild?: unknown } }): string => consoleStack.getLogicalId(element.node.defaultChild as CfnElement);
const bucketId = logicalIdOf(consoleStack.hosting.bucket);
const distributionId = logicalIdOf(consoleStack.hosting.distribution);

interface Behavior {
  readonly TargetOriginId: string;
  readonly PathPattern?: string;
  readonly CachePolicyId?: string;
  readonly OriginRequestPolicyId?: string;
  readonly AllowedMethods?: string[];
  readonly ViewerProtocolPolicy?: string;
  readonly ResponseHeadersPolicyId?: unknown;
  readonly FunctionAssociations?: { EventType: string; FunctionARN: unknown }[];
}
interface Origin {
  readonly Id: string;
  readonly DomainName: unknown;
  readonly OriginAccessControlId?: unknown;
  readonly S3OriginConfig?: { OriginAccessIdentity?: string };
}
interface DistributionConfig {
  readonly DefaultCacheBehavior: Behavior;
  readonly CacheBehaviors?: Behavior[];
  readonly Origins: Origin[];
}
interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal: unknown;
  readonly Action: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const resourcesOf = (type: string): Record<string, { Properties: Record<string, unknown>; DependsOn?: string[] }> =>
  template.findResources(type) as Record<string, { Properties: Record<string, unknown>; DependsOn?: string[] }>;
const distributionConfig = (): DistributionConfig => {
  const distribution = resourcesOf('AWS::CloudFront::Distribution')[distributionId];
  if (!distribution) throw new Error(`no distribution ${distributionId}`);
  return distribution.Properties.DistributionConfig as DistributionConfig;
};
const originOf = (behavior: Behavior): Origin => {
  const origin = distributionConfig().Origins.find(({ Id }) => Id === behavior.TargetOriginId);
  if (!origin) throw new Error(`no origin ${behavior.TargetOriginId}`);
  return origin;
};
const apiBehavior = (): Behavior => {
  const behavior = distributionConfig().CacheBehaviors?.find(({ PathPattern }) => PathPattern === API_PATH_PATTERN);
  if (!behavior) throw new Error(`no ${API_PATH_PATTERN} behavior`);
  return behavior;
};

describe('the console bucket', () => {
  it('is private, encrypted, TLS only, logged and not a website', () => {
    expectResourceLike(template, 'AWS::S3::Bucket', bucketId, {
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
        WebsiteConfiguration: Match.absent(),
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('lets only this distribution read it, through origin access control (no origin access identity)', () => {
    const bucketOrigin = originOf(distributionConfig().DefaultCacheBehavior);
    expect(bucketOrigin.DomainName).toEqual({ 'Fn::GetAtt': [bucketId, 'RegionalDomainName'] });
    expect(bucketOrigin.OriginAccessControlId).toBeDefined();
    expect(bucketOrigin.S3OriginConfig?.OriginAccessIdentity ?? '').toBe('');
    template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 0);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });

    const [policy, ...others] = Object.values(resourcesOf('AWS::S3::BucketPolicy')).filter(
      ({ Properties }) => JSON.stringify(Properties.Bucket) === JSON.stringify({ Ref: bucketId }),
    );
    expect(others).toEqual([]);
    const allows = ((policy?.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement ?? []).filter(({ Effect }) => Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({ Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' });
    expect(JSON.stringify(allows[0]?.Condition?.StringEquals?.['AWS:SourceArn'])).toContain(JSON.stringify({ Ref: distributionId }));
  });

  it('receives the build under console/: hashed assets cached a year, then the page revalidated at each load', () => {
    const deployments = Object.entries(resourcesOf('Custom::CDKBucketDeployment'));
    const byInclude = (file: string) => deployments.find(([, { Properties }]) => JSON.stringify(Properties.Include) === JSON.stringify([file]));
    const [assetsId, assets] = byInclude('assets/*') ?? [];
    const [, page] = byInclude('index.html') ?? [];
    expect(deployments).toHaveLength(2);
    for (const deployment of [assets, page]) {
      expect(deployment?.Properties).toMatchObject({ DestinationBucketName: { Ref: bucketId }, DestinationBucketKeyPrefix: 'console/', Exclude: ['*'] });
    }
    expect(assets?.Properties.SystemMetadata).toEqual({ 'cache-control': CONSOLE_ASSET_CACHE_CONTROL });
    expect(page?.Properties.SystemMetadata).toEqual({ 'cache-control': CONSOLE_PAGE_CACHE_CONTROL });
    expect(page?.DependsOn).toContain(assetsId);
  });

  it('is not built by a synth that skips bundling (the local platform, these tests)', () => {
    const builds = consoleStack.node
      .findAll()
      .filter((construct): construct is Asset => construct instanceof Asset && construct.node.scope instanceof BucketDeployment);
    expect(builds).toHaveLength(2);
    // A skipped bundling stages nothing: the asset stays the folder it would be built from.
    for (const build of builds) expect(build.assetPath).toBe(REPOSITORY_ROOT);
  });
});

describe('the distribution', () => {
  it('sends /v1/* to the HTTP API, uncached, with every method, the Authorization header, query strings and bodies', () => {
    const behavior = apiBehavior();
    expect(behavior).toMatchObject({
      CachePolicyId: CachePolicy.CACHING_DISABLED.cachePolicyId,
      OriginRequestPolicyId: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
      ViewerProtocolPolicy: 'https-only',
    });
    expect([...(behavior.AllowedMethods ?? [])].sort()).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
    expect(followReference(synthesized, consoleStack, originOf(behavior).DomainName)).toEqual({
      stackName: ingestion.stackName,
      expression: {
        'Fn::Join': [
          '',
          [attributeOf(ingestion.httpApi, ingestion.httpApi.apiId).expression, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }],
        ],
      },
    });
  });

  it('routes every route of the API through that behavior', () => {
    const prefix = API_PATH_PATTERN.replace(/\*$/, '');
    expect(ROUTES.map(({ path }) => path).filter((path) => !path.startsWith(prefix))).toEqual([]);
  });

  it('adds the local platform’s security headers, exactly, to the console’s responses', () => {
    const [policyId, policy] = Object.entries(resourcesOf('AWS::CloudFront::ResponseHeadersPolicy'))[0] ?? [];
    expect(distributionConfig().DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual({ Ref: policyId });
    const config = policy?.Properties.ResponseHeadersPolicyConfig as {
      SecurityHeadersConfig: {
        ContentSecurityPolicy: { ContentSecurityPolicy: string };
        ContentTypeOptions?: object;
        ReferrerPolicy: { ReferrerPolicy: string };
      };
      CustomHeadersConfig: { Items: { Header: string; Value: string }[] };
    };
    expect(config.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
    const sent: Record<string, string> = {
      'content-security-policy': config.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy,
      ...(config.SecurityHeadersConfig.ContentTypeOptions && { 'x-content-type-options': 'nosniff' }),
      'referrer-policy': config.SecurityHeadersConfig.ReferrerPolicy.ReferrerPolicy,
      ...Object.fromEntries(config.CustomHeadersConfig.Items.map(({ Header, Value }) => [Header, Value])),
    };
    expect(sent).toEqual(CONSOLE_SECURITY_HEADERS);
  });

  it('runs the console function on viewer requests to the bucket', () => {
    const [functionId, fn] = Object.entries(resourcesOf('AWS::CloudFront::Function'))[0] ?? [];
    expect(fn?.Properties).toMatchObject({ FunctionCode: CONSOLE_VIEWER_REQUEST_CODE, FunctionConfig: { Runtime: 'cloudfront-js-2.0' } });
    expect(distributionConfig().DefaultCacheBehavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [functionId, 'FunctionARN'] } },
    ]);
    expect(apiBehavior().FunctionAssociations).toBeUndefined();
  });

  it('outputs the console URL', () => {
    template.hasOutput('ConsoleUrl', {
      Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }, '/console/']] },
    });
  });
});

describe('the viewer request function', () => {
  type ViewerRequest = { uri: string; querystring: Record<string, unknown>; headers: Record<string, unknown> };
  const handler = runInNewContext(`${CONSOLE_VIEWER_REQUEST_CODE}\nhandler;`) as (event: { request: ViewerRequest }) => unknown;
  const viewerRequest = (uri: string): unknown => handler({ request: { uri, querystring: {}, headers: { host: { value: 'd111.cloudfront.net' } } } });

  it.each(['/console', '/console/'])('answers %s with the page', (uri) => {
    expect(viewerRequest(uri)).toMatchObject({ uri: '/console/index.html' });
  });

  it.each(['/console/index.html', '/console/assets/index-CCMERMu1.js', '/console/assets/index-E7XTgJ22.css', '/v1/segments', '/favicon.ico'])(
    'leaves %s as asked',
    (uri) => {
      expect(viewerRequest(uri)).toMatchObject({ uri, headers: { host: { value: 'd111.cloudfront.net' } } });
    },
  );

  it('redirects / to the console', () => {
    expect(viewerRequest('/')).toEqual({ statusCode: 302, statusDescription: 'Found', headers: { location: { value: '/console/' } } });
  });
});
