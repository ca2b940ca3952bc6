/**
 * Connecting KafkaJS clients with failures that say what went wrong and which setting to
 * check: an unreachable broker, a failed TLS handshake and rejected SASL credentials all
 * become an {@link UnavailableError} (exit code 5).
 *
 * @module
 */
import { UnavailableError } from "../../util/errors.ts";
import type { KafkaConnection } from "./client.ts";

/** KafkaJS errors that mean the brokers could not be reached or refused us. */
const UNREACHABLE = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSNumberOfRetriesExceeded",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSSASLAuthenticationError",
]);

function hint(error: Error, connection: KafkaConnection): string {
  if (error.name === "KafkaJSSASLAuthenticationError") {
    return "check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE " +
      "(--kafka-sasl-username, --kafka-sasl-password-file)";
  }
  // The last attempt's error may be a torn connection rather than the TLS alert before it,
  // so with TLS configured the TLS settings are always worth checking.
  if (connection.tls !== undefined || /certificate|handshake|alert|tls|ssl/i.test(error.message)) {
    return "check --kafka-brokers (KAFKA_BROKERS), --kafka-security-protocol, " +
      "--kafka-ssl-ca-location (KAFKA_SSL_CA_LOCATION), and the client certificate if the " +
      "brokers require one";
  }
  return "check --kafka-brokers (KAFKA_BROKERS), and --kafka-security-protocol " +
    "(KAFKA_SECURITY_PROTOCOL) if the brokers need TLS or SASL";
}

/**
 * Runs `connect` (a KafkaJS `connect()`); a failure to reach or authenticate with the
 * brokers is rethrown as an {@link UnavailableError} naming the brokers and what to check.
 */
export async function connectKafka(
  connection: KafkaConnection,
  connect: () => Promise<void>,
): Promise<void> {
  try {
    await connect();
  } catch (error) {
    if (!(error instanceof Error) || !UNREACHABLE.has(error.name)) throw error;
    throw new UnavailableError(
      `Kafka at ${connection.brokers.join(",")}: ${error.message}; ${hint(error, connection)}`,
      { cause: error },
    );
  }
}
