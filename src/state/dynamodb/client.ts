/**
 * Builds the DynamoDB client and decides which of its errors are transient.
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

const TRANSIENT_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TransactionConflictException",
  "TimeoutError",
]);
const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT"]);

/** True for throttling, server-side and connection errors, which a retry may cure. */
export function isTransientDynamoError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (TRANSIENT_NAMES.has(error.name)) return true;
  const meta = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  if (meta?.httpStatusCode !== undefined && meta.httpStatusCode >= 500) return true;
  const code = (error as { code?: string }).code;
  return code !== undefined && NETWORK_CODES.has(code);
}
