/**
 * The KafkaJS client, logging through orderstats' JSON logger.
 *
 * @module
 */
import process from "node:process";
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

/** A Kafka client for `brokers`. KafkaJS's own logs below WARN are dropped. */
export function kafkaClient(brokers: string[], clientId = "orderstats"): Kafka {
  muteKafkajsTimerWarning();
  return new Kafka({ clientId, brokers, logLevel: logLevel.WARN, logCreator: toOurLog });
}
