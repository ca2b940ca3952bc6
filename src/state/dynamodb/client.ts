/**
 * Builds the DynamoDB client (which of its errors are transient: retriable.ts).
 *
 * @module
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ConfigError } from "../../util/errors.ts";
import { Series } from "../../util/metrics.ts";

/** DynamoDB requests rejected for throughput, every attempt counted (the SDK's retries too). */
export const throttles = new Series(
  "orderstats_dynamodb_throttles_total",
  "DynamoDB requests (attempts) rejected by throttling, including the SDK's own retries",
  "counter",
);

/** How long a connection to DynamoDB may take to open. */
const CONNECT_TIMEOUT_MS = 3_000;
/** How long a request may wait for DynamoDB's answer (they take milliseconds). */
const REQUEST_TIMEOUT_MS = 10_000;

/** Where the table lives; unset fields are left to the AWS SDK's default chains. */
export interface DynamoConnection {
  /** Endpoint URL; unset: the SDK's (`endpoint_url` in the profile, else AWS's). */
  endpoint?: string;
  /** Region; unset: the SDK's chain (the profile's `region`, then instance metadata). */
  region?: string;
}

/** What DynamoDB Local gets when nothing else is configured: it accepts any key and region. */
const PLACEHOLDER = {
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
  region: "us-east-1",
};

/** Where the SDK reads an endpoint from the environment, most specific first. */
const ENDPOINT_VARIABLES = ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"] as const;

/**
 * The endpoint the SDK takes from the environment when none is given explicitly, and the
 * variable it came from (`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` turns them off).
 */
export function endpointFromEnv(
  env: Record<string, string | undefined>,
): { variable: string; url: string } | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === "true") return undefined;
  for (const variable of ENDPOINT_VARIABLES) {
    const url = env[variable];
    if (url) return { variable, url };
  }
  return undefined;
}

/** True for `localhost`, `127.0.0.0/8` and `[::1]`: a DynamoDB Local, never AWS. */
export function isLoopback(endpoint: string | undefined): boolean {
  if (endpoint === undefined || !URL.canParse(endpoint)) return false;
  const host = new URL(endpoint).hostname;
  return host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * A client for AWS or, with `endpoint`, a local DynamoDB. Region and credentials come
 * from the SDK's own default chains (environment, shared config and credentials files,
 * SSO, web identity, container and instance roles). Only for a loopback endpoint, and
 * only when those chains find nothing, placeholder ones are used instead of failing.
 */
export function dynamoClient(
  { endpoint, region }: DynamoConnection,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): DynamoDBClient {
  // A client built without overrides resolves exactly the SDK's default chains.
  const sdk = new DynamoDBClient({ endpoint }).config;
  const local = isLoopback(endpoint ?? endpointFromEnv(env)?.url);
  return new DynamoDBClient({
    endpoint,
    region: region ?? orElse<string>(sdk.region, local ? PLACEHOLDER.region : undefined, noRegion),
    credentials: orElse(
      sdk.credentials,
      local ? PLACEHOLDER.credentials : undefined,
      noCredentials,
    ),
    maxAttempts: 3,
    // A store that stops answering (frozen, a half-open connection) fails the request, which
    // is retried, instead of hanging the batch forever.
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  });
}

function noRegion(cause: unknown): never {
  throw new ConfigError(
    "no AWS region for DynamoDB: set --ddb-region or AWS_REGION (or AWS_DEFAULT_REGION, " +
      "or `region` in the AWS profile)",
    { cause },
  );
}

function noCredentials(cause: unknown): never {
  // Other failures (an expired SSO token, an unreachable role endpoint) keep their own error.
  if (!(cause instanceof Error) || cause.name !== "CredentialsProviderError") throw cause;
  throw new ConfigError(
    "no AWS credentials for DynamoDB: the AWS SDK's chain found none (AWS_ACCESS_KEY_ID and " +
      "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, AWS_WEB_IDENTITY_TOKEN_FILE, container or " +
      "instance role)",
    { cause },
  );
}

/** `chain`, or `placeholder` when the chain finds nothing; else `fail`. */
function orElse<T>(
  chain: () => Promise<T>,
  placeholder: T | undefined,
  fail: (cause: unknown) => never,
): () => Promise<T> {
  return async () => {
    try {
      return await chain();
    } catch (error) {
      if (placeholder !== undefined) return placeholder;
      return fail(error);
    }
  };
}

const THROTTLE_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
]);

/** True when DynamoDB refused for throughput (a cancelled transaction included). */
export function isThrottle(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (THROTTLE_NAMES.has(error.name)) return true;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return reasons?.some((r) => r.Code === "ThrottlingError") ?? false;
}
