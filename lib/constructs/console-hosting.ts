import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DefaultStackSynthesizer, DockerImage, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  Function as CloudFrontFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginRequestPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source, type ISource } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { CONSOLE_ASSET_CACHE_CONTROL, CONSOLE_PAGE_CACHE_CONTROL, CONSOLE_PREFIX, CONSOLE_SECURITY_HEADERS } from '../definitions/console';
import { REPOSITORY_ROOT } from './function-bundling';

/** The API's paths: routed to the HTTP API, so the console calls it on its own origin (`connect-src 'self'`). */
export const API_PATH_PATTERN = '/v1/*';

/**
 * The CloudFront Function in front of the bucket (viewer request, JavaScript runtime 2.0): `/`
 * redirects to the console, `/console` and `/console/` answer its page. Other paths go to the
 * bucket as asked (the assets, by their hashed names).
 */
export const CONSOLE_VIEWER_REQUEST_CODE = `function handler(event) {
  var request = event.request;
  if (request.uri === '/') {
    return { statusCode: 302, statusDescription: 'Found', headers: { location: { value: '${CONSOLE_PREFIX}/' } } };
  }
  if (request.uri === '${CONSOLE_PREFIX}' || request.uri === '${CONSOLE_PREFIX}/') {
    request.uri = '${CONSOLE_PREFIX}/index.html';
  }
  return request;
}
`;

export interface ConsoleHostingProps {
  /** The platform's HTTP API (its `$default` stage), served under `/v1/*` of the console's origin. */
  readonly httpApi: IHttpApi;
}

/**
 * The marketer console on AWS: its build in a private bucket, read by CloudFront through origin
 * access control and served at `https://<distribution>/console/` with the same security headers
 * as the local platform; `/v1/*` of the same distribution goes to the HTTP API, uncached.
 */
export class ConsoleHosting extends Construct {
  public readonly bucket: Bucket;
  public readonly distribution: Distribution;
  /** `https://<distribution domain>/console/`. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the server access logs of the console bucket; logging its own access would log the logging.',
    });
    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'console-files/',
    });

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Customer data platform: marketer console and its API',
      httpVersion: HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        // The objects' Cache-Control (set by the deployments below) decides: the page is revalidated, assets kept.
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.securityHeadersPolicy(),
        functionAssociations: [
          {
            eventType: FunctionEventType.VIEWER_REQUEST,
            function: new CloudFrontFunction(this, 'ViewerRequest', {
              comment: 'Redirects / to the console and serves its page at /console and /console/',
              runtime: FunctionRuntime.JS_2_0,
              code: FunctionCode.fromInline(CONSOLE_VIEWER_REQUEST_CODE),
            }),
          },
        ],
      },
      additionalBehaviors: {
        [API_PATH_PATTERN]: {
          origin: new HttpOrigin(`${props.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`),
          // No redirect: a redirected POST would lose its body, and the token was sent in clear already.
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          // With caching disabled, an all-viewer origin request policy forwards Authorization (the
          // admin token) too, and query strings and bodies; the API needs its own Host header.
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
      },
    });
    this.url = `https://${this.distribution.distributionDomainName}${CONSOLE_PREFIX}/`;
    this.acknowledgeDistributionFindings();
    this.deployBuild();
  }

  /** The local platform's headers (lib/definitions/console.ts), and HSTS, which only means something over HTTPS. */
  private securityHeadersPolicy(): ResponseHeadersPolicy {
    // CloudFront takes these three as security headers (its content type option can only be
    // `nosniff`), and refuses them as custom headers; the others are custom headers.
    const {
      'content-security-policy': contentSecurityPolicy,
      'x-content-type-options': _nosniff,
      'referrer-policy': referrerPolicy,
      ...otherHeaders
    } = CONSOLE_SECURITY_HEADERS;
    const referrer = Object.values(HeadersReferrerPolicy).find((policy) => policy === referrerPolicy);
    if (!referrer) throw new Error(`CloudFront has no referrer policy ${referrerPolicy}`);
    return new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'The marketer console: the headers the local platform sends too (lib/definitions/console.ts)',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy, override: true },
        contentTypeOptions: { override: true },
        referrerPolicy: { referrerPolicy: referrer, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: false, override: true },
      },
      customHeadersBehavior: {
        customHeaders: Object.entries(otherHeaders).map(([header, value]) => ({ header, value, override: true })),
      },
    });
  }

  private acknowledgeDistributionFindings(): void {
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Marketers sign in from wherever they work; the admin token, not the country, decides who may use the console.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'No WAF web ACL (about $5 a month and per rule): the console is static files and every API request is authenticated ' +
          'and throttled by the HTTP API stage, as it is when called directly.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'No CloudFront access logs: they would record the viewer IP and path of every API request, and profile paths carry ' +
          "e-mail addresses and phone numbers, which the HTTP API's own access logs leave out on purpose. The console " +
          "bucket's server access logs and CloudFront's metrics remain.",
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          "The distribution's default *.cloudfront.net certificate does not let the minimum TLS version be chosen; with a custom " +
          'domain and its ACM certificate, set minimumProtocolVersion to TLSv1.2_2021.',
      },
    );
  }

  /**
   * Uploads the console's build under `console/`: the hashed assets first, cached a year, then
   * index.html, revalidated at each load, so a page never names an asset not there yet. Old assets
   * are kept (no prune): a page loaded before a deploy still finds its files.
   */
  private deployBuild(): void {
    const build = consoleBuildSource();
    const destinationKeyPrefix = `${CONSOLE_PREFIX.slice(1)}/`;
    const assets = new BucketDeployment(this, 'DeployAssets', {
      sources: [build],
      destinationBucket: this.bucket,
      destinationKeyPrefix,
      exclude: ['*'],
      include: ['assets/*'],
      cacheControl: [CacheControl.fromString(CONSOLE_ASSET_CACHE_CONTROL)],
      prune: false,
    });
    const page = new BucketDeployment(this, 'DeployPage', {
      sources: [build],
      destinationBucket: this.bucket,
      destinationKeyPrefix,
      exclude: ['*'],
      include: ['index.html'],
      cacheControl: [CacheControl.fromString(CONSOLE_PAGE_CACHE_CONTROL)],
      prune: false,
    });
    page.node.addDependency(assets);
    acknowledgeDeploymentFindings(assets, this.bucket);
  }
}

/** Folders of a checkout that Docker builds do without (see .gitignore). */
const UNVERSIONED_FOLDERS = ['.git', 'node_modules', 'cdk.out', '.dmp', 'coverage', 'tmp', 'console/dist'] as const;

/**
 * The console's build as an asset: made when the stack is bundled (`cdk synth`, `cdk deploy`), not
 * when bundling is skipped (the local platform's and the infra tests' synths). Built like the local
 * platform builds it (`ensureConsoleBuilt`, local/console.ts), or in Docker when Vite is not
 * installed (`npm ci --omit=dev`). The asset's hash is the build's, so an unchanged console is not
 * uploaded again.
 */
function consoleBuildSource(): ISource {
  return Source.asset(REPOSITORY_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('node:22-slim'),
      environment: { npm_config_cache: '/tmp/npm-cache' },
      command: [
        'bash',
        '-c',
        [
          'mkdir /tmp/repository',
          // The sources without what .gitignore leaves out (installed packages, builds, local data).
          `tar -C /asset-input ${UNVERSIONED_FOLDERS.map((folder) => `--exclude=./${folder}`).join(' ')} -cf - . | tar -C /tmp/repository -xf -`,
          'cd /tmp/repository',
          'npm ci --ignore-scripts --no-audit --no-fund',
          'npm run build:console',
          'cp -r console/dist/*/. /asset-output/',
        ].join(' && '),
      ],
      local: { tryBundle: buildConsoleLocally },
    },
  });
}

/**
 * Builds the console with `ensureConsoleBuilt` (content-addressed: an existing build of the same
 * sources is reused) and copies it into `outputDir`. CDK's `tryBundle` is synchronous and
 * `ensureConsoleBuilt` is not, so it runs in a child Node that prints the build's folder.
 */
function buildConsoleLocally(outputDir: string): boolean {
  // Without Vite (a production install), CDK builds in Docker instead.
  if (!existsSync(path.join(REPOSITORY_ROOT, 'node_modules', 'vite', 'package.json'))) return false;
  const consoleModule = JSON.stringify(path.join(REPOSITORY_ROOT, 'local', 'console.ts'));
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--eval', `require(${consoleModule}).ensureConsoleBuilt().then((build) => process.stdout.write(build.directory))`],
    { cwd: REPOSITORY_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (child.status !== 0) throw new Error(`the console's build failed (npm run build:console shows why):\n${child.stderr || child.error?.message}`);
  cpSync(child.stdout, outputDir, { recursive: true });
  return true;
}

/**
 * cdk-nag's findings on the deployments' handler (a CDK singleton Lambda function, one per stack)
 * and its role, whose policy CDK writes: read the staged build, replace the console's files.
 */
function acknowledgeDeploymentFindings(deployment: BucketDeployment, bucket: Bucket): void {
  const handler = deployment.handlerRole.node.scope;
  if (!handler) throw new Error('the bucket deployment handler is not in the construct tree');
  const stack = Stack.of(bucket);
  const qualifier = stack.synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
  const bucketLogicalId = stack.getLogicalId(bucket.node.defaultChild as CfnBucket);
  const grantedByCdk = "Granted by CDK's BucketDeployment (grantRead on the staged asset, grantReadWrite on the console bucket):";
  Validations.of(handler).acknowledge(
    {
      id: 'AwsSolutions-L1',
      reason: "CDK's BucketDeployment handler: its runtime is chosen and updated with aws-cdk-lib, not by this project.",
    },
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's BucketDeployment handler writes its own logs with the AWS managed basic execution policy.",
    },
    ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `${grantedByCdk} the action groups of its grants, on those two buckets only.`,
    })),
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*]`,
      reason: `${grantedByCdk} the objects of the CDK bootstrap assets bucket, where the build is staged under a hashed name.`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/*]`,
      reason: `${grantedByCdk} every object of the console bucket, which holds only the console's build.`,
    },
  );
}
