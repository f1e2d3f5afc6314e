/**
 * AWS list prices used by the benchmarks' cost models: us-east-1, on-demand, no free tier.
 * Source: the AWS pricing pages of each service (aws.amazon.com/<service>/pricing/), as quoted in
 * issue 13; recorded 2026-12-03. Check them before relying on a total.
 */
export const AWS_PRICES = {
  /** HTTP API, first 300 million requests a month; a request is metered in 512 KB increments. */
  apiGatewayHttpRequestPerMillion: 1.0,
  apiGatewayHttpMeteringBytes: 512 * 1024,
  /** Standard queues; each 64 KB chunk of a request's payload is billed as one request. */
  sqsRequestPerMillion: 0.4,
  /** x86_64; arm64 (what DmpFunction deploys) is 20 % less. */
  lambdaX86GbSecond: 0.0000166667,
  lambdaArm64GbSecond: 0.0000133334,
  lambdaRequestPerMillion: 0.2,
  /** DynamoDB on-demand (since 1 November 2024), Standard table class. */
  dynamoDbWriteRequestUnitPerMillion: 0.625,
  dynamoDbReadRequestUnitPerMillion: 0.125,
  dynamoDbStorageGbMonth: 0.25,
  /** Standard log class, ingestion. */
  cloudWatchLogsIngestedGb: 0.5,
  /** Standard workflows. */
  stepFunctionsTransitionPerThousand: 0.025,
} as const;
