/**
 * The Kafka connection settings of a run: security protocol, TLS files and SASL, checked
 * together (a mechanism without a SASL protocol, a certificate without its key…) and with
 * every file read up front, so a mistake is a configuration error before any connection.
 *
 * @module
 */
import { ConfigError } from "../util/errors.ts";
import type { KafkaConnection, KafkaSasl } from "../sources/kafka/client.ts";
import { mskRegion } from "../sources/kafka/msk_region.ts";
import { OPTIONS } from "./options.ts";

/** Looks up one resolved option by name. */
export type OptionValue = <T>(name: string) => T;

/** `--flag (VARIABLE)`, for messages. */
function named(name: string): string {
  const env = OPTIONS.find((o) => o.name === name)?.env;
  return env === undefined ? `--${name}` : `--${name} (${env})`;
}

function readFile(name: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new ConfigError(`${named(name)}: cannot read "${path}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function readPem(name: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const text = readFile(name, path);
  if (!text.includes("-----BEGIN ")) {
    throw new ConfigError(`${named(name)}: "${path}" is not a PEM file (no -----BEGIN line)`);
  }
  return text;
}

function tlsSettings(get: OptionValue, protocol: string): KafkaConnection["tls"] {
  const files = [
    "kafka-ssl-ca-location",
    "kafka-ssl-certificate-location",
    "kafka-ssl-key-location",
  ];
  if (protocol !== "SSL" && protocol !== "SASL_SSL") {
    const set = files.find((name) => get(name) !== undefined);
    if (set !== undefined) {
      throw new ConfigError(
        `${named(set)} needs ${named("kafka-security-protocol")} SSL or SASL_SSL: got ${protocol}`,
      );
    }
    return undefined;
  }
  if ((get(files[1]) === undefined) !== (get(files[2]) === undefined)) {
    throw new ConfigError(
      `${named(files[1])} and ${named(files[2])} go together: set both or neither`,
    );
  }
  const [ca, cert, key] = files.map((name) => readPem(name, get(name)));
  return { ca, cert, key };
}

function password(get: OptionValue): string {
  const inEnv = get<string | undefined>("kafka-sasl-password");
  const file = get<string | undefined>("kafka-sasl-password-file");
  if (inEnv !== undefined && file !== undefined) {
    throw new ConfigError(
      `set either ${named("kafka-sasl-password")} or ${named("kafka-sasl-password-file")}, ` +
        "not both",
    );
  }
  const value = file === undefined ? inEnv : readFile("kafka-sasl-password-file", file)
    .replace(/\r?\n$/, "");
  if (value === undefined || value === "") {
    throw new ConfigError(
      `${named("kafka-sasl-mechanism")} needs a password: set KAFKA_SASL_PASSWORD or ` +
        named("kafka-sasl-password-file"),
    );
  }
  return value;
}

function mskIamRegion(brokers: string[], env: Record<string, string | undefined>): string {
  const region = mskRegion(brokers[0]) ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION);
  if (region === undefined) {
    throw new ConfigError(
      `${named("kafka-sasl-mechanism")} AWS_MSK_IAM: cannot tell the cluster's region from ` +
        `${named("kafka-brokers")} "${brokers[0]}"; set AWS_REGION`,
    );
  }
  return region;
}

function saslSettings(
  get: OptionValue,
  protocol: string,
  env: Record<string, string | undefined>,
): KafkaSasl | undefined {
  const mechanism = get<KafkaSasl["mechanism"] | undefined>("kafka-sasl-mechanism");
  const sasl = protocol === "SASL_SSL" || protocol === "SASL_PLAINTEXT";
  if (sasl && mechanism === undefined) {
    throw new ConfigError(
      `${named("kafka-security-protocol")} ${protocol} needs ${named("kafka-sasl-mechanism")}: ` +
        "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or AWS_MSK_IAM",
    );
  }
  if (!sasl) {
    if (mechanism === undefined) return undefined;
    throw new ConfigError(
      `${named("kafka-sasl-mechanism")} needs ${named("kafka-security-protocol")} SASL_SSL ` +
        `or SASL_PLAINTEXT: got ${protocol}`,
    );
  }
  if (mechanism === "AWS_MSK_IAM") {
    return { mechanism, region: mskIamRegion(get("kafka-brokers"), env) };
  }
  const username = get<string | undefined>("kafka-sasl-username");
  if (username === undefined) {
    throw new ConfigError(
      `${named("kafka-sasl-mechanism")} ${mechanism} needs ${named("kafka-sasl-username")}`,
    );
  }
  return { mechanism: mechanism!, username, password: password(get) };
}

/**
 * The Kafka connection described by the options, TLS files and the password file read.
 *
 * @throws {ConfigError} naming the flag and variable that is missing, inconsistent or
 * unreadable.
 */
export function kafkaConnection(
  get: OptionValue,
  env: Record<string, string | undefined>,
): KafkaConnection {
  const protocol = get<string>("kafka-security-protocol");
  return {
    brokers: get("kafka-brokers"),
    tls: tlsSettings(get, protocol),
    sasl: saslSettings(get, protocol, env),
  };
}
