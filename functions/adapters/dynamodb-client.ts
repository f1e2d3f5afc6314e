import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { threadCapacityMeter } from './dynamodb-capacity-meter';

/**
 * The DynamoDB client of a function: region, credentials and endpoint from the environment
 * (`AWS_ENDPOINT_URL_DYNAMODB` on the local platform). With `DMP_MEASURE_CAPACITY=1` (benchmarks
 * running the local platform in their own process) its thread's capacity meter sees its requests.
 */
export function createDynamoDbClient(env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  const client = new DynamoDBClient({});
  if (env.DMP_MEASURE_CAPACITY === '1') threadCapacityMeter().install(client);
  return client;
}
