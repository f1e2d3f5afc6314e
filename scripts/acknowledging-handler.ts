/**
 * A function that does no work: an SQS batch response with no failures. Benchmarks put it in
 * place of the consumers (PlatformOptions.handlerModules) to measure ingestion alone.
 */
export const handler = async (): Promise<{ batchItemFailures: [] }> => ({ batchItemFailures: [] });
