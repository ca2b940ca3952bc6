/**
 * Keeps `orderstats_consumer_lag` fresh between batches: an idle or waiting worker (no
 * batch, or still waiting for the handoff) still reports the backlog on every partition.
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import { groupLag } from "../../sources/kafka/lag.ts";
import type { Series } from "../../util/metrics.ts";
import { errorFields, log } from "../../util/log.ts";

/** How often the group's lag is read from the brokers. */
export const LAG_REFRESH_MS = 5_000;

/** Reads the group's lag into `gauge` now and every {@link LAG_REFRESH_MS} until disposed. */
export function watchLag(
  kafka: Kafka,
  groupId: string,
  topic: string,
  gauge: Series,
): AsyncDisposable {
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  let warned = false;
  const refresh = async () => {
    try {
      connected ??= admin.connect();
      await connected;
      for (const [partition, lag] of await groupLag(admin, groupId, topic)) {
        gauge.set(Number(lag), { partition: String(partition) });
      }
      warned = false;
    } catch (error) {
      connected = undefined;
      // Once per outage: the consumer itself reports Kafka being down.
      if (!warned) log("warn", "cannot read consumer lag", { topic, ...errorFields(error) });
      warned = true;
    }
  };
  let running = refresh();
  const timer = setInterval(() => {
    running = running.then(refresh);
  }, LAG_REFRESH_MS);
  return {
    async [Symbol.asyncDispose]() {
      clearInterval(timer);
      await running;
      await admin.disconnect();
    },
  };
}
