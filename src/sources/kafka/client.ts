/**
 * The KafkaJS client: TLS and SASL as configured, every compression codec registered,
 * logging through orderstats' JSON logger.
 *
 * @module
 */
import process from "node:process";
import { Kafka, type KafkaConfig, type logCreator, logLevel, type SASLOptions } from "kafkajs";
import { type Level, log, logs } from "../../util/log.ts";
import { registerCodecs } from "./codecs.ts";
import { mskIamTokenProvider } from "./msk_iam.ts";

/** SASL settings: a user and password, or AWS MSK IAM. */
export type KafkaSasl =
  | { mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512"; username: string; password: string }
  | { mechanism: "AWS_MSK_IAM"; region: string };

/** Where the brokers are and how to authenticate; file contents already read. */
export interface KafkaConnection {
  brokers: string[];
  /** TLS, or `undefined` for plaintext. Without `ca` the runtime's root store verifies. */
  tls?: { ca?: string; cert?: string; key?: string };
  sasl?: KafkaSasl;
}

/**
 * KafkaJS logs at ERROR what it retries or recovers from itself (a broker connection that
 * drops, a crash it restarts after), and a rebalance (a worker joining or leaving) at WARN
 * or ERROR. A failure that stops orderstats is logged once by orderstats at error, with its
 * causes; so KafkaJS's own lines are at most warnings, and group membership news is info.
 */
export function kafkaLevel(level: logLevel, message: string, error?: unknown): Level {
  const text = `${message} ${typeof error === "string" ? error : ""}`;
  if (/rebalanc|re-joining the group|not aware of this member/i.test(text)) return "info";
  if (level === logLevel.ERROR || level === logLevel.WARN) return "warn";
  return level === logLevel.INFO ? "info" : "debug";
}

const toOurLog: logCreator = () => ({ namespace, level, log: entry }) => {
  const { message, timestamp: _t, logger: _l, stack, ...fields } = entry;
  const ours = kafkaLevel(level, message, fields.error);
  // Stack traces only at debug.
  log(ours, `kafka: ${message}`, { namespace, ...fields, ...(logs("debug") ? { stack } : {}) });
};

let muted = false;

/**
 * Drops the `TimeoutNegativeWarning` KafkaJS 2.2.4 triggers once per process: its request
 * queue schedules a timer with a negative delay, which the runtime clamps to 1 ms. Every
 * other process warning is still printed.
 */
export function muteKafkajsTimerWarning(): void {
  if (muted) return;
  muted = true;
  const print = process.listeners("warning");
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (warning.name !== "TimeoutNegativeWarning") {
      for (const listener of print) listener(warning);
    }
  });
}

function saslOptions(sasl: KafkaSasl): SASLOptions {
  switch (sasl.mechanism) {
    case "PLAIN":
      return { mechanism: "plain", username: sasl.username, password: sasl.password };
    case "SCRAM-SHA-256":
      return { mechanism: "scram-sha-256", username: sasl.username, password: sasl.password };
    case "SCRAM-SHA-512":
      return { mechanism: "scram-sha-512", username: sasl.username, password: sasl.password };
    case "AWS_MSK_IAM":
      return { mechanism: "oauthbearer", oauthBearerProvider: mskIamTokenProvider(sasl.region) };
  }
}

/** KafkaJS settings for `connection` (no secret of it is ever logged). */
export function kafkaConfig(connection: KafkaConnection, clientId = "orderstats"): KafkaConfig {
  const { brokers, tls, sasl } = connection;
  return {
    clientId,
    brokers,
    ssl: tls && {
      ...(tls.ca === undefined ? {} : { ca: [tls.ca] }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert, key: tls.key }),
    },
    sasl: sasl && saslOptions(sasl),
    logLevel: logLevel.WARN,
    logCreator: toOurLog,
  };
}

/** A Kafka client for `connection`. KafkaJS's own logs below WARN are dropped. */
export function kafkaClient(connection: KafkaConnection, clientId = "orderstats"): Kafka {
  muteKafkajsTimerWarning();
  registerCodecs();
  return new Kafka(kafkaConfig(connection, clientId));
}
