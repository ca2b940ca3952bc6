/**
 * Builds the DynamoDB client (which of its errors are transient: retriable.ts).
 *
 * @module
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/** Where the table lives. */
export interface DynamoConnection {
  endpoint?: string;
  region: string;
}

/**
 * A client for AWS or, with `endpoint`, a local DynamoDB. DynamoDB Local accepts any
 * credentials, so a local endpoint without AWS credentials in the environment gets
 * placeholder ones instead of failing the SDK's credential chain.
 */
export function dynamoClient(
  { endpoint, region }: DynamoConnection,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): DynamoDBClient {
  const local = endpoint !== undefined && env.AWS_ACCESS_KEY_ID === undefined &&
    env.AWS_PROFILE === undefined;
  return new DynamoDBClient({
    region,
    endpoint,
    maxAttempts: 3,
    ...(local ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  });
}
