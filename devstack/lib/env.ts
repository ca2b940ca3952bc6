/**
 * Endpoints of the local stack for tests, benchmarks and the demo (ports from the same env
 * variables as devstack/stack.ts: KAFKA_PORT, KAFKA_SSL_PORT, KAFKA_SASL_PORT, DDB_PORT,
 * FERRETDB_PORT, MONGO_PORT), plus unique names.
 *
 * @module
 */
import { HOST, stackPorts } from "../config.ts";

/** Kafka bootstrap brokers, e.g. `["127.0.0.1:9092"]`. */
export function kafkaBrokers(): string[] {
  return [`${HOST}:${stackPorts().kafka}`];
}

/** The broker's TLS listener (client certificate required), e.g. `["127.0.0.1:9094"]`. */
export function kafkaSslBrokers(): string[] {
  return [`${HOST}:${stackPorts().kafkaSsl}`];
}

/** The broker's SASL_SSL listener (SCRAM-SHA-256/512, PLAIN), e.g. `["127.0.0.1:9095"]`. */
export function kafkaSaslBrokers(): string[] {
  return [`${HOST}:${stackPorts().kafkaSasl}`];
}

/** DynamoDB Local endpoint URL, e.g. `"http://127.0.0.1:8000"`. */
export function ddbEndpoint(): string {
  return `http://${HOST}:${stackPorts().dynamodb}`;
}

/**
 * Options for `new DynamoDBClient(…)` against DynamoDB Local: fake credentials (it runs with
 * -sharedDb, so any region and key see the same tables) and a short connect timeout.
 */
export function ddbClientConfig(): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number };
} {
  return {
    endpoint: ddbEndpoint(),
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
  };
}

/** The project's Mongo endpoint: the change-stream proxy over FerretDB, replica set `rs0`. */
export function mongoUri(): string {
  return `mongodb://${HOST}:${stackPorts().mongo}/?replicaSet=rs0&directConnection=true`;
}

/** FerretDB itself (no change streams, no replica set). */
export function ferretUri(): string {
  return `mongodb://${HOST}:${stackPorts().ferretdb}/?directConnection=true`;
}

/**
 * A name no other test run uses: `<prefix>-<time>-<random>`, letters, digits and `-` only
 * (valid for Kafka topics, DynamoDB tables and Mongo collections).
 *
 * @example
 * ```ts
 * import { match } from "node:assert/strict";
 * match(uniqueName("orders"), /^orders-[0-9a-z]+-[0-9a-f]{8}$/);
 * ```
 */
export function uniqueName(prefix: string): string {
  const random = Array.from(
    crypto.getRandomValues(new Uint8Array(4)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return `${prefix}-${Date.now().toString(36)}-${random}`;
}

/**
 * Runs `connect` (a client's first call to `service`) and, when it fails, throws an error
 * that says the local stack is not running and how to start it.
 */
export async function connectOrExplain<T>(
  service: string,
  endpoint: string,
  connect: () => Promise<T>,
): Promise<T> {
  try {
    return await connect();
  } catch (error) {
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(
      `${service} is unreachable at ${endpoint} (${why}). Integration tests need the local ` +
        "stack: run `deno task stack:up` (status: `deno task stack:status`).",
      { cause: error },
    );
  }
}

/** A local port nothing listens on (bound and released), for "unreachable" cases. */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
