/**
 * A scenario ready for live mode: its table and topic created by `--mode=setup`, and the
 * Debezium stand-in relay writing the collection's changes to the topic.
 *
 * @module
 */
import type { Collection } from "mongodb";
import type { RelayOptions } from "../debezium/relay.ts";
import { type Relay, startRelay } from "./kafka.ts";
import { mongoCollection, orderstatsOk, type Scenario, scenario, stackFlags } from "./scenario.ts";

/** Creates the scenario's table and topic (and any extra setup flags, e.g. a DLQ topic). */
export async function prepare(s: Scenario, partitions = 3, extra: string[] = []): Promise<void> {
  await orderstatsOk([
    "--mode=setup",
    ...stackFlags(s),
    "--create-topic",
    `--topic-partitions=${partitions}`,
    ...extra,
  ]);
}

/** A scenario whose collection's changes a relay is writing to its topic; disposing cleans up. */
export interface RelayedScenario extends AsyncDisposable {
  s: Scenario;
  orders: Collection;
  relay: Relay;
}

/**
 * A fresh scenario: table and topic created (by `--mode=setup` with `setupFlags` added), the
 * relay running from now. `await using` it so the relay stops and the database is dropped
 * whatever the test does.
 */
export async function relayedScenario(
  prefix: string,
  partitions = 3,
  setupFlags: string[] = [],
  relayOptions: Partial<RelayOptions> = {},
): Promise<RelayedScenario> {
  const s = scenario(prefix);
  const mongo = await mongoCollection(s);
  try {
    await prepare(s, partitions, setupFlags);
    const relay = await startRelay(s, relayOptions);
    return {
      s,
      orders: mongo.orders,
      relay,
      async [Symbol.asyncDispose]() {
        await relay.stop();
        await mongo[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await mongo[Symbol.asyncDispose]();
    throw error;
  }
}
