/**
 * orderstats flags for the local broker's secured listeners (see
 * devstack/services/kafka_security.ts), appended after `stackFlags()` so their
 * `--kafka-brokers` wins.
 *
 * @module
 */
import { KAFKA_SASL_USER, KAFKA_TLS_FILES } from "../../devstack/services/kafka_security.ts";
import { kafkaSaslBrokers, kafkaSslBrokers } from "../../devstack/lib/env.ts";

/** TLS to the SSL listener, verified against the devstack CA, with the client certificate. */
export function tlsFlags(): string[] {
  return [
    `--kafka-brokers=${kafkaSslBrokers().join(",")}`,
    "--kafka-security-protocol=SSL",
    `--kafka-ssl-ca-location=${KAFKA_TLS_FILES.ca}`,
    `--kafka-ssl-certificate-location=${KAFKA_TLS_FILES.clientCert}`,
    `--kafka-ssl-key-location=${KAFKA_TLS_FILES.clientKey}`,
  ];
}

/** A file holding `password` (with a trailing newline, as editors write it); disposing deletes it. */
export async function passwordFile(password: string): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempFile({ prefix: "orderstats-sasl-" });
  await Deno.writeTextFile(path, `${password}\n`);
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path) };
}

/** SASL over TLS to the SASL_SSL listener, the password read from `passwordPath`. */
export function saslFlags(mechanism: string, passwordPath: string): string[] {
  return [
    `--kafka-brokers=${kafkaSaslBrokers().join(",")}`,
    "--kafka-security-protocol=SASL_SSL",
    `--kafka-ssl-ca-location=${KAFKA_TLS_FILES.ca}`,
    `--kafka-sasl-mechanism=${mechanism}`,
    `--kafka-sasl-username=${KAFKA_SASL_USER.username}`,
    `--kafka-sasl-password-file=${passwordPath}`,
  ];
}
