/**
 * The KafkaJS client, logging through orderstats' JSON logger.
 *
 * @module
 */
import { Kafka, type logCreator, logLevel } from "kafkajs";
import { type Level, log } from "../../util/log.ts";

const LEVELS: Record<number, Level> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

const toOurLog: logCreator = () => ({ namespace, level, log: entry }) => {
  const { message, timestamp: _t, logger: _l, ...fields } = entry;
  log(LEVELS[level] ?? "info", `kafka: ${message}`, { namespace, ...fields });
};

/** A Kafka client for `brokers`. KafkaJS's own logs below WARN are dropped. */
export function kafkaClient(brokers: string[], clientId = "orderstats"): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.WARN, logCreator: toOurLog });
}
