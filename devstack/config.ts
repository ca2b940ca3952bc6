/**
 * Ports of the local stack, each overridable from the environment. The single source of
 * the defaults: devstack/stack.ts and devstack/lib/env.ts (tests, bench, demo) both read it.
 *
 * @module
 */

/** The TCP ports the local stack listens on (all on 127.0.0.1). */
export interface StackPorts {
  /** Kafka PLAINTEXT listener. @default {9092} */
  kafka: number;
  /** Kafka KRaft controller listener. @default {9093} */
  kafkaController: number;
  /** Kafka SSL listener (TLS, client certificate required). @default {9094} */
  kafkaSsl: number;
  /** Kafka SASL_SSL listener (SCRAM-SHA-256/512, PLAIN over TLS). @default {9095} */
  kafkaSasl: number;
  /** DynamoDB Local. @default {8000} */
  dynamodb: number;
  /** FerretDB (Mongo wire protocol, no change streams). @default {27018} */
  ferretdb: number;
  /** The change-stream proxy in front of FerretDB: the project's Mongo endpoint. @default {27017} */
  mongo: number;
}

/** Loopback address every service binds to and every client dials. */
export const HOST = "127.0.0.1";

const ENV_NAMES: Readonly<Record<keyof StackPorts, [string, number]>> = {
  kafka: ["KAFKA_PORT", 9092],
  kafkaController: ["KAFKA_CONTROLLER_PORT", 9093],
  kafkaSsl: ["KAFKA_SSL_PORT", 9094],
  kafkaSasl: ["KAFKA_SASL_PORT", 9095],
  dynamodb: ["DDB_PORT", 8000],
  ferretdb: ["FERRETDB_PORT", 27018],
  mongo: ["MONGO_PORT", 27017],
};

/**
 * Reads the stack's ports from the environment, falling back to the defaults.
 *
 * @param env Looks up one variable; defaults to `Deno.env.get`.
 * @returns The ports.
 * @throws {RangeError} When a variable is set but is not a TCP port.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(stackPorts(() => undefined).kafka, 9092);
 * equal(stackPorts((n) => (n === "DDB_PORT" ? "8001" : undefined)).dynamodb, 8001);
 * ```
 */
export function stackPorts(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): StackPorts {
  const entries = Object.entries(ENV_NAMES).map(([key, [name, fallback]]) => {
    const raw = env(name);
    if (raw === undefined || raw === "") return [key, fallback];
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(
        `Cannot use ${name} as a port: expected an integer in 1-65535, got '${raw}'`,
      );
    }
    return [key, port];
  });
  return Object.fromEntries(entries) as StackPorts;
}
